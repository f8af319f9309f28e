// Package leader runs a node's leader-only services while the node holds the store
// lease named Lease.
//
// Several nodes may share one PostgreSQL database. Every node serves the API and
// dispatches notifications, but the sweepers (subscription expiry, reauthorization
// reminders, the rescuer, retention) run on one node at a time: the holder of the
// lease. A node's Leader tries to take or renew that lease every TTL/3 and starts or
// stops the node's leader-only services as it wins or loses it. A node that dies stops
// renewing, so another takes over within a TTL; a node that shuts down releases the
// lease, so another takes over at its next try.
//
// The lease lives in the database, so taking and renewing it is I/O that can take as
// long as the database does. A Leader keeps that I/O out from under the lock its
// readers take: Held, Running and the graphhook_leader gauge answer at once while a
// renewal waits on the database.
package leader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
)

// Lease is the one lease all leader-only services share, so that they run together on
// one node and a graceful stop hands them over together.
const Lease = "graphhook-leader"

// DefaultTTL is Config.TTL's default: a crashed leader's sweepers pause for at most
// this long, which none of them minds (they catch up on their next run).
const DefaultTTL = 15 * time.Second

// MinTTL keeps a typo from turning renewals into a busy loop on the database.
const MinTTL = 100 * time.Millisecond

// Config configures a Leader.
type Config struct {
	// Store holds the lease (required).
	Store store.Store
	// Node names this process in the lease table (default NodeID()).
	Node string
	// TTL is how long the lease lasts without renewal (default DefaultTTL; raised to
	// MinTTL).
	TTL time.Duration
	// Log receives lease changes and failures (default slog.Default()).
	Log *slog.Logger
	// Registry gets the graphhook_leader gauge (none when nil).
	Registry prometheus.Registerer
}

// Leader takes and keeps the lease for one node and runs the node's leader-only
// services while it holds it.
type Leader struct {
	st   store.Store
	node string
	ttl  time.Duration
	log  *slog.Logger

	// turn serialises everything that changes the node's role: lease tries and the
	// release, members joining and leaving, their services starting and stopping. It
	// is held across store I/O and service starts; nothing that only reads takes it.
	turn    sync.Mutex
	members []*member
	// ctx, cancel and done belong to the renewal loop, which runs while any member is
	// started; services run under ctx.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// mu guards what readers see. It is never held across I/O. Writers hold turn and
	// mu, so code holding turn may read these without mu.
	mu      sync.Mutex
	held    bool
	running int // members whose service runs
	// confirmed is the time passed to the last successful TryLease: the lease is ours
	// until confirmed+ttl whatever happened since.
	confirmed time.Time
}

// New returns a Leader that has not tried for the lease yet: the first leader-only
// service to start makes it try.
func New(cfg Config) *Leader {
	l := &Leader{st: cfg.Store, node: cfg.Node, ttl: max(cfg.TTL, MinTTL), log: cfg.Log}
	if cfg.TTL <= 0 {
		l.ttl = DefaultTTL
	}
	if l.node == "" {
		l.node = NodeID()
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "graphhook_leader",
			Help: "1 while this node holds the lease that runs the sweepers, else 0.",
		}, func() float64 {
			if l.Held() {
				return 1
			}
			return 0
		}))
	}
	return l
}

// NodeID names this process in the lease table: the host name tells an operator which
// machine leads, the random part tells apart two processes on one machine and a
// process from its own restart.
func NodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}

// Node returns the name this node holds the lease by.
func (l *Leader) Node() string { return l.node }

// TTL returns how long the lease lasts without renewal, defaults applied.
func (l *Leader) TTL() time.Duration { return l.ttl }

// Held reports whether this node holds the lease as far as it knows.
func (l *Leader) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held
}

// Running returns how many leader-only services run on this node.
func (l *Leader) Running() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running
}

// Only returns a service that runs s on this node only while the node holds the
// lease. s must start again after Stop.
func (l *Leader) Only(s service.Service) service.Service { return &member{l: l, svc: s} }

// member is the service.Service Only returns.
type member struct {
	l       *Leader
	svc     service.Service
	running bool // guarded by l.turn
}

// Start joins the node's Leader; the service starts when (and each time) the node
// holds the lease.
func (m *member) Start(ctx context.Context) error {
	m.l.join(ctx, m)
	return nil
}

// Stop stops the service if it runs; the last Stop of a node releases the lease.
func (m *member) Stop() { m.l.leave(m) }

// join adds a started member. The first one starts the renewal loop after one
// synchronous try, so that a lone node runs its sweepers from the start.
func (l *Leader) join(ctx context.Context, m *member) {
	l.turn.Lock()
	defer l.turn.Unlock()
	l.members = append(l.members, m)
	if l.cancel == nil {
		l.ctx, l.cancel = context.WithCancel(ctx)
		l.done = make(chan struct{})
		l.try(l.ctx)
		go l.loop(l.ctx, l.done)
	}
	if l.held {
		l.start(m)
	}
}

// leave stops a member's service. The last one ends the loop and releases the lease,
// so that another node need not wait for it to expire.
func (l *Leader) leave(m *member) {
	l.turn.Lock()
	l.stop(m)
	for i, x := range l.members {
		if x == m {
			l.members = append(l.members[:i], l.members[i+1:]...)
			break
		}
	}
	if len(l.members) > 0 || l.cancel == nil {
		l.turn.Unlock()
		return
	}
	cancel, done := l.cancel, l.done
	l.cancel = nil
	l.turn.Unlock()
	// The loop takes turn for each try: wait for it outside.
	cancel()
	<-done

	l.turn.Lock()
	defer l.turn.Unlock()
	if !l.held {
		return
	}
	l.setHeld(false, time.Time{})
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	err := l.st.Update(ctx, func(tx store.Tx) error { return tx.ReleaseLease(ctx, Lease, l.node) })
	if err != nil {
		l.log.Warn("could not release the leader lease; another node takes it when it expires", "node", l.node, "err", err)
		return
	}
	l.log.Info("released the leader lease", "node", l.node)
}

func (l *Leader) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.turn.Lock()
		if ctx.Err() == nil {
			l.try(ctx)
		}
		l.turn.Unlock()
	}
}

// try takes or renews the lease and starts or stops the members' services to match.
// Called with turn held; the store call runs without mu, so readers do not wait on it.
func (l *Leader) try(ctx context.Context) {
	// Real time, not the server's clock: the admin API moves that one forward on one
	// node only, and a lease is about which node is alive now.
	now := time.Now()
	var held bool
	err := l.st.Update(ctx, func(tx store.Tx) error {
		var err error
		held, err = tx.TryLease(ctx, Lease, l.node, l.ttl, now)
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
	confirmed := l.confirmed
	if held {
		confirmed = now
	}
	l.setHeld(held, confirmed)
	for _, m := range l.members {
		if held {
			l.start(m) // also retries a service that failed to start
		} else {
			l.stop(m)
		}
	}
}

// setHeld publishes the lease state to readers. Called with turn held.
func (l *Leader) setHeld(held bool, confirmed time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held, l.confirmed = held, confirmed
}

// start and stop run a member's service; called with turn held.
func (l *Leader) start(m *member) {
	if m.running {
		return
	}
	if err := m.svc.Start(l.ctx); err != nil {
		l.log.Warn("leader-only service did not start; retrying at the next renewal", "node", l.node, "err", err)
		return
	}
	m.running = true
	l.addRunning(1)
}

func (l *Leader) stop(m *member) {
	if !m.running {
		return
	}
	m.svc.Stop()
	m.running = false
	l.addRunning(-1)
}

func (l *Leader) addRunning(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running += n
}
