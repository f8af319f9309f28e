package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	_ "github.com/mattn/go-sqlite3"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/sqlite"
	"github.com/graphhook/graphhook/internal/store/sqlstore"
)

// TestObjectsMoveToRowidTable: objects written to the WITHOUT ROWID table of
// migrations up to 021 read back the same after migration 022 moves them to a rowid
// table, through their id, their indexes and a listing; (tenant, kind, id) stays
// unique.
func TestObjectsMoveToRowidTable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "graphhook.db")+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.MigrateTo(ctx, db, sqlite.Dialect(), 21); err != nil {
		t.Fatal(err)
	}
	indexes := func(db *sql.DB) []string {
		rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'objects' AND sql IS NOT NULL ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		return names
	}
	before := indexes(db)
	var withoutRowid int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'objects' AND sql LIKE '%WITHOUT ROWID%'`).Scan(&withoutRowid); err != nil || withoutRowid != 1 {
		t.Fatalf("before 022 objects is not WITHOUT ROWID: %d, %v", withoutRowid, err)
	}
	body := `{"subject":"a long enough body to need an overflow page in an index B-tree: ` + fmt.Sprintf("%01500d", 7) + `","isRead":false}`
	var want []store.Object
	for i := range 40 {
		o := store.Object{Tenant: "t", Kind: "message", ID: fmt.Sprintf("m%03d", i), Owner: "u1", Parent: "inbox", Version: int64(1 + i%3),
			Created: time.Unix(0, int64(1e9+i)).UTC(), Updated: time.Unix(0, int64(2e9+i)).UTC(), Data: []byte(body), Sort: fmt.Sprintf("2026-01-01T00:00:%02dZ", 59-i%60)}
		if i%2 == 1 {
			o.Kind, o.Owner, o.Parent, o.Alt, o.Data, o.Sort = "user", "", "", fmt.Sprintf("user%d@contoso.com", i), []byte(fmt.Sprintf(`{"displayName":"User %d"}`, i)), ""
		}
		if _, err := db.Exec(`INSERT INTO objects (tenant, kind, id, owner, parent, alt, deleted, version, created, updated, data, sort) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`,
			o.Tenant, o.Kind, o.ID, o.Owner, o.Parent, o.Alt, o.Version, o.Created.UnixNano(), o.Updated.UnixNano(), o.Data, o.Sort); err != nil {
			t.Fatal(err)
		}
		want = append(want, o)
	}
	db.Close()

	s, err := sqlite.Open(ctx, sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err = sql.Open("sqlite3", "file:"+filepath.Join(dir, "graphhook.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if d := cmp.Diff(append(before, "objects_id"), indexes(db), cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
		t.Errorf("indexes of objects after the migration (-want +got):\n%s", d)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'objects' AND sql LIKE '%WITHOUT ROWID%'`).Scan(&withoutRowid); err != nil || withoutRowid != 0 {
		t.Errorf("after 022 objects is still WITHOUT ROWID: %d, %v", withoutRowid, err)
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
			if o.Alt != "" {
				if got, err := tx.GetObjectByAlt(ctx, o.Tenant, o.Kind, o.Alt); err != nil || got.ID != o.ID {
					t.Errorf("%s by its alt key: %s, %v", o.ID, got.ID, err)
				}
			}
		}
		page, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: "message", Parent: "inbox", BySort: true, Limit: 5})
		if err != nil {
			return err
		}
		var ids []string
		for _, o := range page {
			ids = append(ids, o.ID)
		}
		// Sort keys 59 - i: the last ids sort first.
		if d := cmp.Diff([]string{"m038", "m036", "m034", "m032", "m030"}, ids); d != "" {
			t.Errorf("folder page by sort key (-want +got):\n%s", d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "message", ID: "m000", Data: []byte(`{}`)})
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("insert of an existing id after the migration: %v, want ErrConflict", err)
	}
}
