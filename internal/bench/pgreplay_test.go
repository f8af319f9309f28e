package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestPGCapture feeds the tracer the statements of interleaved transactions on two
// connections: only a committed transaction that appended a change is kept, the
// first one at once and then the one after skip, with its arguments copied and
// pgx's query options left out; after that nothing is recorded.
func TestPGCapture(t *testing.T) {
	c := NewPGCapture()
	c.skip = 2
	a, b := new(pgx.Conn), new(pgx.Conn)
	run := func(conn *pgx.Conn, sql string, err error, tag string, args ...any) {
		ctx := c.TraceQueryStart(context.Background(), conn, pgx.TraceQueryStartData{SQL: sql, Args: args})
		c.TraceQueryEnd(ctx, conn, pgx.TraceQueryEndData{CommandTag: pgconn.NewCommandTag(tag), Err: err})
	}
	change := func(conn *pgx.Conn, id string, body []byte) {
		run(conn, "INSERT INTO objects_message (tenant, kind, id) VALUES ($1, $2, $3)", nil, "INSERT 0 1", "t", "message", id)
		run(conn, "WITH c AS (INSERT INTO changes ...", nil, "SELECT 1", pgx.QueryResultFormatsByOID{}, "t", "message", id, body)
	}
	kept := func() []pgStatement {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.tx
	}

	// A read, and a change rolled back or refused at commit: none kept.
	run(a, "begin isolation level repeatable read read only", nil, "BEGIN")
	run(a, "SELECT 1", nil, "SELECT 1", "x")
	run(a, "commit", nil, "COMMIT")
	run(a, "begin isolation level serializable", nil, "BEGIN")
	change(a, "rolled-back", nil)
	run(a, "rollback", nil, "ROLLBACK")
	run(b, "begin isolation level serializable", nil, "BEGIN")
	change(b, "refused", nil)
	run(b, "commit", errors.New("could not serialize access"), "")
	run(a, "begin isolation level serializable", nil, "BEGIN")
	change(a, "aborted", nil)
	run(a, "commit", nil, "ROLLBACK")
	if got := kept(); got != nil {
		t.Fatalf("kept %v before any change committed", got)
	}

	// Two changes interleaved: the first to commit is kept at once.
	body := []byte("one")
	run(a, "begin isolation level serializable", nil, "BEGIN")
	run(b, "begin isolation level serializable", nil, "BEGIN")
	change(b, "two", []byte("two"))
	change(a, "one", body)
	run(a, "commit", nil, "COMMIT")
	body[0] = 'X' // the caller's buffer, reused
	want := []pgStatement{
		{sql: "begin isolation level serializable", args: []any{}},
		{sql: "INSERT INTO objects_message (tenant, kind, id) VALUES ($1, $2, $3)", args: []any{"t", "message", "one"}},
		{sql: "WITH c AS (INSERT INTO changes ...", args: []any{"t", "message", "one", []byte("one")}},
		{sql: "commit", args: []any{}},
	}
	opt := cmp.AllowUnexported(pgStatement{})
	if diff := cmp.Diff(want, kept(), opt); diff != "" {
		t.Fatalf("first change kept (-want +got):\n%s", diff)
	}
	run(b, "commit", nil, "COMMIT") // the second: not yet past skip
	if id := changeID(kept()); id != "one" {
		t.Fatalf("after the second change the kept one is %q, want one", id)
	}
	run(a, "begin isolation level serializable", nil, "BEGIN")
	change(a, "three", nil)
	run(a, "commit", nil, "COMMIT")
	if id := changeID(kept()); id != "three" {
		t.Fatalf("after the third change the kept one is %q, want three", id)
	}
	run(a, "begin isolation level serializable", nil, "BEGIN")
	change(a, "four", nil)
	run(a, "commit", nil, "COMMIT")
	if id := changeID(kept()); id != "three" {
		t.Errorf("a change after the capture replaced it with %q", id)
	}
}

// TestWithID checks the new id goes wherever the old one was, in strings and in
// string arrays, and nowhere else.
func TestWithID(t *testing.T) {
	got := withID([]any{"abc", "Users/u/Messages/abc", []string{"abc", "x"}, []byte("abc"), int64(7)}, "abc", "abc-replay-1-2")
	want := []any{"abc-replay-1-2", "Users/u/Messages/abc-replay-1-2", []string{"abc-replay-1-2", "x"}, []byte("abc"), int64(7)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("withID (-want +got):\n%s", diff)
	}
}

// TestPGCaptureConcurrent: many connections trace transactions at once while one
// is kept; statements that arrive as the capture ends are dropped, not recorded in
// a map the capture has let go.
func TestPGCaptureConcurrent(t *testing.T) {
	c := NewPGCapture()
	c.skip = 5
	var wg sync.WaitGroup
	for range 32 {
		conn := new(pgx.Conn)
		wg.Go(func() {
			for i := range 200 {
				for _, sql := range []string{"begin isolation level serializable", "WITH c AS (INSERT INTO changes ...", "commit"} {
					ctx := c.TraceQueryStart(context.Background(), conn, pgx.TraceQueryStartData{SQL: sql, Args: []any{"t", "message", fmt.Sprint(i)}})
					c.TraceQueryEnd(ctx, conn, pgx.TraceQueryEndData{CommandTag: pgconn.NewCommandTag("COMMIT")})
				}
			}
		})
	}
	wg.Wait()
	if !c.done.Load() || changeID(c.tx) == "" {
		t.Errorf("after 6,400 change transactions: done %v, kept %v; want one kept", c.done.Load(), c.tx)
	}
}
