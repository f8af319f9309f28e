package postgres_test

import (
	"context"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestCountsReadAnIndex: counts read an index, not the table, with the planner's
// statistics fresh (see storetest.RunExplainCounts).
func TestCountsReadAnIndex(t *testing.T) {
	s, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	analyze := func(ctx context.Context) error {
		return s.Update(ctx, func(tx store.Tx) error { return s.Analyze(ctx, tx) })
	}
	storetest.RunExplainCounts(t, s, s.ExplainCount, false, analyze)
}
