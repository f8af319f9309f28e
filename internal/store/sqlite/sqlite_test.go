package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/sqlite"
	"github.com/graphhook/graphhook/internal/store/sqlstore"
	"github.com/graphhook/graphhook/internal/store/storetest"
	"github.com/graphhook/graphhook/internal/wait"
)

func TestConformance(t *testing.T) {
	testConformance(t, "NORMAL")
}

// TestConformanceFlushed runs the suite as serve runs the store: synchronous FULL,
// whose flushes the store's syncer makes off the writer, each caller answered after
// its flush.
func TestConformanceFlushed(t *testing.T) {
	testConformance(t, "FULL")
}

func testConformance(t *testing.T, synchronous string) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir(), Synchronous: synchronous})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(ctx, sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "user", ID: "u", Data: []byte(`{}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatalf("reopen (migrations must be idempotent): %v", err)
	}
	defer s.Close()
	err = s.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetObject(ctx, "t", "user", "u")
		return err
	})
	if err != nil {
		t.Fatalf("object after reopen: %v", err)
	}
}

func TestBadSynchronous(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir(), Synchronous: "SOMETIMES"}); err == nil {
		t.Fatal("Open with a bad synchronous mode succeeded")
	}
}

// TestLogPagesEdge: a negative LogPages is refused by name; one page, the least a
// log can hold, opens and writes.
func TestLogPagesEdge(t *testing.T) {
	ctx := context.Background()
	if _, err := sqlite.Open(ctx, sqlite.Config{Dir: t.TempDir(), LogPages: -1}); err == nil || !strings.Contains(err.Error(), "LogPages") {
		t.Fatalf("Open with LogPages -1 = %v, want an error naming LogPages", err)
	}
	s, err := sqlite.Open(ctx, sqlite.Config{Dir: t.TempDir(), LogPages: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "k", ID: "1", Data: []byte(`{}`)})
	}); err != nil {
		t.Fatal(err)
	}
}

// openFresh opens a store on a new file, without flushes (plans and contents are
// what these tests read), closed when the test ends.
func openFresh(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir(), Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPagesReadAnIndex: a page of a collection in its default order, at any
// $skip, and a $skiptoken page are read from an index in order (see
// storetest.RunExplain), even on a fresh file whose planner has no statistics.
func TestPagesReadAnIndex(t *testing.T) {
	s := openFresh(t)
	storetest.RunExplain(t, s, s.ExplainObjects, "TEMP B-TREE", nil)
}

// TestCheckpointsOffTheWriter: pages committed to the write-ahead log reach the
// database file without any commit reaching the writer's own checkpoint threshold
// (Config.LogPages): the store's checkpointer copied them.
func TestCheckpointsOffTheWriter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(ctx, sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := filepath.Join(dir, "graphhook.db")
	size := func() int64 {
		fi, err := os.Stat(db)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	data := []byte(`{"pad":"` + strings.Repeat("x", 2000) + `"}`)
	err = s.Update(ctx, func(tx store.Tx) error {
		for i := range 100 { // about 100 pages: far under SQLite's threshold
			if err := tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "k", ID: fmt.Sprint(i), Data: data}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !wait.Poll(10*time.Second, func() bool { return size() >= before+100*2000 }) {
		t.Fatalf("database file %d bytes, was %d: the log's pages were not copied", size(), before)
	}
}

// TestLogStartsAgain: under a stream of write transactions, with a reader reading
// throughout, the write-ahead log stays near Config.LogPages pages instead of
// growing with what is written: the checkpoint of the commit that finds the log
// past LogPages lets the next transaction write it again from its beginning.
func TestLogStartsAgain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const pages = 300
	s, err := sqlite.Open(ctx, sqlite.Config{Dir: dir, LogPages: pages})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stop := make(chan struct{})
	read := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				read <- nil
				return
			default:
			}
			if err := s.View(ctx, func(tx store.Tx) error {
				_, err := tx.GetObject(ctx, "t", "k", "0-0")
				if errors.Is(err, store.ErrNotFound) {
					err = nil
				}
				return err
			}); err != nil {
				read <- err
				return
			}
		}
	}()
	data := []byte(`{"pad":"` + strings.Repeat("x", 3000) + `"}`)
	const txs, perTx = 200, 20 // 4,000 objects of 3 KB: about 8,000 pages written
	for i := range txs {
		if err := s.Update(ctx, func(tx store.Tx) error {
			for j := range perTx {
				if err := tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "k", ID: fmt.Sprintf("%d-%d", i, j), Data: data}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "graphhook.db-wal"))
	if err != nil {
		t.Fatal(err)
	}
	// A frame is a 4,096-byte page and its 24-byte header. The log passes the
	// threshold by the transaction that crosses it, and by more when the reader
	// still reads an older snapshot as the next transaction begins (the log cannot
	// start again under it); unchecked, it would hold all 8,000 pages.
	if limit := int64(4*pages) * (4096 + 24); fi.Size() > limit {
		t.Errorf("write-ahead log %d bytes after about 8,000 pages written, want at most %d (%d pages)", fi.Size(), limit, 4*pages)
	}
}

// TestTemporaryFilesInMemory checks that the writer and the readers keep SQLite's
// temporary files (savepoint journals, sorts) in memory.
func TestTemporaryFilesInMemory(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(name string, tx store.Tx) error {
		var mode int
		if err := tx.(*sqlstore.Tx).QueryRow(ctx, "PRAGMA temp_store").Scan(&mode); err != nil {
			return err
		}
		if mode != 2 { // MEMORY
			t.Errorf("%s: temp_store = %d, want 2 (MEMORY)", name, mode)
		}
		return nil
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return check("writer", tx) }); err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx store.Tx) error { return check("reader", tx) }); err != nil {
		t.Fatal(err)
	}
}
