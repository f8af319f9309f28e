package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/sqlstore"
)

// TestObjectsMoveToPartitions: objects of several kinds written to the one table of
// migrations up to 021 read back the same after migration 022 moves them to their
// kinds' partitions, through their id, their alt key, a listing and a partial
// index's filter; each row is in its kind's partition (a kind without indexes of its
// own in objects_other); (tenant, kind, id) stays unique; and a message's partition
// carries the indexes a message is in, not the other kinds'.
func TestObjectsMoveToPartitions(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.MigrateTo(ctx, db, postgres.Dialect(), 21); err != nil {
		t.Fatal(err)
	}
	kinds := []struct{ kind, partition string }{
		{"message", "objects_message"}, {"user", "objects_user"}, {"driveItem", "objects_driveitem"}, {"mailFolder", "objects_other"}, {"member", "objects_other"},
	}
	var want []store.Object
	for i := range 40 {
		k := kinds[i%len(kinds)].kind
		o := store.Object{Tenant: "t", Kind: k, ID: fmt.Sprintf("o%03d", i), Owner: "u1", Parent: "inbox", Alt: fmt.Sprintf("alt%d", i), Version: int64(1 + i%3),
			Created: time.Unix(0, int64(1e9+i)).UTC(), Updated: time.Unix(0, int64(2e9+i)).UTC(), Data: fmt.Appendf(nil, `{"isRead":%t,"displayName":"Name %d"}`, i%2 == 0, i), Sort: fmt.Sprintf("2026-01-01T00:00:%02dZ", 59-i)}
		if _, err := db.Exec(`INSERT INTO objects (tenant, kind, id, owner, parent, alt, deleted, version, created, updated, data, sort) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11)`,
			o.Tenant, o.Kind, o.ID, o.Owner, o.Parent, o.Alt, o.Version, o.Created.UnixNano(), o.Updated.UnixNano(), o.Data, o.Sort); err != nil {
			t.Fatal(err)
		}
		want = append(want, o)
	}

	s, err := postgres.Open(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, o := range want {
		var partition string
		if err := db.QueryRow(`SELECT tableoid::regclass::text FROM objects WHERE tenant = $1 AND kind = $2 AND id = $3`, o.Tenant, o.Kind, o.ID).Scan(&partition); err != nil {
			t.Fatalf("%s: %v", o.ID, err)
		}
		for _, k := range kinds {
			if k.kind == o.Kind && k.partition != partition {
				t.Errorf("a %s is in %s, want %s", o.Kind, partition, k.partition)
			}
		}
	}
	opts := []cmp.Option{cmpopts.EquateEmpty(), cmp.Comparer(func(a, b []byte) bool { return string(a) == string(b) })}
	err = s.View(ctx, func(tx store.Tx) error {
		for _, o := range want {
			got, err := tx.GetObject(ctx, o.Tenant, o.Kind, o.ID)
			if err != nil {
				return fmt.Errorf("%s: %w", o.ID, err)
			}
			if d := cmp.Diff(o, got, opts...); d != "" {
				t.Errorf("%s after the migration (-want +got):\n%s", o.ID, d)
			}
			if got, err := tx.GetObjectByAlt(ctx, o.Tenant, o.Kind, o.Alt); err != nil || got.ID != o.ID {
				t.Errorf("%s by its alt key: %s, %v", o.ID, got.ID, err)
			}
		}
		unread := store.Cond{Op: store.CondEq, Prop: store.Prop{Path: "isRead", Type: store.PropBool}, Value: false}
		page, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: "message", Parent: "inbox", BySort: true, Where: &unread, Limit: 3})
		if err != nil {
			return err
		}
		var ids []string
		for _, o := range page {
			ids = append(ids, o.ID)
		}
		// Messages are every fifth object; the unread ones the odd i among them, and
		// sort keys 59 - i put the last first.
		if d := cmp.Diff([]string{"o035", "o025", "o015"}, ids); d != "" {
			t.Errorf("unread messages by sort key (-want +got):\n%s", d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "message", ID: "o000", Data: []byte(`{}`)})
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("insert of an existing id after the migration: %v, want ErrConflict", err)
	}

	var names []string
	rows, err := db.Query(`SELECT indexname FROM pg_indexes WHERE tablename = 'objects_message' ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	wantNames := []string{"objects_alt_message", "objects_message_unread", "objects_message_unread_parent", "objects_owner_message", "objects_owner_sort_message",
		"objects_parent_message", "objects_parent_sort_message", "objects_pkey_message"}
	if d := cmp.Diff(wantNames, names); d != "" {
		t.Errorf("indexes of objects_message (-want +got):\n%s", d)
	}
}

// TestObjectReadsPlanOnce: the statements that read, update and delete one object
// name its kind in their text, so that PostgreSQL plans each once for the kind's
// partition. With the kind a parameter, the plan for every partition cost more than
// one for the call's kind, and the planner made a plan at every call.
func TestObjectReadsPlanOnce(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, postgres.Config{URL: pgtest.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Partitions that hold rows, with fresh statistics: a plan over every one of
	// them costs what it would in a store in use.
	err = s.Update(ctx, func(tx store.Tx) error {
		for _, kind := range []string{"user", "event", "contact", "driveItem", "group", "mailFolder"} {
			for i := range 300 {
				if err := tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: kind, ID: fmt.Sprintf("x%d", i), Alt: fmt.Sprintf("x%d", i), Data: []byte(`{}`)}); err != nil {
					return err
				}
			}
		}
		return s.Analyze(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	const calls = 12
	err = s.Update(ctx, func(tx store.Tx) error {
		for i := range calls {
			o := store.Object{Tenant: "t", Kind: "message", ID: fmt.Sprintf("m%d", i), Alt: fmt.Sprintf("a%d", i), Data: []byte(`{}`)}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
			if _, err := tx.GetObject(ctx, "t", "message", o.ID); err != nil {
				return err
			}
			if _, err := tx.GetObjectByAlt(ctx, "t", "message", o.Alt); err != nil {
				return err
			}
			if _, _, err := tx.GetObjects(ctx, "t", []store.ObjectKey{{Kind: "message", ID: o.ID}, {Kind: "user", ID: "u"}}); err != nil {
				return err
			}
			if err := tx.UpdateObject(ctx, &o); err != nil {
				return err
			}
		}
		for i := range calls {
			if err := tx.DeleteObject(ctx, "t", "message", fmt.Sprintf("m%d", i)); err != nil {
				return err
			}
		}
		q, ok := tx.(interface {
			Query(context.Context, string, ...any) (*sql.Rows, error)
		})
		if !ok {
			t.Fatal("the transaction runs no plain query")
		}
		rows, err := q.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements
			WHERE statement LIKE '%objects%' AND statement NOT LIKE 'INSERT%' AND statement NOT LIKE '%pg_prepared_statements%'`)
		if err != nil {
			return err
		}
		defer rows.Close()
		seen := 0
		for rows.Next() {
			var stmt string
			var generic, custom int
			if err := rows.Scan(&stmt, &generic, &custom); err != nil {
				return err
			}
			seen++
			// PostgreSQL plans the first five calls for their values, then keeps one
			// plan for all if it costs no more.
			if generic+custom >= calls && custom > 5 {
				t.Errorf("planned at each call (%d custom plans, %d generic): %s", custom, generic, stmt)
			}
		}
		if seen < 5 {
			t.Errorf("%d prepared statements on objects, want the five reads and writes", seen)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}
