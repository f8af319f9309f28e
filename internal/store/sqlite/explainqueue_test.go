package sqlite_test

import (
	"testing"

	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestQueueReadsItsIndexes: a claim, the rescuer and the heartbeats' prune find
// their rows through the queue's partial indexes, not among the delivered rows kept
// for the delivery log (see storetest.RunExplainQueue).
func TestQueueReadsItsIndexes(t *testing.T) {
	s := openFresh(t)
	storetest.RunExplainQueue(t, s, s.ExplainQueue, nil)
}
