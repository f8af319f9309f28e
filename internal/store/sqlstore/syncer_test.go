package sqlstore

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// flushGate is a Sync that tests hold: each flush announces itself on entered and
// waits for a value on release, which it returns, until free lets every flush
// through (registered as a cleanup, so that a test that fails early still closes
// its store).
type flushGate struct {
	entered chan struct{}
	release chan error
	freed   chan struct{}
	calls   atomic.Int64
}

func newFlushGate() *flushGate {
	return &flushGate{entered: make(chan struct{}, 16), release: make(chan error), freed: make(chan struct{})}
}

func (g *flushGate) sync() error {
	g.calls.Add(1)
	select {
	case g.entered <- struct{}{}:
	case <-g.freed:
		return nil
	}
	select {
	case err := <-g.release:
		return err
	case <-g.freed:
		return nil
	}
}

// open opens a store over SQLite whose Sync is g; g lets every flush through
// before the store closes at the test's end.
func (g *flushGate) open(t *testing.T) *Store {
	s, _ := openSQLiteWith(t, Config{GroupCommit: true, Sync: g.sync})
	t.Cleanup(func() { close(g.freed) })
	return s
}

// heldUpdate starts an Update that inserts id and returns, once the flush of its
// batch has begun (and is held), the channel its result will come on.
func (g *flushGate) heldUpdate(t *testing.T, s *Store, id string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Update(context.Background(), insert(id)) }()
	within(t, g.entered, "the flush of "+id+"'s batch")
	return done
}

// within fails the test unless ch yields within a generous bound (a guard against
// a hang, not a measure).
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: nothing after 20 s", what)
		panic("unreachable")
	}
}

// insert writes an object and asks for Committed to be signalled, as a change does.
func insert(id string) func(tx store.Tx) error {
	return func(tx store.Tx) error {
		tx.(*Tx).MarkSignal()
		return tx.InsertObject(context.Background(), &store.Object{Tenant: "t", Kind: "k", ID: id, Data: []byte(`{}`)})
	}
}

// TestSyncedCommits: with Sync, the writer goes on to its next batch while a
// flush runs; an Update returns, and a View that read a commit returns, only after
// a flush that began once the commit was made; Committed is signalled then too. A
// View marked ReadsForItself returns without waiting.
func TestSyncedCommits(t *testing.T) {
	ctx := context.Background()
	g := newFlushGate()
	s := g.open(t)
	for len(s.Committed()) > 0 {
		<-s.Committed()
	}

	doneA := g.heldUpdate(t, s, "a")
	select {
	case err := <-doneA:
		t.Fatalf("Update returned (%v) while its commit's flush had not finished", err)
	default:
	}

	// The writer runs b's transaction while a's flush is held.
	bRan := make(chan struct{})
	doneB := make(chan error, 1)
	go func() {
		doneB <- s.Update(ctx, func(tx store.Tx) error {
			close(bRan)
			return insert("b")(tx)
		})
	}()
	within(t, bRan, "b's transaction during a's flush")

	// A View that reads a (committed, not yet durable) waits for the flush.
	var released atomic.Bool
	doneV := make(chan error, 1)
	go func() {
		doneV <- s.View(ctx, func(tx store.Tx) error {
			_, err := tx.GetObject(ctx, "t", "k", "a")
			return err
		})
	}()
	for deadline := time.Now().Add(20 * time.Second); ; runtime.Gosched() {
		s.sy.mu.Lock()
		waiting := s.sy.waiting
		s.sy.mu.Unlock()
		if waiting > 0 {
			break
		}
		select {
		case err := <-doneV:
			t.Fatalf("View of a commit not yet durable returned (%v) before its flush", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the View neither waited nor returned")
		}
	}
	select {
	case <-s.Committed():
		t.Fatal("Committed was signalled before the commit was durable")
	default:
	}
	// A View whose results stay in the process does not wait for the flush.
	doneOwn := make(chan error, 1)
	go func() {
		doneOwn <- s.View(store.ReadsForItself(ctx), func(tx store.Tx) error {
			_, err := tx.GetObject(ctx, "t", "k", "a")
			return err
		})
	}()
	if err := within(t, doneOwn, "a View marked ReadsForItself during the flush"); err != nil {
		t.Fatal(err)
	}
	released.Store(true)
	g.release <- nil
	if err := within(t, doneA, "a's Update after its flush"); err != nil {
		t.Fatal(err)
	}
	// b committed after a's flush began: its own flush follows.
	within(t, g.entered, "the flush of b's batch")
	g.release <- nil
	for _, ch := range []chan error{doneB, doneV} {
		if err := within(t, ch, "b's Update and the View"); err != nil {
			t.Fatal(err)
		}
	}
	within(t, s.Committed(), "Committed after the flushes")
	if !released.Load() {
		t.Fatal("unreachable")
	}

	// A View with nothing committed since the last flush does not wait for one.
	calls := g.calls.Load()
	if err := s.View(ctx, func(tx store.Tx) error { _, err := tx.GetObject(ctx, "t", "k", "b"); return err }); err != nil {
		t.Fatal(err)
	}
	if g.calls.Load() != calls {
		t.Fatal("a View with nothing to flush caused a flush")
	}
}

// TestFailedFlush: a flush that fails fails the writes it covered and every write
// and read after it, which cannot know what the disk kept; Ping (health) reports it.
func TestFailedFlush(t *testing.T) {
	ctx := context.Background()
	g := newFlushGate()
	s := g.open(t)
	done := g.heldUpdate(t, s, "a")
	lost := errors.New("disk gone")
	g.release <- lost
	if err := within(t, done, "the Update"); !errors.Is(err, lost) {
		t.Fatalf("Update after a failed flush = %v, want %v", err, lost)
	}
	if err := s.Update(ctx, insert("b")); !errors.Is(err, lost) {
		t.Fatalf("a later Update = %v, want %v", err, lost)
	}
	if err := s.View(ctx, func(store.Tx) error { return nil }); !errors.Is(err, lost) {
		t.Fatalf("a later View = %v, want %v", err, lost)
	}
	if err := s.Ping(ctx); !errors.Is(err, lost) {
		t.Fatalf("Ping after a failed flush = %v, want %v", err, lost)
	}
}

// TestCloseFlushes: Close returns once the last batch is flushed and its callers
// answered.
func TestCloseFlushes(t *testing.T) {
	g := newFlushGate()
	s := g.open(t)
	done := g.heldUpdate(t, s, "a")
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	g.release <- nil
	if err := within(t, done, "the Update"); err != nil {
		t.Fatal(err)
	}
	within(t, closed, "Close")
}
