// Package postgres is graphhook's store for several nodes sharing one PostgreSQL
// database, through pgx. Claims use FOR UPDATE SKIP LOCKED, so every node can dispatch.
// Nodes wake each other with LISTEN/NOTIFY: a commit that appended changes or queued
// notifications is announced on a channel, and every node's Committed signal fires
// for the commits of the others too (notify.go). Polling stays the fallback when a
// notification is lost.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/graphhook/graphhook/internal/store/sqlstore"
)

// Config configures Open.
type Config struct {
	// URL is a postgres:// connection URL.
	URL string
	// MaxConns caps the pool (default 16). The LISTEN and NOTIFY connections, and
	// two for the change log's live horizon, come on top.
	MaxConns int
	// Logger receives the LISTEN/NOTIFY connection's troubles (default: discarded).
	Logger *slog.Logger
	// Tracer, when set, sees every statement of the store's pool (not those of its
	// LISTEN/NOTIFY and horizon connections); `graphhook bench --pg-replay` captures
	// a change's transaction with it.
	Tracer pgx.QueryTracer
	// SubscriberKind is the object kind the change hook reads for the app of each
	// subscription a change matches, read with the change (sqlstore.Config).
	SubscriberKind string
}

// Store is the PostgreSQL backend.
type Store struct {
	*sqlstore.Store
	db *sql.DB
	// horizon runs graphhook_live_horizon for readers of the change log, apart from
	// db: a reader holds one of db's connections while it asks.
	horizon *sql.DB
	notify  *notifier
	// queue runs UpdateQueue's transactions (queueupdate.go).
	queue *sqlstore.Store
}

// Open connects, applies migrations and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URL == "" {
		return nil, errors.New("postgres: no database URL")
	}
	pcfg, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: bad URL: %w", err)
	}
	pcfg.Tracer = cfg.Tracer
	db := stdlib.OpenDB(*pcfg)
	maxConns := cfg.MaxConns
	if maxConns <= 0 {
		maxConns = 16
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	d := Dialect()
	if err := migrate(ctx, db, d); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	horizon, err := sql.Open("pgx", cfg.URL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	horizon.SetMaxOpenConns(2)
	horizon.SetMaxIdleConns(2)
	d.LiveHorizon = func(ctx context.Context) (int64, error) {
		var h int64
		// A connection PostgreSQL closed fails once (isConnLost): the pool's two,
		// then a new one.
		for attempt := 1; ; attempt++ {
			err := horizon.QueryRowContext(ctx, `SELECT graphhook_live_horizon()`).Scan(&h)
			if err == nil || !isConnLost(err) || attempt == 3 {
				return h, err
			}
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{db: db, horizon: horizon}
	s.notify, err = newNotifier(cfg.URL, func() { s.Signal() }, log)
	if err != nil {
		horizon.Close()
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s.Store = sqlstore.New(sqlstore.Config{
		Dialect: d, Writer: db, Reader: db, ReadOnlyTx: true, AfterCommit: s.notify.committed, SubscriberKind: cfg.SubscriberKind,
		// Serializable writes behave like SQLite's single writer (a rule that reads,
		// then writes, holds across nodes); the price is an occasional retry.
		WriteIsolation: sql.LevelSerializable, Retryable: isRetryable, RetryUniqueViolations: true,
		// A connection PostgreSQL closed (a restart, an administrator, a pooler)
		// fails its transaction, which runs again on another one.
		ConnLost: isConnLost,
		// A View reads one snapshot, as on SQLite.
		ReadIsolation: sql.LevelRepeatableRead,
	})
	s.queue = newQueueStore(d, db, s)
	s.notify.start()
	return s, nil
}

// migrate holds an advisory lock while migrating, so that nodes starting together
// do not race.
func migrate(ctx context.Context, db *sql.DB, d *sqlstore.Dialect) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	const lockID = 0x67726170686b // "graphk"
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, lockID)
	// On the connection that holds the lock: through the pool they needed a second
	// connection, and a pool of one (MaxConns 1) waited for ever.
	return sqlstore.Migrate(ctx, conn, d)
}

// Dialect returns the PostgreSQL dialect.
func Dialect() *sqlstore.Dialect {
	return &sqlstore.Dialect{Name: "postgres", DollarParams: true, IsUniqueViolation: isUniqueViolation, SkipLocked: "FOR UPDATE SKIP LOCKED",
		SeqHorizon: "graphhook_change_horizon()", TotalsShards: 16, WritableCTE: true,
		ObjectPartitions: objectPartitions, OtherObjects: "objects_other"}
}

// objectPartitions are the partitions of objects by kind (migration 022); every
// other kind's rows are in objects_other. A test reads them back from the database.
var objectPartitions = map[string]string{
	"message": "objects_message", "event": "objects_event", "contact": "objects_contact",
	"user": "objects_user", "group": "objects_group", "alert": "objects_alert",
	"conversation": "objects_conversation", "thread": "objects_thread", "post": "objects_post",
	"list": "objects_list", "driveItem": "objects_driveitem",
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isRetryable reports a transaction that lost to a concurrent one and may be run
// again: serialization_failure or deadlock_detected.
func isRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// isConnLost reports an error that means the connection to PostgreSQL ended:
// PostgreSQL said it is shutting the session down (class 57P: admin_shutdown,
// crash_shutdown, cannot_connect_now) or reported a connection exception (class
// 08), the connection closed under pgx, or pgx found it closed before sending.
func isConnLost(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "08")
	}
	return pgconn.SafeToRetry(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// Close stops the listener and closes the pool.
func (s *Store) Close() error {
	s.Store.Close()
	s.queue.Close()
	s.notify.stop()
	s.horizon.Close()
	return s.db.Close()
}
