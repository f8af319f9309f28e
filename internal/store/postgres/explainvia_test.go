package postgres_test

import (
	"context"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestLinksReadAnIndex: a page or a count of a group's members or a user's groups
// reads the links in their index's order and each object by its primary key, with
// the planner's statistics fresh (see storetest.RunExplainVia).
func TestLinksReadAnIndex(t *testing.T) {
	s, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	analyze := func(ctx context.Context) error {
		return s.Update(ctx, func(tx store.Tx) error { return s.Analyze(ctx, tx) })
	}
	storetest.RunExplainVia(t, s, s.ExplainObjects, s.ExplainCount, "Sort", "objects_pkey", analyze)
}
