package sqlite_test

import (
	"context"
	"testing"

	"github.com/graphhook/graphhook/internal/store/sqlite"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestQueueReadsItsIndexes: a claim, the rescuer and the heartbeats' prune find
// their rows through the queue's partial indexes, not among the delivered rows kept
// for the delivery log (see storetest.RunExplainQueue).
func TestQueueReadsItsIndexes(t *testing.T) {
	s, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir(), Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.RunExplainQueue(t, s, s.ExplainQueue, nil)
}
