package fault

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store/pgtest"
)

// TestKillSQLite kills the server with SIGKILL at random points of a stream of
// changes and restarts it on the same data folder: every change the API acknowledged
// is notified at least once.
func TestKillSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	l := loop{backend: "sqlite", sig: syscall.SIGKILL, stops: 10, window: 30, workers: 4, slow: 100 * time.Millisecond, notifyWithin: 60 * time.Second}
	if soak() {
		l.stops, l.window = 1000, 10
	}
	out := l.run(t)
	t.Logf("SQLite, SIGKILL: %v", out)
	checkNoneLost(t, out)
}

// TestKillPostgres runs two nodes on one PostgreSQL database and kills one of them
// with SIGKILL at random points of a stream of changes while the other keeps running;
// the killed node restarts. Every change the API acknowledged is notified at least
// once.
func TestKillPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	// Rows the killed node held in flight wait for the rescuer, which takes them
	// back once the node's heartbeat is a lease TTL (15 s) old, plus up to a third
	// of it for the rescuer's next pass and, when the killed node led, the lease's
	// own lapse: the bound on the final wait is four TTLs.
	l := loop{backend: "postgres", database: pgtest.URL(t), sig: syscall.SIGKILL, stops: 3, window: 30, workers: 4, slow: 100 * time.Millisecond, notifyWithin: 60 * time.Second}
	if soak() {
		l.stops, l.window = 50, 20
	}
	out := l.run(t)
	t.Logf("PostgreSQL (two nodes), SIGKILL: %v", out)
	checkNoneLost(t, out)
}

// TestCleanStop stops the server with SIGTERM at random points of a stream of
// changes and restarts it: nothing is lost and, since a clean stop finishes or
// releases what it sent and records the outcome, nothing is notified twice.
func TestCleanStop(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	stops := 6
	if soak() {
		stops = 100
	}
	t.Run("sqlite", func(t *testing.T) {
		l := loop{backend: "sqlite", sig: syscall.SIGTERM, stops: stops, window: 30, workers: 4, slow: 100 * time.Millisecond, notifyWithin: 60 * time.Second}
		checkClean(t, l.run(t))
	})
	t.Run("postgres", func(t *testing.T) {
		l := loop{backend: "postgres", database: pgtest.URL(t), sig: syscall.SIGTERM, stops: stops, window: 30, workers: 4, slow: 100 * time.Millisecond, notifyWithin: 150 * time.Second}
		checkClean(t, l.run(t))
	})
}

func checkClean(t *testing.T, out outcome) {
	t.Helper()
	t.Logf("SIGTERM: %v", out)
	checkNoneLost(t, out)
	if out.duplicated != 0 {
		t.Errorf("%d duplicate notifications across %d clean stops, want 0; some of them:\n%s", out.duplicated, out.stops, strings.Join(out.dups, "\n"))
	}
	// A clean stop leaves nothing in flight for the rescuer (which waits a minute):
	// what the stopped node owed is delivered at once, by itself or the other node.
	if worst := pct(out.backlog, 1); worst > 30*time.Second {
		t.Errorf("a clean stop's backlog took %v to drain, want well under the rescuer's minute", worst)
	}
}

func checkNoneLost(t *testing.T, out outcome) {
	t.Helper()
	if out.lost != 0 {
		t.Errorf("%d of %d acknowledged changes never notified (e.g. %s)", out.lost, out.acked, out.missing[0])
	}
	if out.acked == 0 {
		t.Errorf("no change acknowledged: the loop tested nothing")
	}
}
