package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// errBadTTL refuses a lease that would be expired the moment it is taken.
var errBadTTL = errors.New("store: lease ttl must be positive")

// TryLease implements store.LeaseTx. It is one upsert: the insert takes a free lease,
// and the update's guard takes an expired one or renews the holder's own. On
// PostgreSQL a concurrent upsert of the same name waits for the row lock and then
// re-checks the guard against the committed row, so two callers never both win.
func (t *Tx) TryLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	if ttl <= 0 {
		return false, errBadTTL
	}
	res, err := t.Exec(ctx, `INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
		WHERE leases.holder = excluded.holder OR leases.expires <= ?`,
		name, holder, now.Add(ttl).UnixNano(), now.UnixNano())
	if err != nil {
		return false, t.translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// ReleaseLease implements store.LeaseTx.
func (t *Tx) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := t.Exec(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
	return t.translate(err)
}

// GetLease implements store.LeaseTx.
func (t *Tx) GetLease(ctx context.Context, name string) (store.Lease, error) {
	l := store.Lease{Name: name}
	var expires int64
	err := t.QueryRow(ctx, `SELECT holder, expires FROM leases WHERE name = ?`, name).Scan(&l.Holder, &expires)
	l.Expires = time.Unix(0, expires).UTC()
	return l, t.translate(err)
}
