package bench

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/wait"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestPGSample holds a row lock in one transaction while another waits for it: of
// the two backends inside a transaction one waits for a lock, which is what the
// sampler must report.
func TestPGSample(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE counter (n INT); INSERT INTO counter VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	holder, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if _, err := holder.ExecContext(ctx, `UPDATE counter SET n = n + 1`); err != nil {
		t.Fatal(err)
	}
	waiterDone := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, `UPDATE counter SET n = n + 1`)
		waiterDone <- err
	}()
	if !wait.Poll(10*time.Second, func() bool {
		var n int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		return n == 1
	}) {
		t.Fatal("the second UPDATE never waited for the lock")
	}
	stop, err := startPGSample(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	s, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	if s.samples < 1 || s.pct() != 50 || s.byEvent["transactionid"] < 1 {
		t.Errorf("sample = %d samples, %d in a transaction, %d waiting (%v), %.1f %%; want 50 %%, waiting on transactionid",
			s.samples, s.inTx, s.lockWaiting, s.byEvent, s.pct())
	}
	holder.Rollback()
	if err := <-waiterDone; err != nil {
		t.Errorf("waiting UPDATE: %v", err)
	}
	if _, err := startPGSample(ctx, "postgres://%zz"); err == nil {
		t.Error("startPGSample with a bad URL succeeded")
	}
}
