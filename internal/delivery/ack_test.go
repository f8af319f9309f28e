package delivery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/sqlite"
)

// TestWriteAcksMixedOutcomes: the outcomes of several POSTs written together, as
// the acker gathers them, in one transaction of few statements: delivered rows,
// retries with their own due times under two failure texts, rows past the horizon,
// rows that could not be rendered, and a row that moved on meanwhile (left alone).
// Each row ends where its own POST's outcome says, with its attempt in the log.
func TestWriteAcksMixedOutcomes(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Dir: t.TempDir(), Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewFixed(t0)
	p, err := New(Config{}, Options{Store: st, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://acks.test/hook"
	var ns []*store.Notification
	for i := range 10 {
		ns = append(ns, &store.Notification{URL: url, Tenant: "t", SubscriptionID: fmt.Sprintf("s%d", i%3), Event: "created",
			Resource: fmt.Sprintf("Users/u/Messages/m%d", i), Payload: []byte(`"resourceData":{}`), Created: t0})
	}
	var claimed []store.Notification
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := tx.Enqueue(ctx, ns); err != nil {
			return err
		}
		var err error
		claimed, err = tx.ClaimNotifications(ctx, url, "", t0, t0, 10)
		if err != nil {
			return err
		}
		// Row 9 is taken back (by the rescuer, say) before its outcome is written.
		_, err = tx.ReleaseNotifications(ctx, []int64{ns[9].ID}, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 10 {
		t.Fatalf("claimed %d rows, want 10", len(claimed))
	}
	id := func(i int) int64 { return ns[i].ID }
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tried := func(status int, reason string, rows ...int) []store.Attempt {
		var out []store.Attempt
		for _, i := range rows {
			out = append(out, store.Attempt{NotificationID: id(i), Number: 1, Started: t0, StatusCode: status, Latency: time.Millisecond, Error: reason})
		}
		return out
	}
	acks := []*ack{
		{url: url, delivered: []int64{id(0), id(1)}, attempts: tried(202, "", 0, 1)},
		{url: url, retryErr: "HTTP 500", retry: []store.Retry{{ID: id(2), Scheduled: at(1)}, {ID: id(3), Scheduled: at(2)}},
			attempts: tried(500, "HTTP 500", 2, 3)},
		{url: url, retryErr: "HTTP 503", retry: []store.Retry{{ID: id(4), Scheduled: at(3)}}, expired: []int64{id(5)},
			attempts: tried(503, "HTTP 503", 4, 5)},
		{url: url, retryErr: "HTTP 500", retry: []store.Retry{{ID: id(6), Scheduled: at(4)}}, attempts: tried(500, "HTTP 500", 6),
			discard: []int64{id(7)}, discardErr: "resource data could not be encrypted"},
		{url: url, delivered: []int64{id(8), id(9)}, attempts: tried(202, "", 8, 9)},
	}
	if err := p.writeAcks(ctx, acks); err != nil {
		t.Fatalf("writeAcks: %v", err)
	}
	type outcome struct {
		state     store.NotificationState
		scheduled time.Time
		err       string
	}
	want := []outcome{
		{store.NotificationDelivered, t0, ""},
		{store.NotificationDelivered, t0, ""},
		{store.NotificationRetryable, at(1), "HTTP 500"},
		{store.NotificationRetryable, at(2), "HTTP 500"},
		{store.NotificationRetryable, at(3), "HTTP 503"},
		{store.NotificationDiscarded, t0, "retry horizon passed: HTTP 503"},
		{store.NotificationRetryable, at(4), "HTTP 500"},
		{store.NotificationDiscarded, t0, "resource data could not be encrypted"},
		{store.NotificationDelivered, t0, ""},
		{store.NotificationAvailable, t0, ""}, // moved on before its outcome: left alone
	}
	err = st.View(ctx, func(tx store.Tx) error {
		var all []int64
		for i, w := range want {
			all = append(all, id(i))
			n, err := tx.GetNotification(ctx, id(i))
			if err != nil {
				return err
			}
			if n.State != w.state || !n.Scheduled.Equal(w.scheduled) || n.Error != w.err {
				t.Errorf("row %d: state %q, scheduled %v, error %q; want %q, %v, %q", i, n.State, n.Scheduled, n.Error, w.state, w.scheduled, w.err)
			}
		}
		log, err := tx.Attempts(ctx, all)
		if err != nil {
			return err
		}
		for i := range want {
			got := log[id(i)]
			if i == 7 {
				// Not rendered, not tried.
				if len(got) != 0 {
					t.Errorf("row 7: attempts %+v, want none", got)
				}
				continue
			}
			if len(got) != 1 || got[0].Number != 1 {
				t.Errorf("row %d: attempts %+v, want the one try", i, got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
