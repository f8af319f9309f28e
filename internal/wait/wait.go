// Package wait is how graphhook's tests wait for something to happen without
// sleeping for it. On rechecks a condition each time the code under test signals
// (a service.Loop's OnPass hook, say); Poll, for what nothing signals (a receiver
// in another process, a client's own progress), rechecks it at a short interval.
// Both give up at a deadline, so that a test waiting for what never comes fails
// instead of hanging.
package wait

import "time"

// PollInterval is how often Poll checks its condition.
const PollInterval = 5 * time.Millisecond

// Signal is a coalescing event: Fire never blocks, and the channel holds a value
// after at least one Fire since its last receive. Pass it to On.
type Signal chan struct{}

// NewSignal returns a Signal with nothing pending.
func NewSignal() Signal { return make(Signal, 1) }

// Fire records the event.
func (s Signal) Fire() {
	select {
	case s <- struct{}{}:
	default:
	}
}

// On reports whether cond held within timeout, checking it now and after each
// value from events. Whoever sends on events must do so after the change cond
// looks for, so that no change goes unseen.
func On(events <-chan struct{}, timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-events:
		case <-deadline.C:
			return cond()
		}
	}
	return true
}

// Poll reports whether cond held within timeout, checking it every PollInterval.
// Use it only where nothing signals the change.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}
