package sqlite_test

import (
	"testing"

	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestLinksReadAnIndex: a page or a count of a group's members or a user's groups
// reads the links in their index's order and each object by its primary key (see
// storetest.RunExplainVia), even on a fresh file.
func TestLinksReadAnIndex(t *testing.T) {
	s := openFresh(t)
	storetest.RunExplainVia(t, s, s.ExplainObjects, s.ExplainCount, "TEMP B-TREE", "USING INDEX objects_id", nil)
}
