package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/postgres"
)

// TestUpdateQueueClaims claims and acknowledges rows in READ COMMITTED transactions
// (UpdateQueue) while SERIALIZABLE writers queue more for the same URL: every row is
// claimed once and delivered once, and no transaction fails.
func TestUpdateQueueClaims(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, postgres.Config{URL: pgtest.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers, each, url = 4, 40, "http://127.0.0.1:1/hook"
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := s.Update(ctx, func(tx store.Tx) error {
					return tx.Enqueue(ctx, []*store.Notification{{URL: url, Tenant: "t", SubscriptionID: "s", Event: "created", Payload: []byte(`{}`), Created: time.Now()}})
				})
				if err != nil {
					t.Errorf("Enqueue: %v", err)
				}
			}
		}()
	}
	var delivered atomic.Int64
	var mu sync.Mutex
	claimed := map[int64]int{}
	deadline := time.Now().Add(30 * time.Second)
	var cw sync.WaitGroup
	for c := range 3 {
		cw.Add(1)
		go func() {
			defer cw.Done()
			for delivered.Load() < writers*each && time.Now().Before(deadline) {
				err := s.UpdateQueue(ctx, func(tx store.Tx) error {
					now := time.Now()
					rows, err := tx.ClaimNotifications(ctx, url, "node", now, now, 10)
					if err != nil || len(rows) == 0 {
						return err
					}
					ids := make([]int64, len(rows))
					for i, n := range rows {
						ids[i] = n.ID
					}
					n, err := tx.MarkDelivered(ctx, ids, now)
					if err != nil {
						return err
					}
					if n != len(ids) {
						t.Errorf("claimer %d: MarkDelivered = %d, want %d", c, n, len(ids))
					}
					mu.Lock()
					for _, id := range ids {
						claimed[id]++
					}
					mu.Unlock()
					delivered.Add(int64(n))
					return nil
				})
				if err != nil {
					t.Errorf("claimer %d: UpdateQueue = %v", c, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	cw.Wait()
	if got := delivered.Load(); got != writers*each {
		t.Fatalf("delivered = %d, want %d", got, writers*each)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("row %d claimed and delivered %d times, want once", id, n)
		}
	}
}
