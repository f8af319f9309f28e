// Package skew keeps the server clock's offset (what the admin API's clock advance
// adds to the system time) in the store, so that time moved forward stays moved
// across restarts and every node of a shared database runs on the same offset.
//
// The stored offset only grows: an advance adds to the larger of the stored and the
// local offset in one serializable transaction, and a node applies a stored offset
// only when it is ahead of its own (clock.Offset.Raise). So concurrent advances on
// two nodes add up, a stale read changes nothing, and time never runs backwards on
// any node.
//
// A node that did not take the advance sees it at its next Sync pass: within the
// Loop's interval (DefaultEvery) on a shared database.
package skew

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
)

// The stored offset is a global object (no tenant), like the dev admin key.
const (
	kind = "clockOffset"
	id   = "server"
)

// DefaultEvery is how often Loop re-reads the stored offset: the bound on how long a
// node runs behind another node's advance.
const DefaultEvery = 2 * time.Second

// Keeper keeps one clock's offset in one store.
type Keeper struct {
	store store.Store
	clock *clock.Offset
	log   *slog.Logger
}

// New returns a Keeper of clk's offset in st; log (default slog.Default()) gets
// the moves a Sync applies.
func New(st store.Store, clk *clock.Offset, log *slog.Logger) *Keeper {
	if log == nil {
		log = slog.Default()
	}
	return &Keeper{store: st, clock: clk, log: log}
}

type doc struct {
	// Nanoseconds, as a number: Go's duration string would do, but a number is what
	// another reader of the database expects.
	OffsetNanos int64 `json:"offsetNanos"`
}

func read(ctx context.Context, tx store.Tx) (store.Object, time.Duration, error) {
	o, err := tx.GetObject(ctx, "", kind, id)
	if err != nil {
		return o, 0, err
	}
	var d doc
	if err := json.Unmarshal(o.Data, &d); err != nil {
		return o, 0, fmt.Errorf("clock offset: stored value unreadable: %w", err)
	}
	return o, time.Duration(d.OffsetNanos), nil
}

// Sync moves the clock forward to the stored offset when that is ahead of it. A
// store without an offset leaves the clock as it is.
func (k *Keeper) Sync(ctx context.Context) error {
	var stored time.Duration
	err := k.store.View(ctx, func(tx store.Tx) error {
		var err error
		_, stored, err = read(ctx, tx)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if k.clock.Raise(stored) {
		k.log.Info("clock offset moved by another node or an earlier run", "offset", stored.String())
	}
	return nil
}

// Advance moves the clock forward by d (positive) on this node and in the store:
// the new offset is the larger of the stored and the local one, plus d, saturating
// at the largest Duration. It returns the new offset.
func (k *Keeper) Advance(ctx context.Context, d time.Duration) (time.Duration, error) {
	if d <= 0 {
		return 0, fmt.Errorf("clock advance %v: must be positive", d)
	}
	var next time.Duration
	err := k.store.Update(ctx, func(tx store.Tx) error {
		o, stored, err := read(ctx, tx)
		found := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		base := max(stored, k.clock.Skew())
		next = base + d
		if next < base { // overflow
			next = math.MaxInt64
		}
		data, _ := json.Marshal(doc{OffsetNanos: int64(next)})
		if !found {
			return tx.InsertObject(ctx, &store.Object{Kind: kind, ID: id, Data: data})
		}
		o.Data = data
		return tx.UpdateObject(ctx, &o)
	})
	if err != nil {
		return 0, err
	}
	k.clock.Raise(next)
	return k.clock.Skew(), nil
}

// Loop is the service that runs Sync every interval (DefaultEvery when zero), for
// nodes that share their store with others.
func (k *Keeper) Loop(every time.Duration) service.Service {
	return &service.Loop{
		Name:  "clock offset",
		Every: cmp.Or(every, DefaultEvery),
		Log:   k.log,
		Pass: func(ctx context.Context) (service.Result, error) {
			return service.Result{}, k.Sync(ctx)
		},
	}
}
