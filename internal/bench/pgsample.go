package bench

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// The lock-wait sampler (--pg-sample): while changes are driven it reads
// pg_stat_activity of graphhook's database every pgSampleEvery and counts, over
// the backends that are inside a transaction, those waiting for a heavyweight lock
// (wait_event_type 'Lock': row, transaction, advisory and table locks). Uniform
// samples make the ratio of the two counts an estimate of the share of transaction
// time spent waiting for locks, summed over every node that shares the database.

// pgSampleEvery is the sampling period: 50 samples a second, each of every backend
// in a transaction, at the cost of one query each. The query is not small for a
// database on the machine it measures (about 0.1 ms of its CPU): every 5 ms it took
// 6 % of PostgreSQL's CPU in a 15 s single run, which the run's changes then lacked.
const pgSampleEvery = 20 * time.Millisecond

// pgSample is what the sampler measured.
type pgSample struct {
	samples     int
	inTx        int64 // backend samples inside a transaction
	lockWaiting int64 // of which waiting for a lock
	byEvent     map[string]int64
}

// validatePGSample checks --pg-sample.
func validatePGSample(u string) error {
	if u == "" {
		return nil
	}
	if _, err := pgconn.ParseConfig(u); err != nil {
		return fmt.Errorf("--pg-sample: not a postgres:// URL: %v", err)
	}
	return nil
}

// startPGSample connects to dbURL and samples until the returned function is
// called, which returns the figures. With dbURL empty it does nothing.
func startPGSample(ctx context.Context, dbURL string) (stop func() (*pgSample, error), err error) {
	if dbURL == "" {
		return func() (*pgSample, error) { return nil, nil }, nil
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	// One statement per sample, the sampler's own backend left out; the database is
	// the one the URL names, graphhook's.
	const query = `SELECT COALESCE(wait_event_type, '') = 'Lock', COALESCE(wait_event, '')
		FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
			AND xact_start IS NOT NULL AND state <> 'idle'`
	res := &pgSample{byEvent: map[string]int64{}}
	sample := func(ctx context.Context) error {
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var lock bool
			var event string
			if err := rows.Scan(&lock, &event); err != nil {
				return err
			}
			res.inTx++
			if lock {
				res.lockWaiting++
				res.byEvent[event]++
			}
		}
		res.samples++
		return rows.Err()
	}
	// The first sample is taken before the run starts.
	if err := sample(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("--pg-sample: %w", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var sampleErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(pgSampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-tick.C:
			}
			if err := sample(sctx); err != nil {
				if sctx.Err() == nil {
					sampleErr = err
				}
				return
			}
		}
	}()
	return func() (*pgSample, error) {
		cancel()
		wg.Wait()
		db.Close()
		return res, sampleErr
	}, nil
}

// pct is the share of in-transaction backend samples that waited for a lock.
func (s *pgSample) pct() float64 {
	if s == nil || s.inTx == 0 {
		return 0
	}
	return 100 * float64(s.lockWaiting) / float64(s.inTx)
}

// addPGSample puts what the sampler measured into res.
func (res *Result) addPGSample(s *pgSample, err error) error {
	if err != nil {
		return fmt.Errorf("--pg-sample: %w", err)
	}
	if s == nil {
		return nil
	}
	pct := s.pct()
	res.LockWaitPct, res.PGSamples, res.LockWaits = &pct, s.samples, s.byEvent
	return nil
}
