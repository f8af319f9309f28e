package postgres_test

import (
	"context"
	"os"
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
