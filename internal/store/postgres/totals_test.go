package postgres_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestTotalsBackfill: upgrading a database computes the totals of its drive folders.
func TestTotalsBackfill(t *testing.T) {
	url := pgtest.URL(t)
	storetest.RunTotalsBackfill(t, func() store.Store {
		s, err := postgres.Open(context.Background(), postgres.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, func() {
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`DROP TABLE object_totals; DELETE FROM schema_migrations WHERE version = 13`); err != nil {
			t.Fatal(err)
		}
	})
}
