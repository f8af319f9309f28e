package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/graphhook/graphhook/internal/store"
)

// Several nodes may share one PostgreSQL database. Every node serves the API and
// dispatches notifications, but the sweepers (subscription expiry, reauthorization
// reminders, the rescuer, retention) run on one node at a time: the holder of the
// store lease named leaderLease. A node's leader keeps trying to take or renew that
// lease every ttl/3 and starts or stops the node's leader-only services as it wins or
// loses it. A node that dies stops renewing, so another takes over within a ttl; a
// node that shuts down releases the lease, so another takes over at its next try.
//
// With the embedded SQLite store there is one node by construction, and leaderOnly
// hands the service back unwrapped: no lease, no goroutine, no cost.

// leaderLease is the one lease all leader-only services share, so that they run
// together on one node and a graceful stop hands them over together.
const leaderLease = "graphhook-leader"

// defaultLeaseTTL is Config.LeaseTTL's default: a crashed leader's sweepers pause for
// at most this long, which none of them minds (they catch up on their next run).
const defaultLeaseTTL = 15 * time.Second

// minLeaseTTL keeps a typo from turning renewals into a busy loop on the database.
const minLeaseTTL = 100 * time.Millisecond

// leaders remembers each Main's leader, for tests and diagnostics.
var leaders sync.Map // *Main → *leader

// leaderOnly returns a service that runs on this node only while it holds the
// leader lease. newService is called each time the node becomes leader; it may return
// the same service every time when that service can be started again after Stop.
func (m *Main) leaderOnly(newService func() Service) Service {
	if m.Config.Database == "" {
		return newService()
	}
	return &leaderOnlyService{l: m.leader(), newService: newService}
}

// leader returns m's leader, creating it on first use.
func (m *Main) leader() *leader {
	if l, ok := leaders.Load(m); ok {
		return l.(*leader)
	}
	l := newLeader(m.Store, nodeID(), m.Config.LeaseTTL, m.Log.With("part", "lease"))
	if m.Registry != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "graphhook_leader",
			Help: "1 while this node holds the lease that runs the sweepers, else 0.",
		}, func() float64 {
			if l.Held() {
				return 1
			}
			return 0
		}))
	}
	leaders.Store(m, l)
	return l
}

// nodeID names this process in the lease table: the host name tells an operator
// which machine leads, the random part tells apart two processes on one machine
// and a process from its own restart.
func nodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}

// leader takes and keeps the leader lease for one node and runs the node's
// leader-only services while it holds it.
type leader struct {
	st   store.Store
	node string
	ttl  time.Duration
	log  *slog.Logger

	mu      sync.Mutex
	members []*leaderOnlyService // started wrappers
	held    bool
	// confirmed is the time passed to the last successful TryLease: the lease is
	// ours until confirmed+ttl whatever happened since.
	confirmed time.Time
	// ctx, cancel and done belong to the renewal loop, which runs while any member
	// is started; inner services run under ctx.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func newLeader(st store.Store, node string, ttl time.Duration, log *slog.Logger) *leader {
	if ttl <= 0 {
		ttl = defaultLeaseTTL
	}
	return &leader{st: st, node: node, ttl: max(ttl, minLeaseTTL), log: log}
}

// Held reports whether this node holds the lease as far as it knows.
func (l *leader) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held
}

// join adds a started wrapper. The first one starts the renewal loop after one
// synchronous try, so that a lone node runs its sweepers from the start.
func (l *leader) join(ctx context.Context, w *leaderOnlyService) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.members = append(l.members, w)
	if l.cancel == nil {
		l.ctx, l.cancel = context.WithCancel(ctx)
		l.done = make(chan struct{})
		l.tryLocked(l.ctx)
		go l.loop(l.ctx)
	}
	if l.held {
		w.startInner(l.ctx, l)
	}
}

// leave stops a wrapper's service. The last one ends the loop and releases the
// lease, so that another node need not wait for it to expire.
func (l *leader) leave(w *leaderOnlyService) {
	l.mu.Lock()
	w.stopInner()
	for i, m := range l.members {
		if m == w {
			l.members = append(l.members[:i], l.members[i+1:]...)
			break
		}
	}
	if len(l.members) > 0 || l.cancel == nil {
		l.mu.Unlock()
		return
	}
	cancel, done := l.cancel, l.done
	l.cancel = nil
	l.mu.Unlock()
	// The loop takes mu to apply a result: wait for it outside.
	cancel()
	<-done

	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return
	}
	l.held = false
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	err := l.st.Update(ctx, func(tx store.Tx) error { return tx.ReleaseLease(ctx, leaderLease, l.node) })
	if err != nil {
		l.log.Warn("could not release the leader lease; another node takes it when it expires", "node", l.node, "err", err)
		return
	}
	l.log.Info("released the leader lease", "node", l.node)
}

func (l *leader) loop(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.mu.Lock()
		if ctx.Err() == nil {
			l.tryLocked(ctx)
		}
		l.mu.Unlock()
	}
}

// tryLocked takes or renews the lease and starts or stops the members' services
// to match. Called with mu held.
func (l *leader) tryLocked(ctx context.Context) {
	// Real time, not the server's clock: the admin API moves that one forward on
	// one node only, and a lease is about which node is alive now.
	now := time.Now()
	var held bool
	err := l.st.Update(ctx, func(tx store.Tx) error {
		var err error
		held, err = tx.TryLease(ctx, leaderLease, l.node, l.ttl, now)
		return err
	})
	if err != nil {
		if ctx.Err() != nil || !l.held {
			return
		}
		// Unsure whether we still lead: keep going while the lease we last confirmed
		// cannot have passed to another node before our next try, step down otherwise.
		if now.Add(l.ttl / 3).Before(l.confirmed.Add(l.ttl)) {
			l.log.Warn("could not renew the leader lease; retrying", "node", l.node, "err", err)
			return
		}
		l.log.Warn("could not renew the leader lease in time; stopping leader-only services", "node", l.node, "err", err)
		held = false
	}
	switch {
	case held && !l.held:
		l.log.Info("took the leader lease; starting leader-only services", "node", l.node, "ttl", l.ttl)
	case !held && l.held && err == nil:
		l.log.Warn("lost the leader lease; stopping leader-only services", "node", l.node)
	}
	l.held = held
	if held {
		l.confirmed = now
	}
	for _, w := range l.members {
		if held {
			w.startInner(ctx, l) // also retries a service that failed to start
		} else {
			w.stopInner()
		}
	}
}

// leaderOnlyService is the Service leaderOnly returns on a shared database.
type leaderOnlyService struct {
	l          *leader
	newService func() Service
	inner      Service // running instance; nil while this node does not lead
}

// Start joins the node's leader; the inner service starts when (and each time) the
// node holds the lease.
func (w *leaderOnlyService) Start(ctx context.Context) error {
	w.l.join(ctx, w)
	return nil
}

// Stop stops the inner service if it runs; the last Stop of a node releases the lease.
func (w *leaderOnlyService) Stop() { w.l.leave(w) }

// startInner and stopInner are called with the leader's mu held.
func (w *leaderOnlyService) startInner(ctx context.Context, l *leader) {
	if w.inner != nil {
		return
	}
	s := w.newService()
	if err := s.Start(ctx); err != nil {
		l.log.Warn("leader-only service did not start; retrying at the next renewal", "node", l.node, "err", err)
		return
	}
	w.inner = s
}

func (w *leaderOnlyService) stopInner() {
	if w.inner != nil {
		w.inner.Stop()
		w.inner = nil
	}
}
