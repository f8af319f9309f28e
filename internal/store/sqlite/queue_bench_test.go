package sqlite_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/sqlite"
)

// BenchmarkQueue measures one notification's way through the queue on the embedded
// store, as the batched bench drives it: enqueued 100 to a change, claimed 800 at a
// time, acknowledged with one attempt each. ns/op and cpu-ns/op (the process's CPU
// time, steadier on a shared machine) are per notification; synchronous is OFF, so
// that the figures are the queue's statements and not the disk's flushes.
func BenchmarkQueue(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, sqlite.Config{Dir: b.TempDir(), Synchronous: "OFF"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	payload := []byte(`"resourceData":{"@odata.type":"#Microsoft.Graph.Message","@odata.id":"Users/0b3c/Messages/AAMkAGI2THVSAAA=","@odata.etag":"W/\"CQAAABYAAAC\"","id":"AAMkAGI2THVSAAA="}`)
	now := time.Now()
	const perChange, perClaim = 100, 800
	n := max(b.N, perClaim) // rounded up to whole claims
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/op") }()
	for done := 0; done < n; done += perClaim {
		for c := 0; c < perClaim/perChange; c++ {
			rows := make([]*store.Notification, perChange)
			for i := range rows {
				rows[i] = &store.Notification{URL: "http://127.0.0.1:1/batched", Tenant: "t", SubscriptionID: fmt.Sprintf("sub-%03d", i),
					ResourceType: "message", Event: "created", Resource: "Users/0b3c/Messages/AAMkAGI2THVSAAA=", Payload: payload, Seq: int64(done + c), Created: now}
			}
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.Enqueue(ctx, rows) }); err != nil {
				b.Fatal(err)
			}
		}
		var got []store.Notification
		if err := s.Update(ctx, func(tx store.Tx) error {
			var err error
			got, err = tx.ClaimNotifications(ctx, "http://127.0.0.1:1/batched", "", now, now, perClaim)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		ids := make([]int64, len(got))
		as := make([]store.Attempt, len(got))
		for i, g := range got {
			ids[i] = g.ID
			as[i] = store.Attempt{NotificationID: g.ID, Number: g.Attempt, Started: now, StatusCode: 202, Latency: time.Millisecond}
		}
		if err := s.Update(ctx, func(tx store.Tx) error {
			if err := tx.RecordAttempts(ctx, as); err != nil {
				return err
			}
			_, err := tx.MarkDelivered(ctx, ids, now)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime is the process's CPU time so far: on a machine shared with other work,
// wall time per operation says little.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEnqueue100 measures the matcher's insert of one change's 100 rows;
// ns/op is per row.
func BenchmarkEnqueue100(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, sqlite.Config{Dir: b.TempDir(), Synchronous: "OFF"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	payload := []byte(`"resourceData":{"@odata.type":"#Microsoft.Graph.Message","@odata.id":"Users/0b3c/Messages/AAMkAGI2THVSAAA=","@odata.etag":"W/\"CQAAABYAAAC\"","id":"AAMkAGI2THVSAAA="}`)
	now := time.Now()
	n := max(b.N, 100)
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/op") }()
	for done := 0; done < n; done += 100 {
		rows := make([]*store.Notification, 100)
		for i := range rows {
			rows[i] = &store.Notification{URL: "http://127.0.0.1:1/batched", Tenant: "t", SubscriptionID: fmt.Sprintf("sub-%03d", i),
				ResourceType: "message", Event: "created", Resource: "Users/0b3c/Messages/AAMkAGI2THVSAAA=", Payload: payload, Seq: int64(done), Created: now}
		}
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.Enqueue(ctx, rows) }); err != nil {
			b.Fatal(err)
		}
	}
}
