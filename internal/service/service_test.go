package service_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/service"
)

// next returns the next report, failing the test after 10 s without one.
func next(t *testing.T, reports <-chan service.Report) service.Report {
	t.Helper()
	select {
	case r := <-reports:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no pass within 10 s")
		return service.Report{}
	}
}

func newLoop(reports chan service.Report, pass func(ctx context.Context) (service.Result, error)) *service.Loop {
	return &service.Loop{Name: "test", Every: time.Hour, Pass: pass, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnPass: func(r service.Report) { reports <- r }}
}

func TestLoopPassesAtStartOnWakeAndOnSignal(t *testing.T) {
	reports := make(chan service.Report, 10)
	var n atomic.Int64
	l := newLoop(reports, func(context.Context) (service.Result, error) {
		return service.Result{N: int(n.Add(1))}, nil
	})
	signal := make(chan struct{}, 1)
	l.Signal = signal
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	if r := next(t, reports); r.Service != "test" || r.N != 1 || r.Err != nil {
		t.Errorf("first report = %+v, want service test, N 1, no error", r)
	}
	l.Wake()
	if r := next(t, reports); r.N != 2 {
		t.Errorf("report after Wake: N = %d, want 2", r.N)
	}
	signal <- struct{}{}
	if r := next(t, reports); r.N != 3 {
		t.Errorf("report after Signal: N = %d, want 3", r.N)
	}
	l.Stop()
	if got := n.Load(); got != 3 {
		t.Errorf("passes after Stop = %d, want 3", got)
	}
}

func TestLoopRestartsAfterStop(t *testing.T) {
	reports := make(chan service.Report, 10)
	var starting, stopped atomic.Int64
	l := newLoop(reports, func(context.Context) (service.Result, error) { return service.Result{}, nil })
	l.Starting = func(context.Context) error { starting.Add(1); return nil }
	l.Stopped = func() { stopped.Add(1) }
	l.Stop() // before any Start: nothing to do
	for i := 1; i <= 3; i++ {
		if err := l.Start(context.Background()); err != nil {
			t.Fatalf("Start #%d = %v", i, err)
		}
		next(t, reports)
		if err := l.Start(context.Background()); err == nil {
			t.Errorf("Start of a running loop = nil, want an error")
		}
		l.Stop()
		l.Stop()
		if got := stopped.Load(); got != int64(i) {
			t.Errorf("after Stop #%d: Stopped ran %d times, want %d", i, got, i)
		}
	}
	if got := starting.Load(); got != 3 {
		t.Errorf("Starting ran %d times, want 3", got)
	}
}

func TestLoopStartingErrorFailsStart(t *testing.T) {
	reports := make(chan service.Report, 10)
	var n atomic.Int64
	l := newLoop(reports, func(context.Context) (service.Result, error) { n.Add(1); return service.Result{}, nil })
	boom := errors.New("boom")
	l.Starting = func(context.Context) error { return boom }
	if err := l.Start(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Start = %v, want %v", err, boom)
	}
	l.Stop()
	if got := n.Load(); got != 0 {
		t.Errorf("passes after a failed Start = %d, want 0", got)
	}
	l.Starting = nil
	if err := l.Start(context.Background()); err != nil {
		t.Fatalf("Start after a failed Start = %v", err)
	}
	next(t, reports)
	l.Stop()
}

func TestLoopReportsErrorsAndCarriesOn(t *testing.T) {
	reports := make(chan service.Report, 10)
	boom := errors.New("boom")
	var n atomic.Int64
	l := newLoop(reports, func(context.Context) (service.Result, error) {
		if n.Add(1) == 1 {
			return service.Result{}, boom
		}
		return service.Result{N: 7}, nil
	})
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	if r := next(t, reports); !errors.Is(r.Err, boom) {
		t.Errorf("first report error = %v, want %v", r.Err, boom)
	}
	l.Wake()
	if r := next(t, reports); r.Err != nil || r.N != 7 {
		t.Errorf("second report = %+v, want N 7 and no error", r)
	}
}

// TestLoopWaitBringsNextPassForward: a pass asking for a shorter wait than Every
// gets its next pass then, without a wake-up.
func TestLoopWaitBringsNextPassForward(t *testing.T) {
	reports := make(chan service.Report, 10)
	var n atomic.Int64
	l := newLoop(reports, func(context.Context) (service.Result, error) {
		if n.Add(1) == 1 {
			return service.Result{N: 1, Wait: time.Millisecond}, nil
		}
		return service.Result{N: 2}, nil
	})
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	next(t, reports)
	if r := next(t, reports); r.N != 2 {
		t.Errorf("second report N = %d, want 2", r.N)
	}
}

// TestLoopEndsWithItsContext: the loop stops passing when the context given to
// Start ends, and Stop still returns.
func TestLoopEndsWithItsContext(t *testing.T) {
	reports := make(chan service.Report, 10)
	l := newLoop(reports, func(context.Context) (service.Result, error) { return service.Result{}, nil })
	ctx, cancel := context.WithCancel(context.Background())
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	next(t, reports)
	cancel()
	l.Wake()
	l.Stop() // returns although the loop ended on its own
	if err := l.Start(context.Background()); err != nil {
		t.Fatalf("Start after the context ended = %v", err)
	}
	l.Stop()
}
