package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.URL(t)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestBadURL(t *testing.T) {
	if _, err := postgres.Open(context.Background(), postgres.Config{URL: "postgres://%zz"}); err == nil {
		t.Fatal("Open with a malformed URL succeeded")
	}
}

// TestPagesReadAnIndex: a page of a collection in its default order, at any
// $skip, and a $skiptoken page are read from an index in order, with the planner's
// statistics fresh (see storetest.RunExplain).
func TestPagesReadAnIndex(t *testing.T) {
	s, analyze := openToExplain(t)
	storetest.RunExplain(t, s, s.ExplainObjects, "Sort", analyze)
}

// openToExplain opens a store on a fresh database for a plan test, with the
// function that refreshes the planner's statistics after the test's load.
func openToExplain(t *testing.T) (*postgres.Store, func(context.Context) error) {
	s, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, func(ctx context.Context) error {
		return s.Update(ctx, func(tx store.Tx) error { return s.Analyze(ctx, tx) })
	}
}

// TestOneConnection: a store whose pool holds one connection opens, migrating on
// the connection that holds the migration lock, and writes and reads. With the
// migrations run through the pool, Open waited for a second connection for ever.
func TestOneConnection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, postgres.Config{URL: pgtest.URL(t), MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "user", ID: "u1", Data: []byte(`{}`)}); err != nil {
			return err
		}
		return tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "user", ID: "u1", ChangeType: store.Created, Topics: []string{"users"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetObject(ctx, "t", "user", "u1")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestServerClosedConnections: PostgreSQL closes every connection of the store's
// pool (as a restart, an administrator or a pooler would) and the next write and
// read, right after, succeed on new connections instead of failing once per
// connection the pool kept.
func TestServerClosedConnections(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, postgres.Config{URL: url, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	write := func(id string) error {
		return s.Update(ctx, func(tx store.Tx) error {
			return tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "user", ID: id, Data: []byte(`{}`)})
		})
	}
	read := func(id string) error {
		return s.View(ctx, func(tx store.Tx) error {
			_, err := tx.GetObject(ctx, "t", "user", id)
			return err
		})
	}
	// Four connections in the pool: four transactions held open together.
	var inside sync.WaitGroup
	inside.Add(4)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			errs <- s.View(ctx, func(tx store.Tx) error {
				_, err := tx.GetObject(ctx, "t", "user", "none")
				inside.Done()
				inside.Wait()
				if !errors.Is(err, store.ErrNotFound) {
					return err
				}
				return nil
			})
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := write("before"); err != nil {
		t.Fatal(err)
	}
	// Reads of the change log also ask the live horizon on connections of their
	// own. Used more than once, a connection is no longer pinged before its next
	// use within a second, and a dead one fails the statement.
	for range 3 {
		if err := s.View(store.ReadsChangeLog(ctx), func(store.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}

	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var closed int
	if err := admin.QueryRowContext(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`).Scan(&closed); err != nil {
		t.Fatal(err)
	}
	if closed < 4 {
		t.Fatalf("closed %d connections, want at least the pool's 4", closed)
	}
	if err := write("after"); err != nil {
		t.Errorf("write after PostgreSQL closed the pool's connections: %v", err)
	}
	if err := read("before"); err != nil {
		t.Errorf("read after PostgreSQL closed the pool's connections: %v", err)
	}
	if err := s.View(store.ReadsChangeLog(ctx), func(store.Tx) error { return nil }); err != nil {
		t.Errorf("read of the change log after PostgreSQL closed the horizon's connection: %v", err)
	}
	if err := read("after"); err != nil {
		t.Errorf("read of the write made after: %v", err)
	}
}
