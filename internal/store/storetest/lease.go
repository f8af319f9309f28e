package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// testLeaseHandover walks two holders through one lease: competing for it, renewal
// keeping it, expiry handing it over (at the exact instant, not before), release.
func testLeaseHandover(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const ttl = 10 * time.Second
	type step struct {
		what    string
		op      string // "try" or "release"
		holder  string
		at      time.Duration // after t0
		want    bool          // try: held afterwards
		holds   string        // holder GetLease reports afterwards; "" for none
		expires time.Duration // GetLease's Expires after t0, when holds is set
	}
	steps := []step{
		{"a takes the free lease", "try", "a", 0, true, "a", ttl},
		{"b cannot take a's lease", "try", "b", 1 * time.Second, false, "a", ttl},
		{"a renews", "try", "a", 5 * time.Second, true, "a", 5*time.Second + ttl},
		{"renewal kept it past the first expiry", "try", "b", ttl, false, "a", 5*time.Second + ttl},
		{"one nanosecond before expiry it is still a's", "try", "b", 5*time.Second + ttl - time.Nanosecond, false, "a", 5*time.Second + ttl},
		{"at expiry b takes it over", "try", "b", 5*time.Second + ttl, true, "b", 5*time.Second + 2*ttl},
		{"a lost it", "try", "a", 6*time.Second + ttl, false, "b", 5*time.Second + 2*ttl},
		{"a cannot release b's lease", "release", "a", 7*time.Second + ttl, false, "b", 5*time.Second + 2*ttl},
		{"b releases", "release", "b", 8*time.Second + ttl, false, "", 0},
		{"a takes the released lease at once", "try", "a", 9*time.Second + ttl, true, "a", 9*time.Second + 2*ttl},
		{"c, who never held it, releases: no error, no change", "release", "c", 9*time.Second + ttl, false, "a", 9*time.Second + 2*ttl},
	}
	for _, st := range steps {
		now := t0.Add(st.at)
		var got bool
		var err error
		switch st.op {
		case "try":
			err = s.Update(ctx, func(tx store.Tx) error {
				got, err = tx.TryLease(ctx, "sweepers", st.holder, ttl, now)
				return err
			})
			if err != nil || got != st.want {
				t.Fatalf("%s: TryLease(sweepers, %s, %v, t0+%v) = %v, %v, want %v, nil", st.what, st.holder, ttl, st.at, got, err, st.want)
			}
		case "release":
			err = s.Update(ctx, func(tx store.Tx) error { return tx.ReleaseLease(ctx, "sweepers", st.holder) })
			if err != nil {
				t.Fatalf("%s: ReleaseLease(sweepers, %s) = %v, want nil", st.what, st.holder, err)
			}
		}
		var l store.Lease
		err = s.View(ctx, func(tx store.Tx) error {
			l, err = tx.GetLease(ctx, "sweepers")
			return err
		})
		if st.holds == "" {
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: GetLease(sweepers) = %+v, %v, want ErrNotFound", st.what, l, err)
			}
			continue
		}
		want := store.Lease{Name: "sweepers", Holder: st.holds, Expires: t0.Add(st.expires)}
		if err != nil || l != want {
			t.Fatalf("%s: GetLease(sweepers) = %+v, %v, want %+v", st.what, l, err, want)
		}
	}

	// Leases are independent by name.
	var got bool
	update(t, s, func(tx store.Tx) (err error) {
		got, err = tx.TryLease(ctx, "other", "b", ttl, t0.Add(10*time.Second+ttl))
		return err
	})
	if !got {
		t.Errorf("TryLease(other, b) while sweepers is a's = false, want true")
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.TryLease(ctx, "other", "b", 0, t0)
		return err
	})
	if err == nil {
		t.Errorf("TryLease with ttl 0 = nil error, want one")
	}
}

// testLeaseConcurrent races holders for one free lease: exactly one wins.
func testLeaseConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const holders = 8
	var wg sync.WaitGroup
	won := make(chan string, holders)
	errs := make(chan error, holders)
	for i := range holders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			holder := fmt.Sprintf("node-%d", i)
			err := s.Update(ctx, func(tx store.Tx) error {
				held, err := tx.TryLease(ctx, "race", holder, time.Minute, now)
				if held {
					won <- holder
				}
				return err
			})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(won)
	close(errs)
	for err := range errs {
		t.Errorf("TryLease(race) = %v, want nil", err)
	}
	var winners []string
	for w := range won {
		winners = append(winners, w)
	}
	if len(winners) != 1 {
		t.Fatalf("holders that won the free lease = %v, want exactly one", winners)
	}
	var l store.Lease
	view(t, s, func(tx store.Tx) (err error) {
		l, err = tx.GetLease(ctx, "race")
		return err
	})
	if l.Holder != winners[0] {
		t.Errorf("GetLease(race).Holder = %q, want the winner %q", l.Holder, winners[0])
	}
}
