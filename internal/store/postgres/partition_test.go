package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/sqlstore"
)

// TestObjectsByKind: migration 022 moves the objects written before it into the
// partitions of their kinds, each readable and writable through the store after it;
// the partitions in the database are the dialect's (one per kind it names, the rest
// in objects_other); and a kind's partition carries the six indexes every kind has
// and its own, no other kind's.
func TestObjectsByKind(t *testing.T) {
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
	before := []store.Object{
		{Tenant: "t", Kind: "message", ID: "m1", Owner: "u1", Parent: "inbox", Sort: "2026-01-01", Data: []byte(`{"isRead":false}`)},
		{Tenant: "t", Kind: "user", ID: "u1", Alt: "adele@contoso.com", Data: []byte(`{"displayName":"Adele"}`)},
		{Tenant: "t", Kind: "driveItem", ID: "d1", Parent: "root", Data: []byte(`{"name":"a.txt"}`)},
		{Tenant: "t", Kind: "mailFolder", ID: "inbox", Owner: "u1", Alt: "inbox", Data: []byte(`{"displayName":"Inbox"}`)},
	}
	for _, o := range before {
		if _, err := db.ExecContext(ctx, `INSERT INTO objects (tenant, kind, id, owner, parent, alt, version, created, updated, data, sort) VALUES ($1, $2, $3, $4, $5, $6, 1, 1, 1, $7, $8)`,
			o.Tenant, o.Kind, o.ID, o.Owner, o.Parent, o.Alt, o.Data, o.Sort); err != nil {
			t.Fatal(err)
		}
	}

	s, err := postgres.Open(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := postgres.Dialect()
	for _, o := range before {
		var table string
		if err := db.QueryRowContext(ctx, `SELECT tableoid::regclass::text FROM objects WHERE tenant = $1 AND kind = $2 AND id = $3`, o.Tenant, o.Kind, o.ID).Scan(&table); err != nil {
			t.Fatalf("%s %s after the migration: %v", o.Kind, o.ID, err)
		}
		want := d.ObjectPartitions[o.Kind]
		if want == "" {
			want = d.OtherObjects
		}
		if table != want {
			t.Errorf("%s %s is in %s, want %s", o.Kind, o.ID, table, want)
		}
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		for _, o := range before {
			got, err := tx.GetObject(ctx, o.Tenant, o.Kind, o.ID)
			if err != nil {
				return err
			}
			if string(got.Data) != string(o.Data) {
				t.Errorf("%s %s reads %s, want %s", o.Kind, o.ID, got.Data, o.Data)
			}
			got.Data = []byte(`{"updated":true}`)
			if err := tx.UpdateObject(ctx, &got); err != nil {
				return err
			}
		}
		if got, err := tx.GetObjectByAlt(ctx, "t", "mailFolder", "inbox"); err != nil || got.ID != "inbox" {
			t.Errorf("GetObjectByAlt(mailFolder, inbox) = %q, %v", got.ID, err)
		}
		return tx.DeleteObject(ctx, "t", "driveItem", "d1")
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "message", ID: "m1", Data: []byte(`{}`)})
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("InsertObject(message m1 again) = %v, want ErrConflict", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM objects WHERE data = '{"updated":true}'::bytea`).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d objects updated and kept (err %v), want 3 (the drive item deleted)", n, err)
	}

	// The partitions are the dialect's.
	rows, err := db.QueryContext(ctx, `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'objects'::regclass AND c.relkind = 'r'`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	other := ""
	for rows.Next() {
		var name, bound string
		if err := rows.Scan(&name, &bound); err != nil {
			t.Fatal(err)
		}
		if bound == "DEFAULT" {
			other = name
			continue
		}
		got[bound] = name
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for kind, table := range d.ObjectPartitions {
		want["FOR VALUES IN ('"+kind+"')"] = table
	}
	if !maps.Equal(got, want) || other != d.OtherObjects {
		t.Errorf("partitions %v, default %q; the dialect's %v, default %q", got, other, want, d.OtherObjects)
	}

	// A message's partition has the six common indexes and its two own.
	var names []string
	rows, err = db.QueryContext(ctx, `SELECT indexname FROM pg_indexes WHERE tablename = 'objects_message' ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	wantNames := []string{"objects_alt_message", "objects_message_unread", "objects_message_unread_parent", "objects_owner_message",
		"objects_owner_sort_message", "objects_parent_message", "objects_parent_sort_message", "objects_pkey_message"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("objects_message's indexes: %v, want %v", names, wantNames)
	}
}
