package postgres

import (
	"context"
	"database/sql"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/sqlstore"
)

// UpdateQueue runs fn in a READ COMMITTED transaction instead of Update's
// SERIALIZABLE one, for the dispatcher's transactions over queue rows alone: a
// claim (rows read FOR UPDATE SKIP LOCKED, then moved by id) and the outcomes
// written after it, each guarded by the state it expects, need no more. Under
// SERIALIZABLE a claim reads a range of the queue's index that every change-writing
// transaction inserts into, and PostgreSQL often cancels it as the pivot of a
// dangerous structure (during a 10 s single bench, 136 of 150 claims), to be run
// again. fn must not append changes: the change hook does not run here.
//
// The dispatcher may use it where the store offers it:
//
//	if q, ok := st.(interface{ UpdateQueue(context.Context, func(store.Tx) error) error }); ok { … }
func (s *Store) UpdateQueue(ctx context.Context, fn func(store.Tx) error) error {
	return s.queue.Update(ctx, fn)
}

// newQueueStore is the store behind UpdateQueue: the same pool and dialect as the
// main one; its commits signal through the main store (Committed, NOTIFY).
func newQueueStore(d *sqlstore.Dialect, db *sql.DB, s *Store) *sqlstore.Store {
	return sqlstore.New(sqlstore.Config{
		Dialect: d, Writer: db, Reader: db, ReadOnlyTx: true,
		AfterCommit:    func() { s.Signal(); s.notify.committed() },
		WriteIsolation: sql.LevelReadCommitted, Retryable: isRetryable, ConnLost: isConnLost,
		ReadIsolation: sql.LevelRepeatableRead,
	})
}
