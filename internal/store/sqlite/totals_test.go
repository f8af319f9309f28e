package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/sqlite"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestTotalsBackfill: upgrading a database computes the totals of its drive folders.
func TestTotalsBackfill(t *testing.T) {
	dir := t.TempDir()
	storetest.RunTotalsBackfill(t, func() store.Store {
		s, err := sqlite.Open(context.Background(), sqlite.Config{Dir: dir, Synchronous: "OFF"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, func() {
		db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "graphhook.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`DROP TABLE object_totals; DELETE FROM schema_migrations WHERE version = 13`); err != nil {
			t.Fatal(err)
		}
	})
}
