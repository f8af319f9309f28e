package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// Config tells New how to use the connections a backend opened.
type Config struct {
	Dialect *Dialect
	// Writer runs read-write transactions. With GroupCommit only the writer goroutine
	// begins transactions on it; keep a second connection for preparing statements.
	Writer *sql.DB
	// Reader runs read-only transactions; it may be the same pool as Writer.
	Reader *sql.DB
	// GroupCommit batches concurrent Update calls into one database transaction, each
	// call inside its own savepoint (used for SQLite's single writer).
	GroupCommit bool
	// MaxBatch caps how many Update calls share one commit (default 256).
	MaxBatch int
	// ReadOnlyTx asks the driver for read-only transactions in View.
	ReadOnlyTx bool
	// WriteIsolation and ReadIsolation are the isolation levels of Update's and
	// View's transactions (default: the database's own). Without group commit,
	// writers run concurrently; rules above the store (check, then insert) need them
	// serializable, as SQLite's single writer makes them.
	WriteIsolation, ReadIsolation sql.IsolationLevel
	// Retryable reports whether a transaction that failed with err may simply be run
	// again (a serialization failure or a deadlock); nil means never. Update then
	// runs fn again, up to MaxAttempts times in all.
	Retryable func(err error) bool
	// ConnLost reports an error that means the database connection ended under the
	// transaction (the database restarted, or an administrator or a pooler closed
	// it); nil means none does. A transaction that had not asked to commit was
	// rolled back with its connection: Update runs fn again on another one, as for
	// Retryable, and View begins again when beginning failed (a connection that
	// died in the pool fails at BEGIN). A commit that lost its connection has an
	// unknown outcome and is returned, never run again.
	ConnLost func(err error) bool
	// MaxAttempts caps the runs of one Update with Retryable (default 20: with the
	// pauses between them, about a second of trying); past it Update returns
	// store.ErrBusy.
	MaxAttempts int
	// RetryUniqueViolations runs fn again (twice at most) after a unique violation:
	// PostgreSQL reports one, not a serialization failure, when two serializable
	// transactions both found a key absent and both insert it. The run again sees
	// the committed row and takes its "exists" path; a true duplicate fails the same
	// way again and is returned.
	RetryUniqueViolations bool
	// CachedKinds are object kinds whose lookups by alt key the group-commit writer
	// keeps between transactions (see writeCache); its subscription lookups by topic
	// are always kept. Only for a database no other process writes.
	CachedKinds []string
	// SubscriberKind is the object kind, kept under the empty tenant with the
	// lower-cased app id as its alt key, that the change hook reads for the app of
	// each subscription a change matches (the app, whose consent it re-checks). On a
	// dialect with WritableCTE the change's statement reads it with the
	// subscriptions, and GetObjectByAlt answers the hook from that read: one round
	// trip less per change.
	SubscriberKind string
	// Sync, with GroupCommit, makes durable what the writer has committed (for
	// SQLite, which then commits without flushing: an fsync of its write-ahead log).
	// The writer then goes on to its next batch while the flush runs; an Update
	// returns, Committed is signalled, and a View that ends after a commit returns,
	// only once the commit is durable (see syncer). A failed Sync fails every later
	// Update and View. nil: each commit is durable when it returns.
	Sync func() error
	// AfterCommit, when set, is called (after Committed is signalled) for each commit
	// that appended changes or queued notifications, so that a backend can tell other
	// processes sharing the database (PostgreSQL NOTIFY). It must not block.
	AfterCommit func()
	// RerunBatches, with GroupCommit, runs every batch of Update calls twice: once
	// without savepoints, rolled back, then as it is kept. Tests set it to check
	// that every Update function bears being run again, as a batch that meets a
	// failing request runs them again.
	RerunBatches bool
}

// connLost tells whether err means the connection ended (Config.ConnLost).
func (c *Config) connLost(err error) bool { return c.ConnLost != nil && c.ConnLost(err) }

// Store implements store.Store over database/sql.
type Store struct {
	cfg       Config
	d         *Dialect
	hook      store.ChangeHook
	committed chan struct{}

	stmts stmtCache
	// claims keeps what a claim need not read again of rows this store queued.
	claims *claimCache
	// wcache is the group-commit writer's cache (nil without group commit).
	wcache *writeCache
	// sy answers the writer's batches once they are durable (nil without Sync).
	sy *syncer
	// optimism is the writer's choice of savepoints for its next batch.
	optimism optimism

	reqs      chan *writeReq
	closing   chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

type writeReq struct {
	ctx  context.Context
	fn   func(store.Tx) error
	done chan error
}

// New returns a store over cfg's connections. Migrations must already be applied.
func New(cfg Config) *Store {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 20
	}
	s := &Store{
		cfg:       cfg,
		d:         cfg.Dialect,
		committed: make(chan struct{}, 1),
		stmts:     stmtCache{max: 512},
		claims:    newClaimCache(claimCacheBytes),
		reqs:      make(chan *writeReq, cfg.MaxBatch),
		closing:   make(chan struct{}),
		optimism:  optimism{always: cfg.RerunBatches},
	}
	if cfg.GroupCommit {
		s.wcache = newWriteCache(cfg.CachedKinds, 100_000)
		if cfg.Sync != nil {
			s.sy = newSyncer(cfg.Sync)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.sy.run(s.committedHere)
			}()
		}
		s.wg.Add(1)
		go s.writer()
	}
	return s
}

// Dialect returns the store's dialect (for backends that add statements).
func (s *Store) Dialect() *Dialect { return s.d }

// SetChangeHook implements store.Store.
func (s *Store) SetChangeHook(fn store.ChangeHook) { s.hook = fn }

// Committed implements store.Store.
func (s *Store) Committed() <-chan struct{} { return s.committed }

// Signal wakes whoever waits on Committed, without blocking. Backends call it when
// another process committed; commits of this store signal by themselves.
func (s *Store) Signal() {
	select {
	case s.committed <- struct{}{}:
	default:
	}
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	select {
	case <-s.closing:
		return store.ErrClosed
	default:
	}
	if s.sy != nil {
		// After a failed flush the store answers nothing: health says so.
		if err := s.sy.failed(); err != nil {
			return err
		}
	}
	var n int
	return s.cfg.Reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
}

// Close implements store.Store. It waits for the writer to finish its batch; the
// backend closes the pools afterwards.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	s.wg.Wait()
	s.stmts.close()
	return nil
}

// View implements store.Store.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	select {
	case <-s.closing:
		return store.ErrClosed
	default:
	}
	bctx, err := s.statementContext(ctx)
	if err != nil {
		return err
	}
	var live liveHorizon
	if s.d.LiveHorizon != nil && store.ReadingChangeLog(ctx) {
		live = s.startLiveHorizon(ctx)
	}
	sqlTx, err := s.beginRead(bctx)
	t := &Tx{s: s, q: sqlTx, readOnly: true}
	if live != nil {
		// BEGIN takes no snapshot: the first statement does, after this.
		r := <-live
		if err == nil && r.err != nil {
			sqlTx.Rollback()
			return fmt.Errorf("change log horizon: %w", r.err)
		}
		t.live = r.h
	}
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer sqlTx.Rollback()
	err = fn(t)
	if s.sy != nil && !store.ReadingForItself(ctx) {
		// What fn read may include a commit not yet durable: it is not shown before
		// it is (see syncer). The connection goes back to the pool first, for the
		// reads that come meanwhile.
		sqlTx.Rollback()
		if serr := s.sy.wait(); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}

// beginRead begins View's transaction. A BEGIN that finds its connection gone is
// tried again on another, up to MaxAttempts times: after the database restarted,
// every connection the pool kept fails so once.
func (s *Store) beginRead(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: s.cfg.ReadOnlyTx, Isolation: s.cfg.ReadIsolation}
	for attempt := 1; ; attempt++ {
		sqlTx, err := s.cfg.Reader.BeginTx(ctx, opts)
		if err == nil || !s.cfg.connLost(err) || attempt >= s.cfg.MaxAttempts {
			return sqlTx, err
		}
	}
}

// liveHorizon delivers the dialect's LiveHorizon once.
type liveHorizon chan struct {
	h   int64
	err error
}

// startLiveHorizon asks the dialect's LiveHorizon on its own connection while the
// caller begins its transaction, so that the two round trips overlap.
func (s *Store) startLiveHorizon(ctx context.Context) liveHorizon {
	ch := make(liveHorizon, 1)
	go func() {
		h, err := s.d.LiveHorizon(ctx)
		ch <- struct {
			h   int64
			err error
		}{h, err}
	}()
	return ch
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	select {
	case <-s.closing:
		return store.ErrClosed
	default:
	}
	if !s.cfg.GroupCommit {
		return s.updateOne(ctx, fn)
	}
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return store.ErrClosed
	}
	// Once queued, the writer always answers, even if ctx ends: the caller must learn
	// whether its transaction committed.
	return <-r.done
}

func (s *Store) updateOne(ctx context.Context, fn func(store.Tx) error) error {
	uniques := 0
	for attempt := 1; ; attempt++ {
		err, cause := s.attempt(ctx, fn)
		if err == nil {
			return nil
		}
		switch {
		case s.cfg.Retryable != nil && s.cfg.Retryable(cause):
		case s.cfg.connLost(cause):
		case s.cfg.RetryUniqueViolations && s.d.IsUniqueViolation != nil && s.d.IsUniqueViolation(cause) && uniques < 2:
			uniques++
		default:
			return err
		}
		if attempt == s.cfg.MaxAttempts {
			// Still losing after every attempt: the caller may try again later.
			return fmt.Errorf("%w: %d attempts lost conflicts with concurrent writes or their connections: %w", store.ErrBusy, attempt, err)
		}
		// Lost a conflict with a concurrent transaction: run fn again on fresh data,
		// after a random pause so that the same two do not collide again. The pause's
		// range doubles with each attempt (1, 2, 4 … 64 ms): when many writers
		// contend for one folder or row, fixed short pauses kept them colliding until
		// some ran out of attempts.
		pause := time.Duration(1+mrand.Int64N(int64(time.Millisecond)<<min(attempt-1, 6))) * time.Nanosecond
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// attempt runs fn in one transaction. It returns fn's error (or the commit's) and,
// apart, the database error that decides whether running fn again may help: the
// first statement error noted as retryable, which fn may have wrapped, translated
// or swallowed, else fn's or the commit's own.
func (s *Store) attempt(ctx context.Context, fn func(store.Tx) error) (err, cause error) {
	sqlTx, err := s.cfg.Writer.BeginTx(ctx, &sql.TxOptions{Isolation: s.cfg.WriteIsolation})
	if err != nil {
		return fmt.Errorf("begin: %w", err), err
	}
	t := &Tx{s: s, q: sqlTx}
	if err := runFn(fn, t); err != nil {
		sqlTx.Rollback()
		if t.retry != nil {
			return err, t.retry
		}
		return err, err
	}
	if err := sqlTx.Commit(); err != nil {
		if s.cfg.connLost(err) {
			// The commit may have happened: fn must not run again.
			return fmt.Errorf("commit: %w", err), nil
		}
		return fmt.Errorf("commit: %w", err), err
	}
	t.committed()
	if t.signal {
		s.committedHere()
	}
	return nil, nil
}

// committedHere signals a commit of this store: to local waiters, and through
// AfterCommit to other processes.
func (s *Store) committedHere() {
	s.Signal()
	if s.cfg.AfterCommit != nil {
		s.cfg.AfterCommit()
	}
}

// runFn calls fn, turning a panic into an error so that one bad request cannot take
// the writer (and every other request of its batch) down.
func runFn(fn func(store.Tx) error, t *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: transaction panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return fn(t)
}

// writer is the single goroutine that owns the write connection when group commit is
// on. It takes whatever requests are waiting (up to MaxBatch), runs each in its own
// savepoint of one transaction, and commits them together: one fsync for the batch.
func (s *Store) writer() {
	defer s.wg.Done()
	if s.sy != nil {
		defer s.sy.stop()
	}
	batch := make([]*writeReq, 0, s.cfg.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		case <-s.closing:
			s.drainClosed()
			return
		}
	fill:
		for len(batch) < s.cfg.MaxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.runBatch(batch)
	}
}

func (s *Store) drainClosed() {
	for {
		select {
		case r := <-s.reqs:
			r.done <- store.ErrClosed
		default:
			return
		}
	}
}

func (s *Store) runBatch(batch []*writeReq) {
	ctx := context.Background()
	defer s.wcache.batchEnded()
	if s.sy != nil {
		if err := s.sy.failed(); err != nil {
			for _, r := range batch {
				r.done <- err
			}
			return
		}
	}
	// A batch of several requests first runs them back to back with no savepoints
	// (see optimism). If one fails, the transaction is rolled back and the batch runs
	// again, each request in its own savepoint, so that the failure undoes its own
	// writes alone. Update's contract lets a backend run fn more than once.
	careful := !s.optimism.always && (len(batch) == 1 || s.optimism.careful())
	for {
		sqlTx, err := s.cfg.Writer.BeginTx(ctx, nil)
		if err != nil {
			for _, r := range batch {
				r.done <- fmt.Errorf("begin: %w", err)
			}
			return
		}
		var errs []error
		var txs []*Tx
		var signal bool
		if careful {
			errs, txs, signal, err = s.runCareful(ctx, sqlTx, batch)
			if err != nil {
				s.failBatch(sqlTx, batch, err)
				return
			}
		} else if errs, txs, signal = s.runOptimistic(sqlTx, batch); errs == nil || s.optimism.always {
			sqlTx.Rollback()
			if errs == nil {
				s.optimism.failed()
			}
			careful = true
			continue
		} else {
			s.optimism.succeeded()
		}
		s.commitBatch(sqlTx, batch, errs, txs, signal)
		return
	}
}

// runOptimistic runs the batch's requests in sqlTx without savepoints. It returns
// each request's result (nil for all but those whose context had ended) and
// transaction, or nil errs when a request failed: its writes, and the others', are
// then mixed in sqlTx, which the caller rolls back.
func (s *Store) runOptimistic(sqlTx *sql.Tx, batch []*writeReq) (errs []error, txs []*Tx, signal bool) {
	errs, txs = make([]error, len(batch)), make([]*Tx, len(batch))
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		t := &Tx{s: s, q: sqlTx, cached: true}
		if err := runFn(r.fn, t); err != nil {
			return nil, nil, false
		}
		txs[i] = t
		signal = signal || t.signal
	}
	return errs, txs, signal
}

// runCareful runs the batch's requests in sqlTx, each in a savepoint of its own (a
// lone request in the transaction itself), so that a request's failure undoes its
// own writes only. err is a failure of the batch's own statements, which fails
// the whole batch.
func (s *Store) runCareful(ctx context.Context, sqlTx *sql.Tx, batch []*writeReq) (errs []error, txs []*Tx, signal bool, err error) {
	errs, txs = make([]error, len(batch)), make([]*Tx, len(batch))
	single := len(batch) == 1
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if !single {
			if _, err := s.execBatch(ctx, sqlTx, "SAVEPOINT g"); err != nil {
				return nil, nil, false, fmt.Errorf("savepoint: %w", err)
			}
		}
		t := &Tx{s: s, q: sqlTx, cached: true}
		errs[i] = runFn(r.fn, t)
		if single {
			if errs[i] != nil {
				// The lone request's writes go with the transaction (commitBatch).
				return errs, nil, false, nil
			}
			txs[i] = t
			return errs, txs, t.signal, nil
		}
		if errs[i] != nil {
			if _, err := s.execBatch(ctx, sqlTx, "ROLLBACK TO g"); err != nil {
				return nil, nil, false, fmt.Errorf("rollback to savepoint: %w", err)
			}
		} else {
			txs[i] = t
			signal = signal || t.signal
		}
		if _, err := s.execBatch(ctx, sqlTx, "RELEASE g"); err != nil {
			return nil, nil, false, fmt.Errorf("release savepoint: %w", err)
		}
	}
	return errs, txs, signal, nil
}

// commitBatch commits sqlTx and answers the batch's callers: errs are their
// requests' own results, txs the transactions of those that succeeded, whose
// AfterCommit functions run once the commit has. A lone request that failed rolls
// the transaction back.
func (s *Store) commitBatch(sqlTx *sql.Tx, batch []*writeReq, errs []error, txs []*Tx, signal bool) {
	if len(batch) == 1 && errs[0] != nil {
		sqlTx.Rollback()
		batch[0].done <- errs[0]
		return
	}
	if err := sqlTx.Commit(); err != nil {
		for i, r := range batch {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("commit: %w", err)
			}
			r.done <- errs[i]
		}
		return
	}
	for _, t := range txs {
		if t != nil {
			t.committed()
		}
	}
	if s.sy != nil {
		s.sy.add(batch, errs, signal)
		return
	}
	if signal {
		s.committedHere()
	}
	for i, r := range batch {
		r.done <- errs[i]
	}
}

// optimism decides whether the writer's next batch of several requests runs them
// without savepoints. A savepoint per request costs every request its SAVEPOINT and
// RELEASE and a copy of each page it first writes (SQLite's sub-journal); a batch
// without them that meets a failing request must run again. After such a batch the
// next ones take savepoints, for a stretch that doubles with each optimistic batch
// that failed (up to maxCareful) and halves with each that did not, so that a
// stream of failing requests costs at most one batch in maxCareful+1 run twice.
// Only the writer goroutine uses it.
type optimism struct {
	stretch, left int
	// always runs every batch twice, a lone request too: first without savepoints,
	// rolled back whatever happened, then with them (Config.RerunBatches).
	always bool
}

const maxCareful = 64

func (o *optimism) careful() bool {
	if o.left > 0 {
		o.left--
		return true
	}
	return false
}

func (o *optimism) failed() {
	o.stretch = min(max(1, 2*o.stretch), maxCareful)
	o.left = o.stretch
}

func (o *optimism) succeeded() { o.stretch /= 2 }

// execBatch runs one of the batch's own statements (the savepoints around each
// request), prepared once: parsing them again for every request of every batch was a
// measurable share of the writer's time.
func (s *Store) execBatch(ctx context.Context, sqlTx *sql.Tx, query string) (sql.Result, error) {
	st, err := s.stmts.get(ctx, s.cfg.Writer, query)
	if err != nil || st == nil {
		return sqlTx.ExecContext(ctx, query)
	}
	return sqlTx.StmtContext(ctx, st).ExecContext(ctx)
}

func (s *Store) failBatch(sqlTx *sql.Tx, batch []*writeReq, err error) {
	sqlTx.Rollback()
	for _, r := range batch {
		r.done <- err
	}
}

// ErrReadOnly is returned by write methods inside View.
var ErrReadOnly = errors.New("store: write in a read-only transaction")
