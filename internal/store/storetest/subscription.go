package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
)

func sampleSub(id string) store.Subscription {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return store.Subscription{
		ID: id, Tenant: "t", AppID: "app", CreatorID: "u1", PermissionType: 2, ResourceType: "message", Variant: "v",
		Topic: "users/u1/messages", ChangeTypes: "created,updated", Filter: "isRead eq false",
		NotificationURL: "https://example.test/hook", LifecycleURL: "https://example.test/life", ClientState: "secret",
		IncludeResourceData: true, Expiration: at.Add(time.Hour), AuthorizedUntil: at.Add(time.Hour), NextReminder: at,
		Created: at, Data: []byte(`{"id":"` + id + `"}`),
	}
}

func testSubscriptions(t *testing.T, s store.Store) {
	ctx := context.Background()
	sub := sampleSub("s1")
	update(t, s, func(tx store.Tx) error { return tx.InsertSubscription(ctx, &sub) })
	if sub.Version != 1 {
		t.Fatalf("InsertSubscription: Version = %d, want 1", sub.Version)
	}
	dup := sampleSub("s1")
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertSubscription(ctx, &dup) }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("InsertSubscription(duplicate id) = %v, want ErrConflict", err)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetSubscription(ctx, "s1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(sub, got); diff != "" {
			t.Errorf("GetSubscription (-want +got):\n%s", diff)
		}
		return nil
	})
	stale := sub
	sub.NotificationURL = "https://example.test/other"
	update(t, s, func(tx store.Tx) error { return tx.UpdateSubscription(ctx, &sub) })
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateSubscription(ctx, &stale) }); !errors.Is(err, store.ErrVersionMismatch) {
		t.Fatalf("UpdateSubscription(stale) = %v, want ErrVersionMismatch", err)
	}
	for i := 2; i <= 5; i++ {
		o := sampleSub(fmt.Sprintf("s%d", i))
		if i%2 == 0 {
			o.AppID = "other"
		}
		update(t, s, func(tx store.Tx) error { return tx.InsertSubscription(ctx, &o) })
	}
	view(t, s, func(tx store.Tx) error {
		list, err := tx.ListSubscriptions(ctx, store.SubscriptionQuery{Tenant: "t", AppID: "app", AfterID: "s1", Limit: 5})
		if err != nil {
			return err
		}
		var ids []string
		for _, x := range list {
			ids = append(ids, x.ID)
		}
		if diff := cmp.Diff([]string{"s3", "s5"}, ids); diff != "" {
			t.Errorf("ListSubscriptions (-want +got):\n%s", diff)
		}
		n, err := tx.CountSubscriptions(ctx, store.SubscriptionQuery{Tenant: "t", ResourceTypes: []string{"message", "event"}})
		if err != nil {
			return err
		}
		if n != 5 {
			t.Errorf("CountSubscriptions = %d, want 5", n)
		}
		n, err = tx.CountSubscriptions(ctx, store.SubscriptionQuery{NotificationURL: "https://example.test/other"})
		if err != nil {
			return err
		}
		if n != 1 {
			t.Errorf("CountSubscriptions(by URL) = %d, want 1", n)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteSubscription(ctx, "s1") })
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteSubscription(ctx, "s1") }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteSubscription(missing) = %v, want ErrNotFound", err)
	}
	if err := s.View(ctx, func(tx store.Tx) error { _, err := tx.GetSubscription(ctx, "s1"); return err }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetSubscription(deleted) = %v, want ErrNotFound", err)
	}
}

func testSubscriptionsByTopic(t *testing.T, s store.Store) {
	ctx := context.Background()
	update(t, s, func(tx store.Tx) error {
		for i, topic := range []string{"users", "users/u1", "users/u2", "groups", "users"} {
			sub := sampleSub(fmt.Sprintf("b%d", i))
			sub.Topic = topic
			if i == 4 {
				sub.Tenant = "other"
			}
			if err := tx.InsertSubscription(ctx, &sub); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.SubscriptionsByTopics(ctx, "t", []string{"users", "users/u1"})
		if err != nil {
			return err
		}
		var ids []string
		for _, x := range got {
			ids = append(ids, x.ID)
		}
		if diff := cmp.Diff([]string{"b0", "b1"}, ids); diff != "" {
			t.Errorf("SubscriptionsByTopics (-want +got):\n%s", diff)
		}
		none, err := tx.SubscriptionsByTopics(ctx, "t", nil)
		if err != nil || len(none) != 0 {
			t.Errorf("SubscriptionsByTopics(no topics) = %v, %v", none, err)
		}
		return nil
	})
}

// testChangeHookSubscriptions checks what the change hook reads with
// SubscriptionsByTopics inside the transaction that appends the change (a backend
// may read them with the change): every subscription of the tenant on the change's
// topics, in id order, whole, including one the transaction inserted itself before
// the change, and none that the hook deleted before it asked; asked twice, it answers
// the same.
func testChangeHookSubscriptions(t *testing.T, s store.Store) {
	ctx := context.Background()
	topics := []string{"users/u1/messages", "users/u1/mailFolders/f/messages", "users/u1/messages"}
	update(t, s, func(tx store.Tx) error {
		for i, topic := range []string{topics[1], "users/u2/messages", topics[0], topics[0]} {
			sub := sampleSub(fmt.Sprintf("h%d", 3-i))
			sub.Topic = topic
			if i == 3 {
				sub.Tenant = "other"
				sub.ID = "h9"
			}
			if err := tx.InsertSubscription(ctx, &sub); err != nil {
				return err
			}
		}
		return nil
	})
	type read struct {
		ids []string
		err error
	}
	var reads []read
	ask := func(tx store.Tx, c *store.Change) []store.Subscription {
		got, err := tx.SubscriptionsByTopics(ctx, c.Tenant, c.Topics)
		r := read{err: err}
		for _, x := range got {
			r.ids = append(r.ids, x.ID)
		}
		reads = append(reads, r)
		return got
	}
	s.SetChangeHook(func(ctx context.Context, tx store.Tx, c *store.Change) error {
		if c.ID == "m2" {
			// A write before the hook's first read: the read sees it.
			if err := tx.DeleteSubscription(ctx, "h1"); err != nil {
				return err
			}
		}
		got := ask(tx, c)
		for _, x := range got {
			want := sampleSub(x.ID)
			want.Topic, want.Version = x.Topic, 1
			if diff := cmp.Diff(want, x); diff != "" {
				t.Errorf("hook's subscription %s (-want +got):\n%s", x.ID, diff)
			}
		}
		if c.ID == "m1" {
			ask(tx, c) // asked again, the same answer
		}
		return nil
	})
	defer s.SetChangeHook(nil)
	update(t, s, func(tx store.Tx) error {
		return tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "message", ID: "m1", ChangeType: store.Created, Topics: topics})
	})
	update(t, s, func(tx store.Tx) error {
		sub := sampleSub("h0")
		sub.Topic = topics[1]
		if err := tx.InsertSubscription(ctx, &sub); err != nil {
			return err
		}
		return tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "message", ID: "m2", ChangeType: store.Created, Topics: topics})
	})
	update(t, s, func(tx store.Tx) error {
		return tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "message", ID: "m3", ChangeType: store.Created, Topics: []string{"users/u3/messages"}})
	})
	want := []read{{ids: []string{"h1", "h3"}}, {ids: []string{"h1", "h3"}}, {ids: []string{"h0", "h3"}}, {}}
	if diff := cmp.Diff(want, reads, cmp.AllowUnexported(read{}), cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
		t.Errorf("the hook's SubscriptionsByTopics (-want +got):\n%s", diff)
	}
}

func testSubscriptionTimers(t *testing.T, s store.Store) {
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 4; i++ {
			sub := sampleSub(fmt.Sprintf("x%d", i))
			sub.Expiration = base.Add(time.Duration(i) * time.Minute)
			sub.NextReminder = base.Add(time.Duration(i) * time.Minute)
			if i == 1 {
				sub.LifecycleURL = ""
			}
			if err := tx.InsertSubscription(ctx, &sub); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		exp, err := tx.ExpiredSubscriptions(ctx, base.Add(2*time.Minute), 10)
		if err != nil {
			return err
		}
		if len(exp) != 3 || exp[0].ID != "x0" {
			t.Errorf("ExpiredSubscriptions = %d (first %v), want 3 starting with x0", len(exp), exp)
		}
		due, err := tx.DueReminders(ctx, base.Add(2*time.Minute), 10)
		if err != nil {
			return err
		}
		if len(due) != 2 || due[0].ID != "x0" || due[1].ID != "x2" {
			t.Errorf("DueReminders = %v, want x0 and x2 (x1 has no lifecycle URL)", due)
		}
		return nil
	})
}

// testSubscriptionQueries covers the selectors the subscriptions API counts quotas
// and lists with: topic prefixes and the active-at cut.
func testSubscriptionQueries(t *testing.T, s store.Store) {
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	topics := []string{"users/u1", "users/u1/messages", "users/u1/mailFolders/f%_/messages", "users/u10/messages", "users/u2/events", "users/u1/events"}
	update(t, s, func(tx store.Tx) error {
		for i, topic := range topics {
			sub := sampleSub(fmt.Sprintf("q%d", i))
			sub.Topic = topic
			sub.Expiration = base.Add(time.Duration(i) * time.Minute)
			if err := tx.InsertSubscription(ctx, &sub); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		name string
		q    store.SubscriptionQuery
		want []string
	}{
		{"prefix", store.SubscriptionQuery{Tenant: "t", TopicPrefix: "users/u1/"}, []string{"q1", "q2", "q5"}},
		{"prefix with like wildcards", store.SubscriptionQuery{Tenant: "t", TopicPrefix: "users/u1/mailFolders/f%_/"}, []string{"q2"}},
		{"active at", store.SubscriptionQuery{Tenant: "t", ActiveAt: base.Add(3 * time.Minute)}, []string{"q4", "q5"}},
		{"prefix and active", store.SubscriptionQuery{Tenant: "t", TopicPrefix: "users/u1/", ActiveAt: base.Add(time.Minute)}, []string{"q2", "q5"}},
	}
	for _, tt := range tests {
		view(t, s, func(tx store.Tx) error {
			list, err := tx.ListSubscriptions(ctx, tt.q)
			if err != nil {
				return err
			}
			var ids []string
			for _, x := range list {
				ids = append(ids, x.ID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("%s: ListSubscriptions(%+v) (-want +got):\n%s", tt.name, tt.q, diff)
			}
			n, err := tx.CountSubscriptions(ctx, tt.q)
			if err != nil {
				return err
			}
			if n != len(tt.want) {
				t.Errorf("%s: CountSubscriptions(%+v) = %d, want %d", tt.name, tt.q, n, len(tt.want))
			}
			return nil
		})
	}
}
