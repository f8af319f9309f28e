package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/graphhook/graphhook/internal/store"
)

// errLost stands for a driver's error when the database closed the connection.
var errLost = errors.New("connection closed by the server")

// lossy is an SQLite connector whose BEGINs and COMMITs fail with errLost as many
// times as its counters say. A failed COMMIT has committed, as one whose answer
// was lost may have.
type lossy struct {
	dsn           string
	begins, comms atomic.Int32
}

func (l *lossy) Connect(context.Context) (driver.Conn, error) {
	c, err := (&sqlite3.SQLiteDriver{}).Open(l.dsn)
	if err != nil {
		return nil, err
	}
	return &lossyConn{SQLiteConn: c.(*sqlite3.SQLiteConn), l: l}, nil
}

func (l *lossy) Driver() driver.Driver { return &sqlite3.SQLiteDriver{} }

type lossyConn struct {
	*sqlite3.SQLiteConn
	l *lossy
}

func (c *lossyConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.l.begins.Add(-1) >= 0 {
		return nil, errLost
	}
	tx, err := c.SQLiteConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &lossyTx{Tx: tx, l: c.l}, nil
}

type lossyTx struct {
	driver.Tx
	l *lossy
}

func (t *lossyTx) Commit() error {
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	if t.l.comms.Add(-1) >= 0 {
		return errLost
	}
	return nil
}

// openLossy opens a store over a lossy connector; connLost says whether the store
// is told which errors mean a lost connection.
func openLossy(t *testing.T, connLost bool) (*Store, *lossy) {
	t.Helper()
	l := &lossy{dsn: "file:" + filepath.Join(t.TempDir(), "t.db") + "?_journal_mode=WAL&_txlock=immediate"}
	db := sql.OpenDB(l)
	t.Cleanup(func() { db.Close() })
	d := &Dialect{Name: "sqlite"}
	if err := Migrate(context.Background(), db, d); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Dialect: d, Writer: db, Reader: db}
	if connLost {
		cfg.ConnLost = func(err error) bool { return errors.Is(err, errLost) }
	}
	s := New(cfg)
	t.Cleanup(func() { s.Close() })
	return s, l
}

// TestConnLost: a transaction whose connection was lost before it asked to commit
// runs again, whether BEGIN failed (View and Update) or a statement did; one whose
// COMMIT lost its connection is returned after one run, never run again, since it
// may have committed; and a store not told which errors mean a lost connection
// returns them at once.
func TestConnLost(t *testing.T) {
	ctx := context.Background()
	s, l := openLossy(t, true)
	insert := func(id string, runs *int, fail error) func(store.Tx) error {
		return func(tx store.Tx) error {
			*runs++
			if err := tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "k", ID: id, Data: []byte(`{}`)}); err != nil {
				return err
			}
			if *runs == 1 && fail != nil {
				return fail
			}
			return nil
		}
	}
	count := func(id string) int {
		n := 0
		if err := s.View(ctx, func(tx store.Tx) error {
			_, err := tx.GetObject(ctx, "t", "k", id)
			if err == nil {
				n = 1
			}
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}); err != nil {
			t.Fatalf("View: %v", err)
		}
		return n
	}

	l.begins.Store(3)
	runs := 0
	if err := s.Update(ctx, insert("begin", &runs, nil)); err != nil || runs != 1 {
		t.Errorf("Update after 3 lost BEGINs = %v after %d runs of fn; want nil after 1", err, runs)
	}
	l.begins.Store(3)
	if n := count("begin"); n != 1 {
		t.Errorf("View after 3 lost BEGINs read %d objects, want 1", n)
	}

	runs = 0
	if err := s.Update(ctx, insert("statement", &runs, fmtLost())); err != nil || runs != 2 {
		t.Errorf("Update whose statement lost its connection = %v after %d runs; want nil after 2", err, runs)
	}
	if n := count("statement"); n != 1 {
		t.Errorf("after a statement's lost connection and a run again, %d objects; want 1", n)
	}

	l.comms.Store(1)
	runs = 0
	if err := s.Update(ctx, insert("commit", &runs, nil)); !errors.Is(err, errLost) || runs != 1 {
		t.Errorf("Update whose COMMIT lost its connection = %v after %d runs; want the loss after 1", err, runs)
	}
	if n := count("commit"); n != 1 {
		t.Errorf("after a COMMIT that committed and lost its answer, %d objects; want 1", n)
	}

	plain, pl := openLossy(t, false)
	pl.begins.Store(1)
	runs = 0
	if err := plain.Update(ctx, insert("x", &runs, nil)); !errors.Is(err, errLost) || runs != 0 {
		t.Errorf("without ConnLost, Update after a lost BEGIN = %v after %d runs; want the loss at once", err, runs)
	}
	pl.begins.Store(1)
	if err := plain.View(ctx, func(store.Tx) error { return nil }); !errors.Is(err, errLost) {
		t.Errorf("without ConnLost, View after a lost BEGIN = %v; want the loss", err)
	}
}

// fmtLost is errLost as a statement's error comes back, wrapped.
func fmtLost() error { return errors.Join(errors.New("insert"), errLost) }
