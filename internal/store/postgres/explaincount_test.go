package postgres_test

import (
	"testing"

	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestCountsReadAnIndex: counts read an index, not the table, with the planner's
// statistics fresh (see storetest.RunExplainCounts).
func TestCountsReadAnIndex(t *testing.T) {
	s, analyze := openToExplain(t)
	storetest.RunExplainCounts(t, s, s.ExplainCount, false, analyze)
}
