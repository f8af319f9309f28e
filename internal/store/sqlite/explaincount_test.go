package sqlite_test

import (
	"context"
	"testing"

	"github.com/graphhook/graphhook/internal/store/sqlite"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestCountsReadAnIndex: counts read an index, not the table (see
// storetest.RunExplainCounts), even on a fresh file.
func TestCountsReadAnIndex(t *testing.T) {
	s, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir(), Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.RunExplainCounts(t, s, s.ExplainCount, true, nil)
}
