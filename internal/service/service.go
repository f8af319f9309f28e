// Package service gives graphhook's background work one lifecycle. A Service
// starts and stops; a Loop is the Service of periodic work (the dispatcher, the
// rescuer, the reauthorization scheduler, the sweepers and retention): it runs a
// pass at start, then every interval, and at once when woken.
//
// Every Loop can be started again after Stop, because a node's leader starts its
// leader-only services each time it wins the lease and stops them each time it
// loses it, and because one rule for all of them is easier to trust than one per
// service.
//
// A Loop reports each pass to its OnPass hook. Tests wait on that hook rather than
// polling: "a pass ended" is the event they are waiting for.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Service is a background service with a lifecycle.
type Service interface {
	// Start begins the service's work in the background and returns. An error means
	// nothing was started. The work ends at Stop or when ctx ends.
	Start(ctx context.Context) error
	// Stop ends the work and waits for it to finish. Stop without Start, or a second
	// Stop, does nothing.
	Stop()
}

// Result is what one pass of a Loop tells the Loop.
type Result struct {
	// N counts what the pass did (rows pruned, subscriptions deleted, workers
	// started); zero when the work does not count.
	N int
	// Wait, when positive and shorter than the Loop's Every, brings the next pass
	// forward: the dispatcher's next retry may fall due before its next poll.
	Wait time.Duration
}

// Report is one pass as a Loop's OnPass hook sees it.
type Report struct {
	// Service is the Loop's Name.
	Service string
	Result
	// Err is the pass's error (also logged, unless the Loop was stopping).
	Err error
}

// Loop runs Pass at Start, then Every after each pass ends, and at once on Wake or
// on a value from Signal. It is a Service; the zero value is not usable, fill at
// least Name, Every and Pass.
type Loop struct {
	// Name names the loop in logs and reports.
	Name string
	// Every is the interval between passes; it must be positive.
	Every time.Duration
	// Pass does one pass. An error is logged and the loop carries on: the next pass
	// comes as usual.
	Pass func(ctx context.Context) (Result, error)
	// Starting, when set, runs in Start before the first pass; its error fails Start.
	Starting func(ctx context.Context) error
	// Stopped, when set, runs after the last pass, before Stop returns.
	Stopped func()
	// Signal, when set, triggers a pass as Wake does (the store's commit signal).
	Signal <-chan struct{}
	// Log receives pass failures (default slog.Default()).
	Log *slog.Logger
	// OnPass, when set, is called after every pass, from the loop's goroutine and
	// never after Stop returned. It is a hook for tests.
	OnPass func(Report)

	wakeOnce sync.Once
	wake     chan struct{}

	mu     sync.Mutex // serializes Start and Stop
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs Starting, then starts the passes. A running Loop cannot be started
// again before Stop.
func (l *Loop) Start(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancel != nil {
		return fmt.Errorf("service: %s is already running", l.Name)
	}
	if l.Every <= 0 || l.Pass == nil {
		return errors.New("service: " + l.Name + " needs a positive Every and a Pass")
	}
	if l.Starting != nil {
		if err := l.Starting(ctx); err != nil {
			return err
		}
	}
	ctx, l.cancel = context.WithCancel(ctx)
	l.done = make(chan struct{})
	go l.run(ctx, l.done)
	return nil
}

// Stop ends the passes, waits for a running one to finish and runs Stopped. The
// Loop can be started again afterwards.
func (l *Loop) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancel == nil {
		return
	}
	l.cancel()
	<-l.done
	l.cancel, l.done = nil, nil
}

// Wake asks for a pass now. It never blocks: wake-ups that arrive while one is
// pending count once, and one that arrives while the Loop is stopped costs at most
// an extra pass after the next Start.
func (l *Loop) Wake() {
	select {
	case l.wakeChan() <- struct{}{}:
	default:
	}
}

func (l *Loop) wakeChan() chan struct{} {
	l.wakeOnce.Do(func() { l.wake = make(chan struct{}, 1) })
	return l.wake
}

func (l *Loop) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	if l.Stopped != nil {
		defer l.Stopped()
	}
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	wake := l.wakeChan()
	timer := time.NewTimer(l.Every)
	defer timer.Stop()
	for {
		res, err := l.Pass(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error(l.Name+" failed", "err", err)
		}
		if l.OnPass != nil {
			l.OnPass(Report{Service: l.Name, Result: res, Err: err})
		}
		wait := l.Every
		if res.Wait > 0 && res.Wait < wait {
			wait = res.Wait
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-l.Signal:
		case <-timer.C:
		}
	}
}
