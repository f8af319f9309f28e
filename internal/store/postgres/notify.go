package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// channel is the LISTEN/NOTIFY channel on which nodes tell each other that they
// committed changes or queued notifications.
const channel = "graphhook_committed"

// Timings of the listener. Polling by the dispatcher stays the fallback, so these
// trade a little delay after a failure for not hammering a database that is down.
const (
	// heartbeat is how long the listener waits for a notification before it checks
	// that its connection is still alive (a silently dropped connection would
	// otherwise go unnoticed until TCP keepalive gives up).
	heartbeat = 30 * time.Second
	// minBackoff and maxBackoff bound the wait between reconnection attempts.
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// notifier connects the stores of several nodes: after a local commit that signalled
// it sends one NOTIFY (coalescing the commits made while one is in flight), and a
// dedicated listening connection turns other nodes' NOTIFYs into this store's
// Committed signal.
type notifier struct {
	db     *sql.DB
	conf   *pgx.ConnConfig
	self   string // payload of our NOTIFYs, so the listener skips its own
	signal func()
	log    *slog.Logger

	poke      chan struct{}
	listening chan struct{} // receives after each successful LISTEN (for tests)
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

func newNotifier(db *sql.DB, url string, signal func(), log *slog.Logger) (*notifier, error) {
	conf, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 8)
	rand.Read(b)
	n := &notifier{
		db: db, conf: conf, self: hex.EncodeToString(b), signal: signal, log: log,
		poke: make(chan struct{}, 1), listening: make(chan struct{}, 1),
	}
	// The name shows the connection's purpose in pg_stat_activity.
	conf.RuntimeParams["application_name"] = "graphhook-listen-" + n.self
	return n, nil
}

func (n *notifier) start() {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(2)
	go func() { defer n.wg.Done(); n.send(ctx) }()
	go func() { defer n.wg.Done(); n.listen(ctx) }()
}

// stop ends both loops. A NOTIFY still owed for the last commits is sent first, so
// that other nodes need not wait for their poll.
func (n *notifier) stop() {
	n.cancel()
	n.wg.Wait()
	select {
	case <-n.poke:
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		n.notify(ctx)
		cancel()
	default:
	}
}

// committed is the store's AfterCommit: it asks for a NOTIFY without blocking.
func (n *notifier) committed() {
	select {
	case n.poke <- struct{}{}:
	default:
	}
}

func (n *notifier) send(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.poke:
		}
		n.notify(ctx)
	}
}

func (n *notifier) notify(ctx context.Context) {
	if _, err := n.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, n.self); err != nil && ctx.Err() == nil {
		n.log.Warn("postgres: NOTIFY failed; other nodes will find the work when they poll", "err", err)
	}
}

// listen keeps a LISTEN connection open, reconnecting with backoff, until ctx ends.
func (n *notifier) listen(ctx context.Context) {
	backoff := minBackoff
	for {
		connected, err := n.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = minBackoff
		}
		n.log.Warn("postgres: LISTEN connection lost; reconnecting (polling covers the gap)", "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listenOnce connects, listens and turns notifications into signals until the
// connection fails. connected tells whether LISTEN succeeded.
func (n *notifier) listenOnce(ctx context.Context) (connected bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, n.conf)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return false, err
	}
	// Whatever other nodes committed while we were not listening went unheard: look.
	n.signal()
	select {
	case n.listening <- struct{}{}:
	default:
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, heartbeat)
		note, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if note.Payload != n.self {
				n.signal()
			}
		case ctx.Err() != nil:
			return true, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}
