package postgres_test

import (
	"testing"

	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestLinksReadAnIndex: a page or a count of a group's members or a user's groups
// reads the links in their index's order and each object by its primary key, with
// the planner's statistics fresh (see storetest.RunExplainVia).
func TestLinksReadAnIndex(t *testing.T) {
	s, analyze := openToExplain(t)
	storetest.RunExplainVia(t, s, s.ExplainObjects, s.ExplainCount, "Sort", "objects_pkey", analyze)
}
