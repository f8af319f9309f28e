// Package sqlite is graphhook's embedded default store: one SQLite file in WAL mode,
// one writer connection with group commit (many transactions per fsync), a small pool
// of readers, and migrations embedded in the binary and applied at open.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/graphhook/graphhook/internal/store/sqlstore"
)

// Config configures Open.
type Config struct {
	// Dir is the data folder; the database is Dir/graphhook.db. Created if missing.
	Dir string
	// Synchronous is SQLite's synchronous pragma (default "FULL": a commit survives a
	// power cut; "NORMAL" survives a crash of the process only). With "FULL" and
	// "EXTRA" the writer's connection commits as with "NORMAL" and the store flushes
	// the write-ahead log itself, off the writer, before any caller learns of a
	// commit (see flushLog).
	Synchronous string
	// Readers is the size of the read pool (default 4).
	Readers int
	// CachedKinds are object kinds whose lookups by alt key the writer keeps
	// between transactions (sqlstore.Config.CachedKinds): the app, whose grant every
	// change re-checks.
	CachedKinds []string
	// RerunWrites runs every write transaction twice, the first run rolled back
	// (sqlstore.Config.RerunBatches): for tests of code that writes.
	RerunWrites bool
	// LogPages is how long the write-ahead log may grow, in pages, before a commit
	// checkpoints it on the writer (SQLite's wal_autocheckpoint; default 10,000
	// pages, 40 MB: see walAutoCheckpoint).
	LogPages int
}

// walAutoCheckpoint is the writer's default Config.LogPages. The store's
// checkpointer copies the log into the database file every checkpointInterval, off
// the writer; but the log starts again from its beginning only after a
// checkpoint that left nothing to copy at the moment a write transaction begins,
// which under steady writes only the writer's own checkpoint achieves, in the
// commit that finds the log past this many pages. That checkpoint flushes the log
// and the database file on the writer goroutine that every write waits for. At
// SQLite's default of 1,000 pages (4 MB) it ran every few commits under load: the
// writer spent a fifth of its time in those flushes (sampled from
// /proc/<pid>/task/<tid>/stat in batched at 32 clients), and batched delivered
// 26,200–26,400 notifications/s against 32,600–33,200 at 10,000 pages, single at
// 256 clients 3,880–3,900 changes/s against 4,120 (runs side by side). A longer log
// costs disk (up to 40 MB more) and readers a longer search of its index.
const walAutoCheckpoint = 10_000

// Store is the SQLite backend.
type Store struct {
	*sqlstore.Store
	writer, reader *sql.DB
	// checkpointer copies the write-ahead log into the database file (see
	// checkpointEvery).
	checkpointer *sql.DB
	closeOnce    sync.Once
	// stop ends optimizeEvery and checkpointEvery, which signal background when
	// they are done.
	stop       chan struct{}
	background sync.WaitGroup
}

// Open opens (creating if needed) the database in cfg.Dir and applies migrations.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("sqlite: no data folder")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	sync := cmp.Or(cfg.Synchronous, "FULL")
	switch sync {
	case "FULL", "NORMAL", "EXTRA", "OFF":
	default:
		return nil, fmt.Errorf("sqlite: synchronous must be FULL, NORMAL, EXTRA or OFF, not %q", sync)
	}
	if cfg.LogPages < 0 {
		return nil, fmt.Errorf("sqlite: LogPages must not be negative, got %d", cfg.LogPages)
	}
	path := filepath.Join(cfg.Dir, "graphhook.db")
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	var flush func() error
	if sync == "FULL" || sync == "EXTRA" {
		flush = flushLog(path + "-wal")
		q.Set("_synchronous", "NORMAL")
	} else {
		q.Set("_synchronous", sync)
	}
	q.Set("_txlock", "immediate")
	writer := open("file:"+path+"?"+q.Encode(), fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", cmp.Or(cfg.LogPages, walAutoCheckpoint)))
	// The writer goroutine (group commit) is the only one that begins transactions on
	// this pool; the second connection only ever prepares statements for the
	// statement cache, which database/sql then binds to the writing connection.
	writer.SetMaxOpenConns(2)
	writer.SetMaxIdleConns(2)
	writer.SetConnMaxLifetime(0)

	rq := url.Values{}
	rq.Set("_journal_mode", "WAL")
	rq.Set("_busy_timeout", "10000")
	rq.Set("_txlock", "deferred")
	// Each reader connection keeps its prepared statements (the driver's own cache):
	// the same few listing and lookup texts are read again and again, and SQLite
	// parses and plans a text on every prepare.
	rq.Set("_stmt_cache_size", "128")
	rq.Set("_query_only", "1")
	reader := open("file:" + path + "?" + rq.Encode())
	checkpointer := open("file:" + path + "?" + url.Values{"_busy_timeout": {"10000"}}.Encode())
	checkpointer.SetMaxOpenConns(1)
	readers := cmp.Or(cfg.Readers, 4)
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)

	d := Dialect()
	if err := sqlstore.Migrate(ctx, writer, d); err != nil {
		errors.Join(writer.Close(), reader.Close(), checkpointer.Close())
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if flush != nil {
		// The folder's entries for the database and its log, which a flush of the
		// log's contents does not cover.
		if err := syncDir(cfg.Dir); err != nil {
			errors.Join(writer.Close(), reader.Close(), checkpointer.Close())
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	s := &Store{writer: writer, reader: reader, checkpointer: checkpointer, stop: make(chan struct{})}
	s.Store = sqlstore.New(sqlstore.Config{Dialect: d, Writer: writer, Reader: reader, GroupCommit: true, CachedKinds: cfg.CachedKinds, Sync: flush, RerunBatches: cfg.RerunWrites})
	if err := s.Optimize(ctx); err != nil {
		s.Store.Close()
		errors.Join(writer.Close(), reader.Close(), checkpointer.Close())
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s.background.Add(2)
	go s.every(time.Hour, s.optimize)
	go s.every(checkpointInterval, s.checkpoint)
	return s, nil
}

// flushLog returns the store's Sync (sqlstore.Config.Sync) for the write-ahead log
// at path: one fsync of the log, which makes every commit written to it before
// durable. SQLite would flush in each commit, on the writer goroutine that every
// write waits for; here the writer goes on to its next batch during the flush, and
// one flush serves every batch committed before it began. The log is opened anew
// for each flush, so that it is the file SQLite has at that path.
func flushLog(path string) func() error {
	return func() error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		return errors.Join(flushFile(f), f.Close())
	}
}

// syncDir flushes a folder's entries.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// open opens a pool of connections to dsn. Each connection keeps SQLite's temporary
// files in memory (temp_store): a request of the writer's in a savepoint of its own
// journals every page it first touches, and on disk that was a 4 KB write to a
// temporary file per page, about 60 KB per change; readers' sorts use them too.
// pragmas run on each new connection after that.
func open(dsn string, pragmas ...string) *sql.DB {
	pragmas = append([]string{"PRAGMA temp_store = MEMORY"}, pragmas...)
	return sql.OpenDB(connector{dsn: dsn, driver: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		for _, p := range pragmas {
			if _, err := c.Exec(p, nil); err != nil {
				return err
			}
		}
		return nil
	}}})
}

// connector opens connections to one DSN through a driver of its own, whose
// ConnectHook sets what the DSN cannot (database/sql's driver registry is global).
type connector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.driver }

// every runs fn at each interval until Close.
func (s *Store) every(interval time.Duration, fn func()) {
	defer s.background.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			fn()
		}
	}
}

// optimize runs Optimize, hourly: collections grow after start, and the planner
// must keep knowing that an owner's or a folder's index is the narrow one. A
// failure is retried at the next tick (the statistics are only advice to the
// planner).
func (s *Store) optimize() { _ = s.Optimize(context.Background()) }

// checkpointInterval is how often checkpoint copies the log's new pages.
const checkpointInterval = 100 * time.Millisecond

// checkpoint copies the pages written to the write-ahead log since the last time
// into the database file (a passive checkpoint: it never waits for, nor blocks, the
// writer or a reader), every checkpointInterval. Left to SQLite, the copy happens
// inside the commit that finds the log past Config.LogPages, on the writer
// goroutine that every write waits for; done here, on its own connection, that
// commit finds most pages already copied. A failure is retried at the next tick;
// SQLite's own checkpoint still runs if this one falls behind.
func (s *Store) checkpoint() { _, _ = s.checkpointer.Exec("PRAGMA wal_checkpoint(PASSIVE)") }

// Dialect returns the SQLite dialect.
func Dialect() *sqlstore.Dialect {
	return &sqlstore.Dialect{Name: "sqlite", IsUniqueViolation: isUniqueViolation, IndexHints: true, LastInsertID: true, Uninterrupted: true}
}

func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return false
}

// Close stops the writer and closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stop) })
	s.background.Wait()
	s.Store.Close()
	return errors.Join(s.reader.Close(), s.writer.Close(), s.checkpointer.Close())
}

// Optimize runs SQLite's PRAGMA optimize, which refreshes the planner's statistics
// (ANALYZE) of the tables whose size changed much since the last run, so that
// paging queries read the owner's or parent's index rather than the primary key.
func (s *Store) Optimize(ctx context.Context) error {
	_, err := s.writer.ExecContext(ctx, "PRAGMA optimize")
	return err
}
