package sqlstore

import (
	"context"
	"errors"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
)

// TestRetriesRunOutBusy: a write that keeps failing in a way worth running again is
// run MaxAttempts times, then returned as store.ErrBusy (which the API answers 503
// with Retry-After) with its own error still inside; one that fails otherwise is
// returned at once, unchanged.
func TestRetriesRunOutBusy(t *testing.T) {
	ctx := context.Background()
	lost := errors.New("lost a conflict")
	s, _ := openSQLiteWith(t, Config{MaxAttempts: 3, Retryable: func(err error) bool { return errors.Is(err, lost) }})

	runs := 0
	err := s.Update(ctx, func(tx store.Tx) error {
		runs++
		o := store.Object{Tenant: "t", Kind: "k", ID: "x", Data: []byte(`{}`)}
		if err := tx.InsertObject(ctx, &o); err != nil {
			return err
		}
		return lost
	})
	if !errors.Is(err, store.ErrBusy) || !errors.Is(err, lost) || runs != 3 {
		t.Errorf("Update that always loses = %v after %d runs; want ErrBusy wrapping its error after 3", err, runs)
	}
	if err := s.View(ctx, func(tx store.Tx) error {
		_, err := tx.GetObject(ctx, "t", "k", "x")
		return err
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the lost runs, GetObject = %v; want ErrNotFound: no run may have committed", err)
	}

	runs = 0
	other := errors.New("bad request")
	if err := s.Update(ctx, func(store.Tx) error { runs++; return other }); err != other || runs != 1 {
		t.Errorf("Update that fails otherwise = %v after %d runs; want its error unchanged after 1", err, runs)
	}
}
