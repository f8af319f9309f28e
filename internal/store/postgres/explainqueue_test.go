package postgres_test

import (
	"testing"

	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestQueueReadsItsIndexes: a claim, the rescuer and the heartbeats' prune find
// their rows through the queue's partial indexes, with the planner's statistics
// fresh (see storetest.RunExplainQueue).
func TestQueueReadsItsIndexes(t *testing.T) {
	s, analyze := openToExplain(t)
	storetest.RunExplainQueue(t, s, s.ExplainQueue, analyze)
}
