package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
)

// wait fails the test unless ch receives within the deadline.
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing within 10s", what)
	}
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

func open(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{URL: url})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendChange(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "user", ID: "u", ChangeType: store.Updated, Topics: []string{"users"}})
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// TestCommitWakesOtherNode runs two stores on one database, as two nodes do: a
// commit on A wakes B's Committed, also after B's LISTEN connection was killed.
func TestCommitWakesOtherNode(t *testing.T) {
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	wait(t, b.notify.listening, "B listening")
	wait(t, a.notify.listening, "A listening")

	drain(b.Committed())
	appendChange(t, a)
	wait(t, b.Committed(), "B's Committed after a commit on A")

	// Kill B's listening connection from the server side; B must reconnect.
	var killed int
	err := a.db.QueryRow(`SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) k`,
		"graphhook-listen-"+b.notify.self).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminate B's listener = %d, %v, want 1, nil", killed, err)
	}
	wait(t, b.notify.listening, "B listening again after its connection was killed")
	drain(b.Committed())
	appendChange(t, a)
	wait(t, b.Committed(), "B's Committed after a commit on A, after reconnecting")

	// Kill A's sending connection: the next commit's NOTIFY goes out on a new one.
	err = b.db.QueryRow(`SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) k`,
		notifyAppPrefix+a.notify.self).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminate A's sender = %d, %v, want 1, nil", killed, err)
	}
	drain(b.Committed())
	appendChange(t, a)
	wait(t, b.Committed(), "B's Committed after a commit on A, after A's sender was killed")
}

// TestQuietCommitDoesNotNotify: a commit with nothing for a dispatcher sends no
// NOTIFY (the poke channel stays empty), so plain resource writes cost nothing extra.
func TestQuietCommitDoesNotNotify(t *testing.T) {
	s := open(t, pgtest.URL(t))
	ctx := context.Background()
	s.notify.cancel() // stop the sender, so a poke would stay visible
	s.notify.wg.Wait()
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "user", ID: "u", Data: []byte(`{}`)})
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if len(s.notify.poke) != 0 {
		t.Errorf("pending NOTIFYs after a commit without changes = %d, want 0", len(s.notify.poke))
	}
	appendChange(t, s)
	if len(s.notify.poke) != 1 {
		t.Errorf("pending NOTIFYs after a commit with a change = %d, want 1", len(s.notify.poke))
	}
}
