package store

import "context"

// Totals are running sums a workload keeps for an object in the transactions that
// change what they sum, so that reading them costs an index read instead of a walk
// of everything below the object: a drive folder's bytes at any depth below it and
// its count of direct children.
type Totals struct {
	Size  int64
	Count int64
}

// TotalsTx keeps totals. Totals are not objects: writing them bumps no version and
// appends no change, so keeping them never shows in an eTag or a notification.
type TotalsTx interface {
	// AddTotals adds delta to the totals of the object (tenant, kind, id), counting
	// from zero when it has none. Adds commute: a backend whose transactions run
	// concurrently (PostgreSQL) spreads one object's totals over a few rows and
	// adds to one of them, chosen per transaction, so that concurrent writers under
	// one folder (every write of a drive adds to its root) seldom write the same
	// row and lose a serialization conflict.
	AddTotals(ctx context.Context, tenant, kind, id string, delta Totals) error
	// GetTotals returns the totals of each of ids (objects of kind in tenant); an id
	// with none is absent from the map (its totals are zero). Its cost grows with
	// len(ids), not with what the totals sum.
	GetTotals(ctx context.Context, tenant, kind string, ids []string) (map[string]Totals, error)
	// DeleteTotals drops the totals of an object that is gone; absent totals are not
	// an error.
	DeleteTotals(ctx context.Context, tenant, kind, id string) error
}
