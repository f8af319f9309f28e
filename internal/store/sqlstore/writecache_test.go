package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/graphhook/graphhook/internal/store"
)

// openSQLite opens a group-commit store over a fresh SQLite file, as the sqlite
// backend does (its package imports this one, so it cannot be used here), with the
// kinds the writer caches; it is closed when the test ends.
func openSQLite(t *testing.T, cachedKinds ...string) (*Store, *sql.DB) {
	t.Helper()
	return openSQLiteWith(t, Config{GroupCommit: true, CachedKinds: cachedKinds})
}

// openSQLiteWith opens a store configured as cfg (its dialect and connections
// aside) over a fresh SQLite file; it is closed when the test ends.
func openSQLiteWith(t *testing.T, cfg Config) (*Store, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "t.db")+"?_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(2)
	d := &Dialect{Name: "sqlite"}
	if err := Migrate(ctx, db, d); err != nil {
		t.Fatal(err)
	}
	cfg.Dialect, cfg.Writer, cfg.Reader = d, db, db
	s := New(cfg)
	t.Cleanup(func() { s.Close() })
	return s, db
}

func openCached(t *testing.T) (*Store, *sql.DB) { return openSQLite(t, "app") }

func subsOn(t *testing.T, s *Store, topics ...string) []string {
	t.Helper()
	var ids []string
	err := s.Update(context.Background(), func(tx store.Tx) error {
		subs, err := tx.SubscriptionsByTopics(context.Background(), "t", topics)
		for _, sub := range subs {
			ids = append(ids, sub.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func update(t *testing.T, s *Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

// TestWriteCacheSubscriptions: the writer's cached answers follow every insert,
// update and delete of a subscription, and results stay sorted by id across topics.
func TestWriteCacheSubscriptions(t *testing.T) {
	s, db := openCached(t)
	if got := subsOn(t, s, "a", "b"); len(got) != 0 {
		t.Fatalf("empty store: %v", got)
	}
	sub := func(id, topic string) *store.Subscription {
		return &store.Subscription{ID: id, Tenant: "t", Topic: topic, ChangeTypes: "created", Data: []byte(`{}`)}
	}
	update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertSubscription(ctx, sub("s2", "a")) })
	update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertSubscription(ctx, sub("s1", "b")) })
	if got := subsOn(t, s, "a", "b", "a"); len(got) != 2 || got[0] != "s1" || got[1] != "s2" {
		t.Fatalf("after inserts: %v, want [s1 s2]", got)
	}
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.GetSubscription(ctx, "s2")
		if err != nil {
			return err
		}
		got.Topic = "c"
		return tx.UpdateSubscription(ctx, &got)
	})
	if got := subsOn(t, s, "a", "b"); len(got) != 1 || got[0] != "s1" {
		t.Fatalf("after moving s2 to c: %v, want [s1]", got)
	}
	if got := subsOn(t, s, "c"); len(got) != 1 || got[0] != "s2" {
		t.Fatalf("topic c: %v, want [s2]", got)
	}
	update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteSubscription(ctx, "s1") })
	if got := subsOn(t, s, "a", "b"); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}
	if got := subsOn(t, s, "c"); len(got) != 1 {
		t.Fatalf("topic c after delete of s1: %v", got)
	}
	// The cache answered: a row written behind the store's back is not seen, which
	// shows the answers above came from the cache that the store's writes cleared.
	if _, err := db.Exec(`UPDATE subscriptions SET topic = 'b' WHERE id = 's2'`); err != nil {
		t.Fatal(err)
	}
	if got := subsOn(t, s, "c"); len(got) != 1 {
		t.Fatalf("topic c should still be answered from the cache: %v", got)
	}
}

// TestWriteCacheRolledBack: a transaction that inserts a subscription, reads it
// back and then fails leaves nothing in the cache; the next one does not see it.
func TestWriteCacheRolledBack(t *testing.T) {
	s, _ := openCached(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertSubscription(ctx, &store.Subscription{ID: "s1", Tenant: "t", Topic: "a", Data: []byte(`{}`)}); err != nil {
			return err
		}
		subs, err := tx.SubscriptionsByTopics(ctx, "t", []string{"a"})
		if err != nil || len(subs) != 1 {
			t.Errorf("own insert not seen inside the transaction: %v, %v", subs, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	if got := subsOn(t, s, "a"); len(got) != 0 {
		t.Fatalf("rolled-back subscription still answered: %v", got)
	}
}

// TestWriteCacheObjects: cached kinds follow their writes; found and not found
// both; other kinds are never cached.
func TestWriteCacheObjects(t *testing.T) {
	s, db := openCached(t)
	get := func(kind string) string {
		var data string
		update(t, s, func(ctx context.Context, tx store.Tx) error {
			o, err := tx.GetObjectByAlt(ctx, "", kind, "a1")
			if errors.Is(err, store.ErrNotFound) {
				data = "absent"
				return nil
			}
			data = string(o.Data)
			return err
		})
		return data
	}
	if got := get("app"); got != "absent" {
		t.Fatalf("empty: %s", got)
	}
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.InsertObject(ctx, &store.Object{Kind: "app", ID: "1", Alt: "a1", Data: []byte(`{"v":1}`)})
	})
	if got := get("app"); got != `{"v":1}` {
		t.Fatalf("after insert: %s", got)
	}
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		o, err := tx.GetObject(ctx, "", "app", "1")
		if err != nil {
			return err
		}
		o.Data = []byte(`{"v":2}`)
		return tx.UpdateObject(ctx, &o)
	})
	if got := get("app"); got != `{"v":2}` {
		t.Fatalf("after update: %s", got)
	}
	if _, err := db.Exec(`UPDATE objects SET data = '{"v":3}' WHERE id = '1'`); err != nil {
		t.Fatal(err)
	}
	if got := get("app"); got != `{"v":2}` {
		t.Fatalf("cached kind should be answered from the cache: %s", got)
	}
	update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteObject(ctx, "", "app", "1") })
	if got := get("app"); got != "absent" {
		t.Fatalf("after delete: %s", got)
	}
	// An uncached kind is read every time.
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.InsertObject(ctx, &store.Object{Kind: "user", ID: "1", Alt: "a1", Data: []byte(`{"v":1}`)})
	})
	get("user")
	if _, err := db.Exec(`UPDATE objects SET data = '{"v":9}' WHERE kind = 'user'`); err != nil {
		t.Fatal(err)
	}
	if got := get("user"); got != `{"v":9}` {
		t.Fatalf("uncached kind: %s", got)
	}
}

// TestWriteCacheCap: past its cap a map starts again empty, and answers stay right.
func TestWriteCacheCap(t *testing.T) {
	s, _ := openCached(t)
	s.wcache = newWriteCache([]string{"app"}, 2)
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.InsertSubscription(ctx, &store.Subscription{ID: "s1", Tenant: "t", Topic: "c", Data: []byte(`{}`)})
	})
	for _, topic := range []string{"a", "b", "c", "a"} {
		got := subsOn(t, s, topic)
		if want := topic == "c"; (len(got) == 1) != want {
			t.Fatalf("topic %s: %v", topic, got)
		}
		if n := len(s.wcache.subs); n > 2 {
			t.Fatalf("cache holds %d topics, cap 2", n)
		}
	}
}
