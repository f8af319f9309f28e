package sqlstore

import (
	"fmt"
	"sync"
)

// The syncer lets the group-commit writer commit without waiting for the disk
// (Config.Sync): the writer commits a batch and goes on to the next, while the
// syncer makes what was committed durable and only then answers the batch's
// callers and signals Committed. A View that ends while a commit is not yet durable
// waits for it too, so that nothing outside the process (an API answer, a
// notification, which is claimed in a write of its own) ever shows a write the
// disk may not keep. One Sync covers every batch committed before it started, so
// under load each flush serves several batches.
type syncer struct {
	flush func() error

	mu   sync.Mutex
	cond *sync.Cond
	// committed counts the batches committed, durable those made durable.
	committed, durable int64
	pending            []syncedBatch
	// err is the first Sync failure: the disk may have dropped what it held, so
	// every later write and read fails with it.
	err error
	// done is set when the writer has stopped: the syncer then stops once nothing
	// is pending.
	done bool
	// waiting counts the Views waiting in wait (for tests).
	waiting int
}

// syncedBatch is a committed batch waiting for its Sync.
type syncedBatch struct {
	reqs   []*writeReq
	errs   []error
	signal bool
}

func newSyncer(flush func() error) *syncer {
	y := &syncer{flush: flush}
	y.cond = sync.NewCond(&y.mu)
	return y
}

// failed is the sticky Sync failure, if any.
func (y *syncer) failed() error {
	y.mu.Lock()
	defer y.mu.Unlock()
	return y.err
}

// add hands a committed batch to the syncer; reqs is the writer's slice, copied.
func (y *syncer) add(reqs []*writeReq, errs []error, signal bool) {
	y.mu.Lock()
	y.committed++
	y.pending = append(y.pending, syncedBatch{reqs: append([]*writeReq(nil), reqs...), errs: errs, signal: signal})
	y.mu.Unlock()
	y.cond.Broadcast()
}

// stop tells the syncer that no batch will come after those added.
func (y *syncer) stop() {
	y.mu.Lock()
	y.done = true
	y.mu.Unlock()
	y.cond.Broadcast()
}

// run makes pending batches durable until stop, then answers their callers;
// committed is called after each Sync that covered a batch asking for a signal.
func (y *syncer) run(committed func()) {
	for {
		y.mu.Lock()
		for len(y.pending) == 0 && !y.done {
			y.cond.Wait()
		}
		if len(y.pending) == 0 {
			y.mu.Unlock()
			return
		}
		batches, target := y.pending, y.committed
		y.pending = nil
		err := y.err
		y.mu.Unlock()

		if err == nil {
			if err = y.flush(); err != nil {
				err = fmt.Errorf("store: flushing committed writes to disk: %w", err)
			}
		}
		y.mu.Lock()
		if err != nil && y.err == nil {
			y.err = err
		}
		if err == nil {
			y.durable = target
		}
		y.mu.Unlock()
		y.cond.Broadcast()
		signal := false
		for _, b := range batches {
			for i, r := range b.reqs {
				if err != nil && b.errs[i] == nil {
					r.done <- err
					continue
				}
				r.done <- b.errs[i]
			}
			signal = signal || b.signal
		}
		if err == nil && signal {
			committed()
		}
	}
}

// wait returns once every batch committed so far is durable, or the sticky
// failure.
func (y *syncer) wait() error {
	y.mu.Lock()
	defer y.mu.Unlock()
	c := y.committed
	for y.durable < c && y.err == nil {
		y.waiting++
		y.cond.Wait()
		y.waiting--
	}
	return y.err
}
