package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/graphhook/graphhook/internal/store"
)

// ExplainObjects returns the backend's query plan for the statements ListObjects
// runs for q, one line per plan row: SQLite's EXPLAIN QUERY PLAN details,
// PostgreSQL's EXPLAIN text. Tests read it to show that a page is read from an index
// rather than by sorting the collection.
func (s *Store) ExplainObjects(ctx context.Context, q store.ObjectQuery) (string, error) {
	if seeks(q) {
		first, firstArgs, page, pageArgs, err := seekQueries(s.d, q)
		if err != nil {
			return "", err
		}
		a, err := s.explain(ctx, first, firstArgs)
		if err != nil {
			return "", err
		}
		// The plan does not depend on where the page starts.
		b, err := s.explain(ctx, page, pageArgs("", ""))
		return a + "\n" + b, err
	}
	query, args, err := listQuery(s.d, q)
	if err != nil {
		return "", err
	}
	return s.explain(ctx, query, args)
}

// ExplainCount is ExplainObjects for the statement CountObjects runs for q.
func (s *Store) ExplainCount(ctx context.Context, q store.ObjectQuery) (string, error) {
	query, args, err := countQuery(s.d, q)
	if err != nil {
		return "", err
	}
	return s.explain(ctx, query, args)
}

// ExplainQueue returns the backend's plans for the queue's statements that must
// find their rows through an index rather than by reading every notification kept:
// a claim's read, the rescuer's two rules and the heartbeats' prune, by name.
func (s *Store) ExplainQueue(ctx context.Context) (map[string]string, error) {
	now := int64(1)
	statements := []struct {
		name  string
		query string
		args  []any
	}{
		{"claim", claimQuery + s.d.SkipLocked, []any{"https://example.com/", now, 100}},
		{"rescue", rescueQuery, []any{now, now}},
		{"rescue lapsed", rescueLapsedQuery, []any{now, now}},
		{"prune heartbeats", pruneHeartbeatsQuery, []any{now}},
	}
	plans := map[string]string{}
	for _, st := range statements {
		plan, err := s.explain(ctx, st.query, st.args)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.name, err)
		}
		plans[st.name] = plan
	}
	return plans, nil
}

// explain returns the plan of a query, one line per plan row.
func (s *Store) explain(ctx context.Context, query string, args []any) (string, error) {
	prefix := "EXPLAIN "
	if s.d.Name == "sqlite" {
		prefix = "EXPLAIN QUERY PLAN "
	}
	var lines []string
	err := s.View(ctx, func(tx store.Tx) error {
		rows, err := tx.(*Tx).Query(ctx, prefix+query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			// SQLite: id, parent, notused, detail; PostgreSQL: one text column.
			vals := make([]any, len(cols))
			for i := range vals {
				vals[i] = new(any)
			}
			if err := rows.Scan(vals...); err != nil {
				return err
			}
			last := *(vals[len(vals)-1].(*any))
			switch v := last.(type) {
			case string:
				lines = append(lines, v)
			case []byte:
				lines = append(lines, string(v))
			}
		}
		return rows.Err()
	})
	return strings.Join(lines, "\n"), err
}

// Analyze refreshes the query planner's statistics in tx (ANALYZE): a backend runs
// it after large loads so that paging queries keep choosing the owner and parent
// indexes.
func (s *Store) Analyze(ctx context.Context, tx store.Tx) error {
	_, err := tx.(*Tx).Exec(ctx, "ANALYZE")
	return err
}
