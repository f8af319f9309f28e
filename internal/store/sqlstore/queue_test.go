package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

func TestRowChunkAndInList(t *testing.T) {
	for _, c := range []struct{ n, max, chunk, list int }{
		{1, 128, 1, 8}, {2, 128, 2, 8}, {3, 128, 2, 8}, {8, 128, 8, 8}, {9, 128, 8, 16},
		{100, 128, 64, 128}, {128, 128, 128, 128}, {129, 128, 128, 256}, {500, 128, 128, 512}, {512, 256, 256, 512},
	} {
		if got := rowChunk(c.n, c.max); got != c.chunk {
			t.Errorf("rowChunk(%d, %d) = %d, want %d", c.n, c.max, got, c.chunk)
		}
		if c.n <= idChunk {
			if got := inList(c.n); got != c.list {
				t.Errorf("inList(%d) = %d, want %d", c.n, got, c.list)
			}
		}
	}
}

// TestQueueStatementTexts: claims and outcomes of every size from 1 to 300 rows
// use a handful of statement texts, all prepared once in the writer's cache, not
// one text per size (enqueues keep one statement per change; see enqueueQuery).
func TestQueueStatementTexts(t *testing.T) {
	ctx := context.Background()
	s, db := openSQLite(t)
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	total := 0
	for n := 1; n <= 300; n++ {
		err := s.Update(ctx, func(tx store.Tx) error {
			ns := make([]*store.Notification, n)
			for i := range ns {
				ns[i] = &store.Notification{URL: "https://t.test/", Tenant: "t", SubscriptionID: "s", Event: "created", Created: now}
			}
			if err := tx.Enqueue(ctx, ns); err != nil {
				return err
			}
			got, err := tx.ClaimNotifications(ctx, "https://t.test/", "", now, now, n)
			if err != nil {
				return err
			}
			if len(got) != n {
				return fmt.Errorf("claimed %d rows, want %d", len(got), n)
			}
			var as []store.Attempt
			var retry []store.Retry
			var done []int64
			for i, g := range got {
				as = append(as, store.Attempt{NotificationID: g.ID, Number: 1, Started: now, StatusCode: 202})
				if i%2 == 0 {
					done = append(done, g.ID)
				} else {
					retry = append(retry, store.Retry{ID: g.ID, Scheduled: now.Add(time.Hour)})
				}
			}
			if err := tx.RecordAttempts(ctx, as); err != nil {
				return err
			}
			moved, err := tx.MarkDelivered(ctx, done, now)
			if err != nil {
				return err
			}
			again, err := tx.RetryNotifications(ctx, retry, "HTTP 500")
			if err != nil {
				return err
			}
			if moved+again != n {
				return fmt.Errorf("outcomes moved %d + %d rows, want %d", moved, again, n)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%d rows: %v", n, err)
		}
		total += n
	}
	var rows, attempts int
	if err := db.QueryRow(`SELECT COUNT(*) FROM notifications`).Scan(&rows); err != nil || rows != total {
		t.Errorf("rows = %d, %v; want %d", rows, err, total)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM delivery_attempts`).Scan(&attempts); err != nil || attempts != total {
		t.Errorf("attempts = %d, %v; want %d", attempts, err, total)
	}
	texts := map[string]int{}
	s.stmts.mu.RLock()
	for q := range s.stmts.stmts[db] {
		for _, kind := range []string{"INSERT INTO delivery_attempts", "UPDATE notifications SET state = 'running'",
			"UPDATE notifications SET state = 'delivered'", "UPDATE notifications SET state = 'retryable'"} {
			if strings.HasPrefix(q, kind) {
				texts[kind]++
			}
		}
	}
	s.stmts.mu.RUnlock()
	// Attempts: 1, 2, 4, … 256 rows; IN and VALUES lists: 8, 16, … 512.
	for kind, most := range map[string]int{"INSERT INTO delivery_attempts": 9, "UPDATE notifications SET state = 'running'": 7,
		"UPDATE notifications SET state = 'delivered'": 7, "UPDATE notifications SET state = 'retryable'": 7} {
		if texts[kind] == 0 || texts[kind] > most {
			t.Errorf("%s…: %d statement texts, want 1 to %d", kind, texts[kind], most)
		}
	}
}
