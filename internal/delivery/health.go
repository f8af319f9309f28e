package delivery

import (
	"sync"
	"time"
)

// HealthState is an endpoint's state (see the diagram in doc.go).
type HealthState int

const (
	// Healthy: notifications go out as soon as they are due.
	Healthy HealthState = iota
	// Slow: too many responses took longer than the timeout; new notifications go
	// out SlowDelay late.
	Slow
	// Drop: too many responses took longer than the retry timeout; notifications
	// are discarded until the drop window ends.
	Drop
	// Probing: the drop window ended; notifications go one per POST until ProbeSize
	// good answers (back to healthy) or one drop-class answer (back to drop).
	Probing
)

func (s HealthState) String() string {
	switch s {
	case Healthy:
		return "healthy"
	case Slow:
		return "slow"
	case Drop:
		return "drop"
	case Probing:
		return "probing"
	}
	return "unknown"
}

// Response classes fed to Health.Observe.
type responseClass int

const (
	// respOK: answered within the timeout (whatever the status).
	respOK responseClass = iota
	// respSlow: took longer than the first-try timeout.
	respSlow
	// respDropClass: took longer than the retry timeout.
	respDropClass
)

// Health is one notification URL's slow/drop bookkeeping. Time comes from the
// caller, so tests drive transitions with a clock instead of sleeping.
type Health struct {
	cfg HealthConfig

	mu          sync.Mutex
	state       HealthState
	windowStart time.Time
	total, slow int
	dropped     int
	until       time.Time // end of the drop window
	probeOK     int
}

// NewHealth returns a healthy endpoint.
func NewHealth(cfg HealthConfig) *Health { return &Health{cfg: cfg} }

// State returns the state at now (a drop window that ended turns into probing).
func (h *Health) State(now time.Time) HealthState {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tick(now)
	return h.state
}

// tick applies the transitions that only need time to pass.
func (h *Health) tick(now time.Time) {
	if h.state == Drop && !now.Before(h.until) {
		h.state = Probing
		h.probeOK = 0
		h.resetWindow(now)
	}
	if h.windowStart.IsZero() {
		h.windowStart = now
	}
	if now.Sub(h.windowStart) >= h.cfg.Window {
		// The window is over: a slow endpoint recovers if this window was mostly fast.
		if h.state == Slow && h.total > 0 && float64(h.slow)/float64(h.total) <= h.cfg.SlowRatio {
			h.state = Healthy
		}
		h.resetWindow(now)
	}
}

func (h *Health) resetWindow(now time.Time) {
	h.windowStart = now
	h.total, h.slow, h.dropped = 0, 0, 0
}

// observe records one response (one POST) at now.
func (h *Health) observe(now time.Time, c responseClass) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tick(now)
	if h.state == Drop {
		return
	}
	h.total++
	switch c {
	case respSlow:
		h.slow++
	case respDropClass:
		h.slow++
		h.dropped++
	}
	if h.state == Probing {
		if c == respDropClass {
			h.enterDrop(now)
			return
		}
		if h.probeOK++; h.probeOK >= h.cfg.ProbeSize {
			h.state = Healthy
			h.resetWindow(now)
		}
		return
	}
	if h.total < h.cfg.MinSamples {
		return
	}
	total := float64(h.total)
	switch {
	case float64(h.dropped)/total > h.cfg.DropRatio:
		h.enterDrop(now)
	case h.state == Healthy && float64(h.slow)/total > h.cfg.SlowRatio:
		h.state = Slow
		h.resetWindow(now)
	}
}

func (h *Health) enterDrop(now time.Time) {
	h.state = Drop
	h.until = now.Add(h.cfg.DropFor)
	h.resetWindow(now)
}
