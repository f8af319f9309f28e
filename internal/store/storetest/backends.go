package storetest

import (
	"context"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/sqlite"
)

// Backends opens a fresh store of each backend, by name, for tests that check a
// workload's listings against its in-memory evaluation on both: SQLite in a
// temporary folder, and PostgreSQL from pgtest (skipped without the server, unless
// GRAPHHOOK_REQUIRE_POSTGRES=1). The store is closed when the test ends. A test
// binary that uses it runs pgtest.Run from its TestMain.
func Backends() map[string]Opener {
	return map[string]Opener{
		"sqlite": func(t *testing.T) store.Store {
			s, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir(), Synchronous: "OFF"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) store.Store {
			s, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.URL(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// OnEachBackend runs fn, in parallel, on a fresh store of each backend, as a subtest
// named after it.
func OnEachBackend(t *testing.T, fn func(t *testing.T, s store.Store)) {
	for name, open := range Backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}
