package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps one prepared statement per query text for the group-commit writer.
// Preparing is a large share of a small statement's cost (SQLite parses and plans the
// text on every Prepare) and the same few dozen statements run for every change, so
// each is prepared once and reused: database/sql binds a pool statement to the
// connection of a transaction without preparing it again once it was prepared there.
//
// Only the writer uses it. Preparing a pool statement needs a free connection of the
// pool; the writer's pool keeps a spare one for that, while a reader pool (or
// PostgreSQL's shared pool, where pgx caches prepared statements per connection by
// itself) could have every connection held by transactions that wait for it.
type stmtCache struct {
	mu    sync.RWMutex
	stmts map[*sql.DB]map[string]*sql.Stmt
	// max caps the statements kept per pool: queries built with a variable number of
	// placeholders (IN lists) past the cap are simply not cached.
	max int
}

func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.RLock()
	st := c.stmts[db][query]
	c.mu.RUnlock()
	if st != nil {
		return st, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[db][query]; st != nil {
		return st, nil
	}
	if c.stmts == nil {
		c.stmts = map[*sql.DB]map[string]*sql.Stmt{}
	}
	if c.stmts[db] == nil {
		c.stmts[db] = map[string]*sql.Stmt{}
	}
	if len(c.stmts[db]) >= c.max {
		return nil, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[db][query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.stmts {
		for _, st := range m {
			st.Close()
		}
	}
	c.stmts = nil
}
