package sqlite_test

import (
	"testing"

	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestCountsReadAnIndex: counts read an index, not the table (see
// storetest.RunExplainCounts), even on a fresh file.
func TestCountsReadAnIndex(t *testing.T) {
	s := openFresh(t)
	storetest.RunExplainCounts(t, s, s.ExplainCount, true, nil)
}
