package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// loop runs one long-lived function until Stop.
type loop struct {
	name   string
	run    func(ctx context.Context)
	cancel context.CancelFunc
	done   chan struct{}
}

func (l *loop) Start(ctx context.Context) error {
	ctx, l.cancel = context.WithCancel(ctx)
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		l.run(ctx)
	}()
	return nil
}

func (l *loop) Stop() {
	if l.cancel != nil {
		l.cancel()
		<-l.done
	}
}

// ticker runs fn every interval (and first, once, at start).
type ticker struct {
	name   string
	every  time.Duration
	fn     func(ctx context.Context) error
	first  func(ctx context.Context) error
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (t *ticker) Start(ctx context.Context) error {
	if t.first != nil {
		if err := t.first(ctx); err != nil {
			return err
		}
	}
	ctx, t.cancel = context.WithCancel(ctx)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tk := time.NewTicker(t.every)
		defer tk.Stop()
		for {
			if err := t.fn(ctx); err != nil && ctx.Err() == nil {
				t.log.Error("delivery: "+t.name, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
		}
	}()
	return nil
}

func (t *ticker) Stop() {
	if t.cancel != nil {
		t.cancel()
		t.wg.Wait()
	}
}
