package postgres

import (
	"context"
	"crypto/rand"
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
	// notifyGap is the least time between two NOTIFYs of a node: the commits made
	// meanwhile share the next one. Each NOTIFY is a transaction of its own that
	// takes a lock every database of the server shares, and wakes every node's
	// listener (this node's too, which drops it); one per 10 ms caps that at 100 a
	// second whatever the commit rate (at 500 changes/s one went out for every two
	// changes). A node dispatches its own commits at once; the others hear of them
	// at most this much later, and the first NOTIFY after a quiet spell goes at once.
	notifyGap = 10 * time.Millisecond
)

// notifyAppPrefix starts the application_name of the connection that sends a node's
// NOTIFYs. A NOTIFY takes a transaction id when it commits, and waits there for a
// lock that every database of the server shares; the change log's horizon
// (graphhook_change_horizon, migration 011) leaves transactions of connections so
// named out, as they never write changes, so that a NOTIFY slow to commit does not
// delay the changes committed before it.
const notifyAppPrefix = "graphhook-notify-"

// notifier connects the stores of several nodes: after a local commit that signalled
// it sends one NOTIFY (coalescing the commits made while one is in flight) on a
// connection of its own, and a dedicated listening connection turns other nodes'
// NOTIFYs into this store's Committed signal.
type notifier struct {
	conf     *pgx.ConnConfig // the listening connection's
	sendConf *pgx.ConnConfig // the sending connection's
	sendConn *pgx.Conn       // nil until the first NOTIFY, and after a failure
	self     string          // payload of our NOTIFYs, so the listener skips its own
	signal   func()
	log      *slog.Logger

	poke      chan struct{}
	listening chan struct{} // receives after each successful LISTEN (for tests)
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

func newNotifier(url string, signal func(), log *slog.Logger) (*notifier, error) {
	conf, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	sendConf := conf.Copy()
	b := make([]byte, 8)
	rand.Read(b)
	n := &notifier{
		conf: conf, sendConf: sendConf, self: hex.EncodeToString(b), signal: signal, log: log,
		poke: make(chan struct{}, 1), listening: make(chan struct{}, 1),
	}
	// The names show the connections' purposes in pg_stat_activity.
	conf.RuntimeParams["application_name"] = "graphhook-listen-" + n.self
	sendConf.RuntimeParams["application_name"] = notifyAppPrefix + n.self
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
	if n.sendConn != nil {
		n.sendConn.Close(context.Background())
		n.sendConn = nil
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
		if !pause(ctx, notifyGap) {
			return
		}
	}
}

// notify sends one NOTIFY, connecting first when needed. A connection that failed
// (the server closed it while idle) is replaced at once, once. Only the send loop
// calls it, and stop once the loop has ended.
func (n *notifier) notify(ctx context.Context) {
	var err error
	for range 2 {
		if err = n.sendOnce(ctx); err == nil || ctx.Err() != nil {
			break
		}
		if n.sendConn != nil {
			n.sendConn.Close(context.Background())
			n.sendConn = nil
		}
	}
	if err != nil && ctx.Err() == nil {
		n.log.Warn("postgres: NOTIFY failed; other nodes will find the work when they poll", "err", err)
	}
}

func (n *notifier) sendOnce(ctx context.Context) error {
	if n.sendConn == nil {
		conn, err := pgx.ConnectConfig(ctx, n.sendConf)
		if err != nil {
			return err
		}
		n.sendConn = conn
	}
	_, err := n.sendConn.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, n.self)
	return err
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
		if !pause(ctx, backoff) {
			return
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

// pause waits d, or until ctx ends; it reports whether ctx is still alive.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
