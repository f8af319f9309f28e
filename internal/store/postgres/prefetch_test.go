package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/sqlstore"
)

// TestChangeReadsApps: with a SubscriberKind, the statement that appends a change
// also reads the app of each subscription it matches, and the change hook's lookups
// of those apps by alt key read nothing more (counted by the transaction's own
// table statistics); they return what a lookup of the table returns, found or
// not. An app id that is not ASCII, whose lower case Go and the database may
// spell differently, is looked up in the table; so is an app the transaction has
// written since.
func TestChangeReadsApps(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, postgres.Config{URL: pgtest.URL(t), SubscriberKind: "app"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	now := time.Now().UTC()
	apps := []*store.Object{
		{Kind: "app", ID: "a1", Alt: "app-a", Data: []byte(`{"name":"A"}`)},
		{Kind: "app", ID: "a2", Alt: "äpp-c", Data: []byte(`{"name":"Ä"}`)},
		// Another tenant's object of the kind with the same alt is not the app.
		{Tenant: "t", Kind: "app", ID: "x1", Alt: "app-b", Data: []byte(`{}`)},
	}
	subs := []*store.Subscription{
		{ID: "s1", Tenant: "t", AppID: "APP-A", Topic: "users/u/messages", ChangeTypes: "created", Expiration: now.Add(time.Hour), Created: now, Data: []byte(`{}`)},
		{ID: "s2", Tenant: "t", AppID: "app-b", Topic: "users/u/messages", ChangeTypes: "created", Expiration: now.Add(time.Hour), Created: now, Data: []byte(`{}`)},
		// A second subscription of app-a: the app is read once.
		{ID: "s4", Tenant: "t", AppID: "app-a", Topic: "users/u/messages", ChangeTypes: "created", Expiration: now.Add(time.Hour), Created: now, Data: []byte(`{}`)},
		{ID: "s3", Tenant: "t", AppID: "ÄPP-C", Topic: "users/u/messages", ChangeTypes: "created", Expiration: now.Add(time.Hour), Created: now, Data: []byte(`{}`)},
	}
	if err := s.Update(ctx, func(tx store.Tx) error {
		for _, o := range apps {
			if err := tx.InsertObject(ctx, o); err != nil {
				return err
			}
		}
		for _, sub := range subs {
			if err := tx.InsertSubscription(ctx, sub); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// reads counts the scans of the apps' table in the transaction so far.
	reads := func(tx store.Tx) (int64, error) {
		var n int64
		err := tx.(*sqlstore.Tx).QueryRow(ctx, `SELECT COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0) FROM pg_stat_xact_user_tables WHERE relname = 'objects_other'`).Scan(&n)
		return n, err
	}
	type lookup struct {
		Alt   string
		Found bool
		ID    string
		Reads int64
	}
	var got []lookup
	// atHook is the scans of the apps' table by the change's statement: one per
	// app, not per subscription.
	var before, atHook int64
	look := func(tx store.Tx, alt string) error {
		from, err := reads(tx)
		if err != nil {
			return err
		}
		o, err := tx.GetObjectByAlt(ctx, "", "app", alt)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		found := err == nil
		after, err := reads(tx)
		if err != nil {
			return err
		}
		got = append(got, lookup{alt, found, o.ID, after - from})
		return nil
	}
	s.SetChangeHook(func(ctx context.Context, tx store.Tx, c *store.Change) error {
		n, err := reads(tx)
		if err != nil {
			return err
		}
		atHook = n - before
		matched, err := tx.SubscriptionsByTopics(ctx, c.Tenant, c.Topics)
		if err != nil {
			return err
		}
		if len(matched) != len(subs) {
			return fmt.Errorf("hook saw %d subscriptions, want %d", len(matched), len(subs))
		}
		for _, sub := range matched {
			if err := look(tx, strings.ToLower(sub.AppID)); err != nil {
				return err
			}
		}
		// The transaction writes the app: the next lookup reads the table.
		a1, err := tx.GetObject(ctx, "", "app", "a1")
		if err != nil {
			return err
		}
		a1.Data = []byte(`{"name":"A2"}`)
		if err := tx.UpdateObject(ctx, &a1); err != nil {
			return err
		}
		return look(tx, "app-a")
	})
	if err := s.Update(ctx, func(tx store.Tx) error {
		var err error
		if before, err = reads(tx); err != nil {
			return err
		}
		return tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "message", ID: "m1", ChangeType: "created", Topics: []string{"users/u/messages"}})
	}); err != nil {
		t.Fatal(err)
	}
	want := []lookup{
		{"app-a", true, "a1", 0},
		{"app-b", false, "", 0},
		{"äpp-c", true, "a2", 1},
		{"app-a", true, "a1", 0},
		{"app-a", true, "a1", 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the hook's lookups (-want +got):\n%s", diff)
	}
	if atHook != 3 {
		t.Errorf("the change's statement scanned the apps' table %d times, want 3 (once per app)", atHook)
	}
}
