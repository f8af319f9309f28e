package sqlstore

import (
	"context"
	"fmt"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/graphhook/graphhook/internal/store"
)

// TestStatementCacheCap fills the writer's statement cache past its cap: statements
// beyond it run unprepared, and every write still lands.
func TestStatementCacheCap(t *testing.T) {
	ctx := context.Background()
	s, db := openSQLite(t)
	s.stmts.max = 3
	// Different object queries build different statement texts (owner/parent filters).
	for i := 0; i < 6; i++ {
		err := s.Update(ctx, func(tx store.Tx) error {
			o := store.Object{Tenant: "t", Kind: "k", ID: fmt.Sprint(i), Owner: "o", Data: []byte(`{}`)}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
			q := store.ObjectQuery{Tenant: "t", Kind: "k"}
			switch i % 3 {
			case 1:
				q.Owner = "o"
			case 2:
				q.Parent = ""
				q.Alt = "x"
			}
			_, err := tx.ListObjects(ctx, q)
			return err
		})
		if err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
	}
	s.stmts.mu.RLock()
	cached := len(s.stmts.stmts[db])
	s.stmts.mu.RUnlock()
	if cached != 3 {
		t.Errorf("cached statements = %d, want the cap of 3", cached)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM objects`).Scan(&n); err != nil || n != 6 {
		t.Errorf("objects = %d, %v; want 6 (writes past the cap must land)", n, err)
	}
}
