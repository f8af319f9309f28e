package store

import (
	"context"
	"time"
)

// Lease is a named claim that one holder at a time may have until it expires. Nodes
// sharing one database use it to elect the one that runs leader-only work (expiry
// sweeper, reauthorization scheduler, rescuer, retention): whoever holds the lease
// runs it, and a holder that dies stops renewing, so the lease expires and another
// node takes it over.
type Lease struct {
	Name   string
	Holder string
	// Expires is when the lease lapses unless its holder renews it.
	Expires time.Time
}

// LeaseTx takes, renews and gives up leases. Times are the caller's: every holder of
// one lease must use clocks that agree to well within the lease's ttl.
type LeaseTx interface {
	// TryLease makes holder the holder of the lease name until now+ttl when the lease
	// is free, expired (Expires at or before now) or already held by holder (a
	// renewal), and reports whether holder holds it afterwards. A lease held by
	// another holder that has not expired is left alone and TryLease returns false
	// with a nil error. Two concurrent calls for one free lease never both return
	// true. ttl must be positive.
	TryLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error)
	// ReleaseLease gives the lease up when holder holds it, so that another holder
	// need not wait for it to expire. Releasing a lease held by someone else, or by
	// nobody, changes nothing and is not an error.
	ReleaseLease(ctx context.Context, name, holder string) error
	// GetLease returns the lease as stored, expired or not. ErrNotFound when nobody
	// took it or its last holder released it.
	GetLease(ctx context.Context, name string) (Lease, error)
}
