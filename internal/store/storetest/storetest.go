// Package storetest is the conformance suite every store backend passes. A backend is
// done when Run passes against it; nothing above the store contract may depend on
// behaviour this suite does not pin.
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
)

// Opener returns a new, empty, migrated store; the suite closes it.
type Opener func(t *testing.T) store.Store

// Run runs every conformance test against the backend.
func Run(t *testing.T, open Opener) {
	tests := map[string]func(t *testing.T, s store.Store){
		// Objects, changes and transactions (this file).
		"Objects":          testObjects,
		"ObjectQueries":    testObjectQueries,
		"ObjectFilters":    testObjectFilters, // objectfilter.go
		"ObjectsVia":       testObjectsVia,    // via.go
		"VersionGuard":     testVersionGuard,
		"Rollback":         testRollback,
		"ViewIsReadOnly":   testViewIsReadOnly,
		"Changes":          testChanges,
		"ChangeHook":       testChangeHook,
		"ChangeHookSubs":   testChangeHookSubscriptions, // subscription.go
		"PruneChanges":     testPruneChanges,
		"Blobs":            testBlobs,
		"BlobAppend":       testBlobAppend,
		"BlobConcat":       testBlobConcat,
		"ConcurrentWrites": testConcurrentWrites,
		"Committed":        testCommitted,
		"Closed":           testClosed,
		"Cancelled":        testCancelled, // cancel.go
		// Object totals (totals.go).
		"Totals":           testTotals,
		"TotalsConcurrent": testTotalsConcurrent,
		// Isolation of concurrent transactions (isolation.go).
		"ReadThenWrite":         testReadThenWrite,
		"ChangesVisibleInOrder": testChangesVisibleInOrder,
		// Leases (lease.go).
		"LeaseHandover":   testLeaseHandover,
		"LeaseConcurrent": testLeaseConcurrent,
		// Node heartbeats (heartbeat.go).
		"Heartbeats": testHeartbeats,
		// The notification queue (queue.go).
		"QueueEnqueueClaim":        testQueueEnqueueClaim,
		"QueueGuardedStates":       testQueueGuardedStates,
		"QueueConcurrentClaims":    testQueueConcurrentClaims,
		"QueueRescuePrune":         testQueueRescuePrune,
		"QueueDiscardSubscription": testQueueDiscardSubscription,
		"QueueBatches":             testQueueBatches,
		"QueueRuns":                testQueueRuns,
		"QueueClaimedRows":         testQueueClaimedRows,
		"GetObjects":               testGetObjects,
		"ByCreated":                testByCreated,
		"SubscriptionVersions":     testSubscriptionVersions,
		"SubscriptionsUnderTopic":  testSubscriptionsUnderTopic,
		// The delivery log and faults (deliverylog.go).
		"DeliveryLog": testDeliveryLog,
		"Faults":      testFaults,
		"QueueScan":   testQueueScan,
		// Subscriptions (subscription.go).
		"Subscriptions":        testSubscriptions,
		"SubscriptionsByTopic": testSubscriptionsByTopic,
		"SubscriptionTimers":   testSubscriptionTimers,
		"SubscriptionQueries":  testSubscriptionQueries,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			if name != "Closed" {
				t.Cleanup(func() { s.Close() })
			}
			fn(t, s)
		})
	}
}

func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func testObjects(t *testing.T, s store.Store) {
	ctx := context.Background()
	created := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	o := store.Object{Tenant: "t1", Kind: "user", ID: "u1", Owner: "", Alt: "adele@contoso", Created: created, Data: []byte(`{"displayName":"Adele"}`)}
	update(t, s, func(tx store.Tx) error { return tx.InsertObject(ctx, &o) })
	if o.Version != 1 {
		t.Fatalf("InsertObject: Version = %d, want 1", o.Version)
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		dup := store.Object{Tenant: "t1", Kind: "user", ID: "u1", Data: []byte(`{}`)}
		return tx.InsertObject(ctx, &dup)
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("InsertObject(duplicate) = %v, want ErrConflict", err)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetObject(ctx, "t1", "user", "u1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(o, got); diff != "" {
			t.Errorf("GetObject mismatch (-want +got):\n%s", diff)
		}
		byAlt, err := tx.GetObjectByAlt(ctx, "t1", "user", "adele@contoso")
		if err != nil || byAlt.ID != "u1" {
			t.Errorf("GetObjectByAlt = %v, %v; want u1", byAlt.ID, err)
		}
		if _, err := tx.GetObject(ctx, "t2", "user", "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetObject(other tenant) = %v, want ErrNotFound", err)
		}
		if _, err := tx.GetObjectByAlt(ctx, "t1", "user", "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetObjectByAlt(missing) = %v, want ErrNotFound", err)
		}
		return nil
	})
	o.Data = []byte(`{"displayName":"Adele V"}`)
	o.Deleted = true
	update(t, s, func(tx store.Tx) error { return tx.UpdateObject(ctx, &o) })
	if o.Version != 2 {
		t.Fatalf("UpdateObject: Version = %d, want 2", o.Version)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetObject(ctx, "t1", "user", "u1")
		if err != nil {
			return err
		}
		if string(got.Data) != `{"displayName":"Adele V"}` || !got.Deleted || got.Version != 2 {
			t.Errorf("after update: %+v", got)
		}
		if _, err := tx.GetObjectByAlt(ctx, "t1", "user", "adele@contoso"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetObjectByAlt(soft-deleted) = %v, want ErrNotFound", err)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteObject(ctx, "t1", "user", "u1") })
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteObject(ctx, "t1", "user", "u1") })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteObject(missing) = %v, want ErrNotFound", err)
	}
}

// testGetObjects: GetObjects answers each key as GetObject does, in the keys' order,
// across kinds kept in different tables (on PostgreSQL's partitions), for a
// soft-deleted object, a missing one, another tenant's and a key given twice; in a
// View and in an Update (SQLite's writer answers from its cache).
func testGetObjects(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	objs := []store.Object{
		{Tenant: "t1", Kind: "user", ID: "u1", Alt: "adele@contoso", Created: at, Data: []byte(`{"displayName":"Adele"}`)},
		{Tenant: "t1", Kind: "message", ID: "m1", Owner: "u1", Parent: "inbox", Sort: "2026", Created: at, Data: []byte(`{"subject":"hi"}`)},
		{Tenant: "t1", Kind: "contactFolder", ID: "cf1", Owner: "u1", Created: at, Data: []byte(`{}`)},
		{Tenant: "t1", Kind: "group", ID: "g1", Deleted: true, Created: at, Data: []byte(`{}`)},
	}
	update(t, s, func(tx store.Tx) error {
		for i := range objs {
			if err := tx.InsertObject(ctx, &objs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	keys := []store.ObjectKey{
		{Tenant: "t1", Kind: "contactFolder", ID: "cf1"},
		{Tenant: "t1", Kind: "user", ID: "u1"},
		{Tenant: "t1", Kind: "user", ID: "nobody"},
		{Tenant: "t2", Kind: "message", ID: "m1"},
		{Tenant: "t1", Kind: "message", ID: "m1"},
		{Tenant: "t1", Kind: "group", ID: "g1"},
		{Tenant: "t1", Kind: "user", ID: "u1"},
	}
	check := func(tx store.Tx, keys []store.ObjectKey) error {
		got, found, err := tx.GetObjects(ctx, keys)
		if err != nil {
			return err
		}
		if len(got) != len(keys) || len(found) != len(keys) {
			t.Fatalf("GetObjects(%d keys) = %d objects, %d found flags", len(keys), len(got), len(found))
		}
		for i, k := range keys {
			want, err := tx.GetObject(ctx, k.Tenant, k.Kind, k.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if found[i] != (err == nil) {
				t.Errorf("GetObjects key %d %v: found %v, GetObject's error %v", i, k, found[i], err)
			}
			if diff := cmp.Diff(want, got[i]); diff != "" {
				t.Errorf("GetObjects key %d %v (-GetObject +GetObjects):\n%s", i, k, diff)
			}
		}
		return nil
	}
	view(t, s, func(tx store.Tx) error { return check(tx, keys) })
	update(t, s, func(tx store.Tx) error { return check(tx, keys) })
	view(t, s, func(tx store.Tx) error { return check(tx, keys[1:2]) })
	view(t, s, func(tx store.Tx) error { return check(tx, nil) })
}

func testObjectQueries(t *testing.T, s store.Store) {
	ctx := context.Background()
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 10; i++ {
			// Sort keys a d b e c a d b e c: ties broken by id.
			o := store.Object{Tenant: "t", Kind: "message", ID: fmt.Sprintf("m%02d", i), Owner: "u1", Parent: fmt.Sprintf("f%d", i%2), Sort: string(rune('a' + i*3%5)), Data: []byte(`{}`)}
			if i == 9 {
				o.Deleted = true
			}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
		}
		other := store.Object{Tenant: "t", Kind: "message", ID: "x", Owner: "u2", Data: []byte(`{}`)}
		return tx.InsertObject(ctx, &other)
	})
	ids := func(objs []store.Object) []string {
		var out []string
		for _, o := range objs {
			out = append(out, o.ID)
		}
		return out
	}
	view(t, s, func(tx store.Tx) error {
		cases := []struct {
			q    store.ObjectQuery
			want []string
		}{
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", Limit: 3}, []string{"m00", "m01", "m02"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", AfterID: "m06"}, []string{"m07", "m08"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Parent: "f1"}, []string{"m01", "m03", "m05", "m07"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Deleted: true}, []string{"m09"}},
			{store.ObjectQuery{Tenant: "other", Kind: "message"}, nil},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true}, []string{"m00", "m05", "m02", "m07", "m04", "m01", "m06", "m03", "m08"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Desc: true}, []string{"m08", "m03", "m06", "m01", "m04", "m07", "m02", "m05", "m00"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Desc: true, Offset: 2, Limit: 3}, []string{"m06", "m01", "m04"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Offset: 7}, []string{"m03", "m08"}},
			// Pages that start inside a group of equal sort keys.
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Desc: true, Offset: 3, Limit: 2}, []string{"m01", "m04"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Offset: 1, Limit: 2}, []string{"m05", "m02"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Offset: 9}, nil},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Desc: true, Offset: 8, Limit: 5}, []string{"m00"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Parent: "f1", BySort: true, Desc: true, Offset: 1, Limit: 2}, []string{"m01", "m07"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Parent: "f1", BySort: true, Desc: true, Limit: 2}, []string{"m03", "m01"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", Offset: 8}, []string{"m08"}},
			// Bounds of the sort key, in every order and with paging.
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true,
				SortBounds: []store.SortBound{{Op: store.CondGe, Value: "b"}, {Op: store.CondLt, Value: "d"}}}, []string{"m02", "m07", "m04"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Desc: true, Offset: 1, Limit: 3,
				SortBounds: []store.SortBound{{Op: store.CondGt, Value: "b"}}}, []string{"m03", "m06", "m01"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Parent: "f1", BySort: true,
				SortBounds: []store.SortBound{{Op: store.CondLe, Value: "b"}}}, []string{"m05", "m07"}},
			{store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1",
				SortBounds: []store.SortBound{{Op: store.CondGt, Value: "c"}}}, []string{"m01", "m03", "m06", "m08"}},
		}
		for _, c := range cases {
			got, err := tx.ListObjects(ctx, c.q)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(c.want, ids(got)); diff != "" {
				t.Errorf("ListObjects(%+v) (-want +got):\n%s", c.q, diff)
			}
		}
		n, err := tx.CountObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", Limit: 2, AfterID: "m05"})
		if err != nil {
			return err
		}
		if n != 9 {
			t.Errorf("CountObjects = %d, want 9", n)
		}
		n, err = tx.CountObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", SortBounds: []store.SortBound{{Op: store.CondLt, Value: "c"}}})
		if err != nil {
			return err
		}
		if n != 4 {
			t.Errorf("CountObjects(sort < c) = %d, want 4", n)
		}
		return nil
	})
	// The sort key is a column like the others: read back, and replaced by an update.
	update(t, s, func(tx store.Tx) error {
		o, err := tx.GetObject(ctx, "t", "message", "m00")
		if err != nil {
			return err
		}
		if o.Sort != "a" {
			t.Errorf("GetObject(m00).Sort = %q, want a", o.Sort)
		}
		o.Sort = "z"
		return tx.UpdateObject(ctx, &o)
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Desc: true, Limit: 1})
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]string{"m00"}, ids(got)); diff != "" {
			t.Errorf("after UpdateObject(sort z) (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testVersionGuard(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := store.Object{Tenant: "t", Kind: "event", ID: "e", Data: []byte(`{}`)}
	update(t, s, func(tx store.Tx) error { return tx.InsertObject(ctx, &o) })
	stale := o
	update(t, s, func(tx store.Tx) error { return tx.UpdateObject(ctx, &o) })
	err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateObject(ctx, &stale) })
	if !errors.Is(err, store.ErrVersionMismatch) {
		t.Fatalf("UpdateObject(stale) = %v, want ErrVersionMismatch", err)
	}
	missing := store.Object{Tenant: "t", Kind: "event", ID: "nope", Version: 1, Data: []byte(`{}`)}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateObject(ctx, &missing) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateObject(missing) = %v, want ErrNotFound", err)
	}
}

func testRollback(t *testing.T, s store.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx store.Tx) error {
		o := store.Object{Tenant: "t", Kind: "user", ID: "gone", Data: []byte(`{}`)}
		if err := tx.InsertObject(ctx, &o); err != nil {
			return err
		}
		if err := tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "user", ID: "gone", ChangeType: store.Created, Topics: []string{"users"}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	err = s.Update(ctx, func(tx store.Tx) error { panic("kaboom") })
	if err == nil {
		t.Fatal("Update(panicking fn) = nil, want an error")
	}
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.GetObject(ctx, "t", "user", "gone"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("object of a rolled-back transaction: %v, want ErrNotFound", err)
		}
		changes, err := tx.ListChanges(ctx, "t", "users", 0, 0)
		if err != nil {
			return err
		}
		if len(changes) != 0 {
			t.Errorf("changes of a rolled-back transaction: %d, want 0", len(changes))
		}
		return nil
	})
}

func testViewIsReadOnly(t *testing.T, s store.Store) {
	ctx := context.Background()
	err := s.View(ctx, func(tx store.Tx) error {
		o := store.Object{Tenant: "t", Kind: "user", ID: "ro", Data: []byte(`{}`)}
		return tx.InsertObject(ctx, &o)
	})
	if err == nil {
		t.Fatal("InsertObject inside View succeeded, want an error")
	}
}

func testChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var seqs []int64
	update(t, s, func(tx store.Tx) error {
		for i, c := range []store.Change{
			{Tenant: "t", Kind: "message", ID: "m1", ChangeType: store.Created, Topics: []string{"users/u/messages", "users/u/mailFolders/inbox/messages"}, Time: at, After: []byte(`{"isRead":false}`)},
			{Tenant: "t", Kind: "message", ID: "m1", ChangeType: store.Updated, Topics: []string{"users/u/messages", "users/u/messages"}, Time: at, Before: []byte(`{"isRead":false}`), After: []byte(`{"isRead":true}`), Extra: []byte(`{"x":1}`)},
			{Tenant: "t2", Kind: "message", ID: "m9", ChangeType: store.Created, Topics: []string{"users/u/messages"}, Time: at},
		} {
			c := c
			if err := tx.AppendChange(ctx, &c); err != nil {
				return err
			}
			if c.Seq <= 0 || (i > 0 && c.Seq <= seqs[i-1]) {
				t.Errorf("AppendChange #%d: Seq = %d, want increasing > 0", i, c.Seq)
			}
			seqs = append(seqs, c.Seq)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		all, err := tx.ListChanges(ctx, "t", "users/u/messages", 0, 0)
		if err != nil {
			return err
		}
		if len(all) != 2 || all[0].Seq != seqs[0] || all[1].Seq != seqs[1] {
			t.Fatalf("ListChanges(all) = %+v, want seqs %v", all, seqs[:2])
		}
		want := store.Change{Seq: seqs[1], Tenant: "t", Kind: "message", ID: "m1", ChangeType: store.Updated,
			Topics: []string{"users/u/messages", "users/u/messages"}, Time: at, Before: []byte(`{"isRead":false}`), After: []byte(`{"isRead":true}`), Extra: []byte(`{"x":1}`)}
		if diff := cmp.Diff(want, all[1]); diff != "" {
			t.Errorf("ListChanges()[1] (-want +got):\n%s", diff)
		}
		after, err := tx.ListChanges(ctx, "t", "users/u/messages", seqs[0], 0)
		if err != nil {
			return err
		}
		if len(after) != 1 || after[0].Seq != seqs[1] {
			t.Errorf("ListChanges(after first) = %d changes, want 1", len(after))
		}
		inbox, err := tx.ListChanges(ctx, "t", "users/u/mailFolders/inbox/messages", 0, 0)
		if err != nil {
			return err
		}
		if len(inbox) != 1 || inbox[0].Before != nil {
			t.Errorf("ListChanges(inbox) = %+v, want the created change with nil Before", inbox)
		}
		limited, err := tx.ListChanges(ctx, "t", "users/u/messages", 0, 1)
		if err != nil {
			return err
		}
		if len(limited) != 1 {
			t.Errorf("ListChanges(limit 1) = %d changes", len(limited))
		}
		last, err := tx.LastSeq(ctx)
		if err != nil {
			return err
		}
		if last != seqs[2] {
			t.Errorf("LastSeq = %d, want %d", last, seqs[2])
		}
		first, err := tx.FirstSeq(ctx)
		if err != nil {
			return err
		}
		if first != seqs[0] {
			t.Errorf("FirstSeq = %d, want %d", first, seqs[0])
		}
		return nil
	})
}

func testChangeHook(t *testing.T, s store.Store) {
	ctx := context.Background()
	var mu sync.Mutex
	var seen []int64
	refuse := errors.New("refused by hook")
	s.SetChangeHook(func(ctx context.Context, tx store.Tx, c *store.Change) error {
		if c.ID == "refuse" {
			return refuse
		}
		// The hook writes inside the same transaction.
		o := store.Object{Tenant: c.Tenant, Kind: "hooked", ID: c.ID, Data: []byte(`{}`)}
		if err := tx.InsertObject(ctx, &o); err != nil {
			return err
		}
		mu.Lock()
		seen = append(seen, c.Seq)
		mu.Unlock()
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		return tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "user", ID: "a", ChangeType: store.Updated, Topics: []string{"users"}})
	})
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "user", ID: "refuse", ChangeType: store.Updated, Topics: []string{"users"}})
	})
	if !errors.Is(err, refuse) {
		t.Fatalf("AppendChange with refusing hook = %v, want the hook's error", err)
	}
	view(t, s, func(tx store.Tx) error {
		// The log first, as in testConcurrentWrites.
		changes, _ := tx.ListChanges(ctx, "t", "users", 0, 0)
		if len(changes) != 1 {
			t.Errorf("changes = %d, want 1 (the refused one rolled back)", len(changes))
		}
		if _, err := tx.GetObject(ctx, "t", "hooked", "a"); err != nil {
			t.Errorf("hook's write: %v", err)
		}
		return nil
	})
	if len(seen) != 1 {
		t.Errorf("hook saw %d changes, want 1", len(seen))
	}
}

func testPruneChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	recent := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	update(t, s, func(tx store.Tx) error {
		for _, at := range []time.Time{old, old, recent} {
			if err := tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "user", ID: "u", ChangeType: store.Updated, Topics: []string{"users", "users/u"}, Time: at}); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		n, err := tx.PruneChanges(ctx, recent.Add(-time.Hour))
		if err != nil {
			return err
		}
		if n != 2 {
			t.Errorf("PruneChanges = %d, want 2", n)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		changes, err := tx.ListChanges(ctx, "t", "users", 0, 0)
		if err != nil {
			return err
		}
		if len(changes) != 1 || !changes[0].Time.Equal(recent) {
			t.Errorf("after prune: %+v", changes)
		}
		// The pruned changes' topic rows went too (a SQL store's own table).
		if q, ok := tx.(interface {
			QueryRow(ctx context.Context, query string, args ...any) *sql.Row
		}); ok {
			var rows int
			if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM change_topics`).Scan(&rows); err != nil {
				return err
			}
			if rows != 2 {
				t.Errorf("after prune: %d topic rows, want 2 (the kept change's)", rows)
			}
		}
		return nil
	})
	// Pruning past every change keeps the newest one, and with it the log's end.
	var last int64
	update(t, s, func(tx store.Tx) error {
		var err error
		if last, err = tx.LastSeq(ctx); err != nil {
			return err
		}
		n, err := tx.PruneChanges(ctx, recent.Add(time.Hour))
		if err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("PruneChanges(after the newest) = %d, want 0: the newest change stays", n)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.LastSeq(ctx)
		if err != nil {
			return err
		}
		if got != last {
			t.Errorf("LastSeq after pruning everything = %d, want %d", got, last)
		}
		return nil
	})
}

func testBlobs(t *testing.T, s store.Store) {
	ctx := context.Background()
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i)
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutBlob(ctx, "k", []byte("one")); err != nil {
			return err
		}
		if err := tx.PutBlob(ctx, "k", big); err != nil {
			return err
		}
		return tx.PutBlob(ctx, "empty", nil)
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetBlob(ctx, "k")
		if err != nil {
			return err
		}
		if !cmp.Equal(got, big) {
			t.Errorf("GetBlob returned %d bytes, want the 1 MiB written last", len(got))
		}
		empty, err := tx.GetBlob(ctx, "empty")
		if err != nil || len(empty) != 0 {
			t.Errorf("GetBlob(empty) = %v, %v", empty, err)
		}
		if _, err := tx.GetBlob(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetBlob(missing) = %v, want ErrNotFound", err)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteBlob(ctx, "k"); err != nil {
			return err
		}
		return tx.DeleteBlob(ctx, "never")
	})
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.GetBlob(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetBlob(deleted) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

// testConcurrentWrites runs many transactions at once, some failing: the failures must
// leave no trace and the successes must all be there (this is what group commit must
// get right).
func testConcurrentWrites(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.Update(ctx, func(tx store.Tx) error {
				o := store.Object{Tenant: "t", Kind: "item", ID: fmt.Sprintf("i%03d", i), Data: []byte(`{}`)}
				if err := tx.InsertObject(ctx, &o); err != nil {
					return err
				}
				if err := tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "item", ID: o.ID, ChangeType: store.Created, Topics: []string{"items"}}); err != nil {
					return err
				}
				if i%3 == 0 {
					return fmt.Errorf("fail %d", i)
				}
				return nil
			})
		}(i)
	}
	wg.Wait()
	want := 0
	for i, err := range errs {
		if i%3 == 0 {
			if err == nil || err.Error() != fmt.Sprintf("fail %d", i) {
				t.Errorf("transaction %d: err = %v, want its own error", i, err)
			}
			continue
		}
		want++
		if err != nil {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	view(t, s, func(tx store.Tx) error {
		// The change log is read first: a transaction that reads it first sees every
		// change committed before it began. Read after another statement, PostgreSQL's
		// log may still hide the newest changes while transactions that ended since
		// the snapshot (of other tests' databases too) cannot be told from writers of
		// this one.
		changes, err := tx.ListChanges(ctx, "t", "items", 0, 0)
		if err != nil {
			return err
		}
		objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: "item"})
		if err != nil {
			return err
		}
		if len(objs) != want || len(changes) != want {
			t.Errorf("objects = %d, changes = %d, want %d each", len(objs), len(changes), want)
		}
		for _, o := range objs {
			var i int
			fmt.Sscanf(o.ID, "i%03d", &i)
			if i%3 == 0 {
				t.Errorf("object %s of a failed transaction is stored", o.ID)
			}
		}
		return nil
	})
}

func testCommitted(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Drain a possible earlier signal.
	select {
	case <-s.Committed():
	default:
	}
	update(t, s, func(tx store.Tx) error {
		return tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "user", ID: "u", ChangeType: store.Updated, Topics: []string{"users"}})
	})
	select {
	case <-s.Committed():
	case <-time.After(5 * time.Second):
		t.Fatal("no Committed signal after a change was committed")
	}
}

func testClosed(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping on an open store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if err := s.View(ctx, func(tx store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("View after Close = %v, want ErrClosed", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Errorf("Ping after Close = nil, want an error")
	}
}
