package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// PGCapture watches the statements of the server bench starts on PostgreSQL (as
// the pool's pgx tracer) and keeps one whole transaction that appended a change:
// BEGIN, its statements with their arguments, and COMMIT. ReplayPG then sends that
// transaction again and again from bare connections, with nothing else on the
// machine but PostgreSQL, so that a run can say how fast PostgreSQL itself takes
// the statements of one change, on the same machine, and what share of that the
// server reached.
type PGCapture struct {
	// skip is how many change transactions go by before one is kept, so that the
	// one kept is of the run's steady state.
	skip int

	done atomic.Bool
	mu   sync.Mutex
	open map[*pgx.Conn][]pgStatement
	seen int
	tx   []pgStatement
}

// pgStatement is one statement of the captured transaction.
type pgStatement struct {
	sql  string
	args []any
}

// NewPGCapture returns a capture that keeps the 101st change transaction to commit
// (or the first, in a run too short to reach it).
func NewPGCapture() *PGCapture {
	return &PGCapture{skip: 100, open: map[*pgx.Conn][]pgStatement{}}
}

type pgTraceKey struct{}

// TraceQueryStart implements pgx.QueryTracer.
func (c *PGCapture) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if c.done.Load() {
		return ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done.Load() { // kept while this waited for the lock
		return ctx
	}
	st := pgStatement{sql: data.SQL, args: copyArgs(data.Args)}
	if strings.HasPrefix(data.SQL, "begin") {
		c.open[conn] = []pgStatement{st}
		return ctx
	}
	if tx, ok := c.open[conn]; ok {
		c.open[conn] = append(tx, st)
	}
	return context.WithValue(ctx, pgTraceKey{}, data.SQL)
}

// TraceQueryEnd implements pgx.QueryTracer.
func (c *PGCapture) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	if c.done.Load() {
		return
	}
	sql, _ := ctx.Value(pgTraceKey{}).(string)
	c.mu.Lock()
	defer c.mu.Unlock()
	tx, ok := c.open[conn]
	switch {
	case !ok:
	case data.Err != nil || sql == "rollback":
		delete(c.open, conn)
	case sql == "commit":
		delete(c.open, conn)
		if data.CommandTag.String() != "COMMIT" || changeID(tx) == "" {
			return
		}
		// The first is kept too, for a run too short to reach the steady state.
		if c.seen++; c.tx == nil || c.seen > c.skip {
			c.tx = tx
		}
		if c.seen > c.skip {
			clear(c.open)
			c.done.Store(true)
		}
	}
}

// copyArgs copies a statement's arguments, leaving out pgx's query options (the
// replay asks for its rows in pgx's own formats: it only reads them).
func copyArgs(args []any) []any {
	out := make([]any, 0, len(args))
	for _, a := range args {
		switch a := a.(type) {
		case pgx.QueryResultFormats, pgx.QueryResultFormatsByOID, pgx.QueryExecMode:
		case []byte:
			out = append(out, append([]byte(nil), a...))
		case []string:
			out = append(out, append([]string(nil), a...))
		default:
			out = append(out, a)
		}
	}
	return out
}

// changeID is the id of the object whose change tx appends, "" when it appends
// none. The change record's statement takes tenant, kind and id first.
func changeID(tx []pgStatement) string {
	for _, st := range tx {
		if strings.Contains(st.sql, "INSERT INTO changes") && len(st.args) > 2 {
			id, _ := st.args[2].(string)
			return id
		}
	}
	return ""
}

// withID is args with every occurrence of the id from in a string argument made to.
func withID(args []any, from, to string) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case string:
			out[i] = strings.ReplaceAll(a, from, to)
		case []string:
			s := make([]string, len(a))
			for j, v := range a {
				s[j] = strings.ReplaceAll(v, from, to)
			}
			out[i] = s
		default:
			out[i] = a
		}
	}
	return out
}

// PGReplay is what ReplayPG measured.
type PGReplay struct {
	// Statements is the count of statements in the transaction, BEGIN and COMMIT
	// included.
	Statements int
	// Committed and Failed count the transactions that committed and those that
	// failed (a serialization failure, mostly) over Seconds.
	Committed, Failed int64
	Seconds           float64
}

// ReplayPG sends the captured transaction to url for cfg's duration, from as many
// bare connections as cfg has clients, each time under a new object id, and counts
// the commits. It runs after the server has stopped, so that nothing else uses the
// machine meanwhile. The messages and changes it made stay, as the run's do; the
// notifications it queued are removed.
func ReplayPG(ctx context.Context, cfg Config, url string, c *PGCapture) (*PGReplay, error) {
	cfg.fillDefaults()
	clients, dur := cfg.Clients, cfg.Duration
	c.mu.Lock()
	tx := c.tx
	c.mu.Unlock()
	from := changeID(tx)
	if from == "" {
		return nil, errors.New("bench: no change transaction was captured to replay (the run made too few changes)")
	}
	conns := make([]*pgx.Conn, clients)
	defer func() {
		for _, conn := range conns {
			if conn != nil {
				conn.Close(context.Background())
			}
		}
	}()
	for i := range conns {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("bench: replay: %w", err)
		}
		conns[i] = conn
	}
	var committed, failed atomic.Int64
	var firstErr atomic.Pointer[error]
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for i, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
				to := fmt.Sprintf("%s-replay-%d-%d", from, i, n)
				if err := replayOnce(ctx, conn, tx, from, to); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, &err)
					if conn.IsClosed() {
						return
					}
					continue
				}
				committed.Add(1)
			}
		}()
	}
	wg.Wait()
	res := &PGReplay{Statements: len(tx), Committed: committed.Load(), Failed: failed.Load(), Seconds: time.Since(start).Seconds()}
	// The replay's notifications name the bench's receiver, gone by now: a server
	// started later on this database would try them for hours.
	if _, err := conns[0].Exec(ctx, `DELETE FROM notifications WHERE resource LIKE '%' || $1 || '-replay-%'`, from); err != nil {
		return nil, fmt.Errorf("bench: replay: removing its notifications: %w", err)
	}
	if res.Committed == 0 {
		if e := firstErr.Load(); e != nil {
			return nil, fmt.Errorf("bench: replay: no transaction committed; the first failed with: %w", *e)
		}
	}
	return res, nil
}

// replayOnce runs tx on conn with the object id from made to. BEGIN and COMMIT,
// which take no arguments, go through pgx's simple protocol as the server's did; a
// statement with arguments through the extended protocol, its rows read and
// dropped.
func replayOnce(ctx context.Context, conn *pgx.Conn, tx []pgStatement, from, to string) error {
	for _, st := range tx {
		var err error
		if len(st.args) == 0 {
			_, err = conn.Exec(ctx, st.sql)
		} else {
			var rows pgx.Rows
			rows, err = conn.Query(ctx, st.sql, withID(st.args, from, to)...)
			if err == nil {
				for rows.Next() {
				}
				rows.Close()
				err = rows.Err()
			}
		}
		if err != nil {
			if !conn.IsClosed() {
				conn.Exec(ctx, "rollback")
			}
			return err
		}
	}
	return nil
}

// AddPGReplay puts what ReplayPG measured into res.
func (res *Result) AddPGReplay(r *PGReplay) {
	res.PGReplayStatements = r.Statements
	res.PGReplayCommitted, res.PGReplayFailed = r.Committed, r.Failed
	res.PGReplayChangesPerS = float64(r.Committed) / r.Seconds
	if res.PGReplayChangesPerS > 0 {
		res.PGReplayShare = res.ChangesPerS / res.PGReplayChangesPerS
	}
}
