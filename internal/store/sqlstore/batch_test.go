package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// batchOf runs fns as one batch of the writer, in order, and returns their results:
// an Update holds the writer until the others are queued behind it.
func batchOf(t *testing.T, s *Store, fns ...func(store.Tx) error) []error {
	t.Helper()
	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	holder := make(chan error, 1)
	go func() {
		holder <- s.Update(ctx, func(tx store.Tx) error {
			once.Do(func() { close(held) })
			<-release
			return nil
		})
	}()
	within(t, held, "the writer to take the holding Update")
	results := make([]chan error, len(fns))
	for i, fn := range fns {
		results[i] = make(chan error, 1)
		go func() { results[i] <- s.Update(ctx, fn) }()
		queued(t, s, i+1)
	}
	close(release)
	if err := within(t, holder, "the holding Update"); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, len(fns))
	for i := range fns {
		errs[i] = within(t, results[i], fmt.Sprintf("Update %d of the batch", i))
	}
	return errs
}

// queued waits until n Updates wait for the writer.
func queued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(s.reqs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d Updates queued after 20 s, want %d", len(s.reqs), n)
		}
		runtime.Gosched()
	}
}

// counted inserts id, counting its runs and its AfterCommit calls, and fails with
// fail after writing when fail is set.
type counted struct {
	id          string
	fail        error
	panics      bool
	runs, after atomic.Int64
}

func (c *counted) fn(tx store.Tx) error {
	c.runs.Add(1)
	tx.AfterCommit(func() { c.after.Add(1) })
	if err := tx.InsertObject(context.Background(), &store.Object{Tenant: "t", Kind: "k", ID: c.id, Data: []byte(`{}`)}); err != nil {
		return err
	}
	if c.panics {
		panic("boom")
	}
	return c.fail
}

func exists(t *testing.T, s *Store, id string) bool {
	t.Helper()
	var found bool
	err := s.View(context.Background(), func(tx store.Tx) error {
		_, err := tx.GetObject(context.Background(), "t", "k", id)
		found = err == nil
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestOptimisticBatch: a batch whose requests all succeed runs each once, without
// savepoints; one that meets a failure (an error or a panic) runs again with them,
// so that the failing request's writes alone are undone, and the next batch takes
// savepoints from the start. AfterCommit functions run once per committed request,
// never for a failed one.
func TestOptimisticBatch(t *testing.T) {
	s, _ := openSQLite(t)
	ok := []*counted{{id: "a"}, {id: "b"}, {id: "c"}}
	errs := batchOf(t, s, ok[0].fn, ok[1].fn, ok[2].fn)
	for i, c := range ok {
		if errs[i] != nil || c.runs.Load() != 1 || c.after.Load() != 1 || !exists(t, s, c.id) {
			t.Errorf("%s: err %v, %d runs, %d AfterCommit calls, stored %v; want nil, 1, 1, true", c.id, errs[i], c.runs.Load(), c.after.Load(), exists(t, s, c.id))
		}
	}
	if s.optimism.stretch != 0 || s.optimism.left != 0 {
		t.Errorf("after a clean batch: careful stretch %d, left %d; want 0, 0", s.optimism.stretch, s.optimism.left)
	}

	boom := errors.New("boom")
	for _, bad := range []*counted{{id: "bad-error", fail: boom}, {id: "bad-panic", panics: true}} {
		t.Run(bad.id, func(t *testing.T) {
			before, after := &counted{id: bad.id + "-before"}, &counted{id: bad.id + "-after"}
			errs := batchOf(t, s, before.fn, bad.fn, after.fn)
			if bad.panics {
				if errs[1] == nil {
					t.Errorf("panicking request: nil error")
				}
			} else if !errors.Is(errs[1], boom) {
				t.Errorf("failing request: %v, want boom", errs[1])
			}
			if exists(t, s, bad.id) || bad.after.Load() != 0 {
				t.Errorf("failing request: stored %v, %d AfterCommit calls; want false, 0", exists(t, s, bad.id), bad.after.Load())
			}
			// The request before the failure ran in the optimistic pass, rolled back,
			// and again in the careful one; the one after, which the optimistic pass
			// never reached, ran once.
			for i, c := range []*counted{before, after} {
				if runs := int64(2 - i); errs[2*i] != nil || c.runs.Load() != runs || c.after.Load() != 1 || !exists(t, s, c.id) {
					t.Errorf("%s: err %v, %d runs, %d AfterCommit calls, stored %v; want nil, %d, 1, true", c.id, errs[2*i], c.runs.Load(), c.after.Load(), exists(t, s, c.id), runs)
				}
			}
			if s.optimism.left != 1 {
				t.Fatalf("after a failed optimistic batch %d careful batches are to come, want 1", s.optimism.left)
			}
			// The next batch is careful: it meets its failure in a savepoint and runs once.
			next, bad2 := &counted{id: bad.id + "-next"}, &counted{id: bad.id + "-bad2", fail: boom}
			errs = batchOf(t, s, next.fn, bad2.fn)
			if errs[0] != nil || next.runs.Load() != 1 || !exists(t, s, next.id) || !errors.Is(errs[1], boom) || exists(t, s, bad2.id) {
				t.Errorf("careful batch: errs %v, %d runs of the good request, stored %v/%v; want nil/boom, 1, true/false", errs, next.runs.Load(), exists(t, s, next.id), exists(t, s, bad2.id))
			}
			s.optimism = optimism{}
		})
	}
}

// TestCarefulStretch: each optimistic batch that fails doubles the stretch of
// careful batches after it, up to maxCareful; each that does not halves it.
func TestCarefulStretch(t *testing.T) {
	var o optimism
	var stretches []int
	for range 8 {
		if o.careful() {
			t.Fatal("careful with no careful batch left")
		}
		o.failed()
		stretches = append(stretches, o.stretch)
		for range o.stretch {
			if !o.careful() {
				t.Fatalf("stretch %d: optimistic before its end", o.stretch)
			}
		}
	}
	if fmt.Sprint(stretches) != "[1 2 4 8 16 32 64 64]" {
		t.Errorf("stretches %v, want [1 2 4 8 16 32 64 64]", stretches)
	}
	o.succeeded()
	o.succeeded()
	if o.stretch != 16 || o.careful() {
		t.Errorf("after two clean batches: stretch %d, careful %v; want 16, false", o.stretch, o.careful())
	}
}

// TestRerunBatches: with RerunBatches every request runs twice, a lone one too, and
// what is kept is the second run: one row, one AfterCommit call.
func TestRerunBatches(t *testing.T) {
	s, _ := openSQLiteWith(t, Config{GroupCommit: true, RerunBatches: true})
	lone := &counted{id: "lone"}
	if err := s.Update(context.Background(), lone.fn); err != nil {
		t.Fatal(err)
	}
	a, bad := &counted{id: "a"}, &counted{id: "bad", fail: errors.New("boom")}
	errs := batchOf(t, s, a.fn, bad.fn)
	for _, c := range []*counted{lone, a} {
		if c.runs.Load() != 2 || c.after.Load() != 1 || !exists(t, s, c.id) {
			t.Errorf("%s: %d runs, %d AfterCommit calls, stored %v; want 2, 1, true", c.id, c.runs.Load(), c.after.Load(), exists(t, s, c.id))
		}
	}
	if errs[0] != nil || errs[1] == nil || exists(t, s, "bad") || bad.after.Load() != 0 {
		t.Errorf("batch: errs %v, failing request stored %v with %d AfterCommit calls; want nil/boom, false, 0", errs, exists(t, s, "bad"), bad.after.Load())
	}
}

// TestAfterCommitNotInView: a View commits nothing, so what it registers never runs.
func TestAfterCommitNotInView(t *testing.T) {
	s, _ := openSQLite(t)
	var ran atomic.Bool
	if err := s.View(context.Background(), func(tx store.Tx) error {
		tx.AfterCommit(func() { ran.Store(true) })
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if ran.Load() {
		t.Error("AfterCommit ran for a View")
	}
}
