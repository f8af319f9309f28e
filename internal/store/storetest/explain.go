package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
)

// Explainer returns a backend's plan for the statement ListObjects runs for q.
type Explainer func(ctx context.Context, q store.ObjectQuery) (string, error)

// RunExplain fills s with a mailbox of n messages among other owners' and checks,
// from the backend's own query plans, that each page of a collection is read from an
// index in the listing's order: the plan names the index and has no sort step (a
// sort would read the whole collection before returning the first row). sortStep is
// how the backend's plan spells a sort ("TEMP B-TREE" on SQLite, "Sort" on
// PostgreSQL); analyze, when set, refreshes the planner's statistics after the
// load.
func RunExplain(t *testing.T, s store.Store, explain Explainer, sortStep string, analyze func(ctx context.Context) error) {
	ctx := context.Background()
	displayName := store.Prop{Path: "displayName"}
	start := store.Prop{Path: "start/dateTime", Type: store.PropTime}
	const n = 6000
	for start := 0; start < n; start += 1000 {
		update(t, s, func(tx store.Tx) error {
			for i := start; i < start+1000; i++ {
				owner := fmt.Sprintf("u%d", i%3)
				o := store.Object{Tenant: "t", Kind: "message", ID: fmt.Sprintf("m%05d", i), Owner: owner, Parent: owner + "-inbox", Alt: fmt.Sprintf("m%05d", i),
					Sort: fmt.Sprintf("2026-01-01T00:%02d:%02d.0000000Z", i/60%60, i%60), Data: fmt.Appendf(nil, `{"isRead":%t}`, i%20 != 0)}
				if err := tx.InsertObject(ctx, &o); err != nil {
					return err
				}
			}
			return nil
		})
	}
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 3000; i++ {
			data := fmt.Sprintf(`{"displayName":"User %d","userPrincipalName":"u%d@contoso.com","mail":"u%d@contoso.com"}`, i%700, i, i)
			o := store.Object{Tenant: "t", Kind: "user", ID: fmt.Sprintf("u%05d", i), Data: []byte(data)}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
			owner := fmt.Sprintf("u%d", i%3)
			data = fmt.Sprintf(`{"start":{"dateTime":"2026-01-01T%02d:%02d:00.0000000","timeZone":"UTC"}}`, i/60%24, i%60)
			o = store.Object{Tenant: "t", Kind: "event", ID: fmt.Sprintf("e%05d", i), Owner: owner, Parent: owner + "-calendar", Data: []byte(data)}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
			data = fmt.Sprintf(`{"createdDateTime":"2026-01-01T%02d:%02d:00Z"}`, i/60%24, i%60)
			o = store.Object{Tenant: "t", Kind: "alert", ID: fmt.Sprintf("a%05d", i), Data: []byte(data)}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
			data = fmt.Sprintf(`{"name":"File %d.txt"}`, i)
			o = store.Object{Tenant: "t", Kind: "driveItem", ID: fmt.Sprintf("d%05d", i), Owner: "drive", Parent: fmt.Sprintf("folder%d", i%3), Data: []byte(data)}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
			data = fmt.Sprintf(`{"displayName":"Contact %d"}`, i%900)
			o = store.Object{Tenant: "t", Kind: "contact", ID: fmt.Sprintf("c%05d", i), Owner: owner, Parent: owner + "-contacts", Data: []byte(data)}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
		}
		return nil
	})
	refreshStatistics(t, analyze)
	unread := store.Cond{Op: store.CondEq, Prop: store.Prop{Path: "isRead", Type: store.PropBool}, Value: false}
	// Messages received in a range: the condition on the data, and the bounds of the
	// sort key (which holds receivedDateTime) that it implies.
	received := store.Prop{Path: "receivedDateTime", Type: store.PropTime}
	from, until := "2026-01-01T00:20:00.0000000Z", "2026-01-01T00:21:00.0000000Z"
	inRange := store.Cond{Op: store.CondAnd, Sub: []store.Cond{{Op: store.CondGe, Prop: received, Value: from}, {Op: store.CondLt, Prop: received, Value: until}}}
	rangeBounds := []store.SortBound{{Op: store.CondGe, Value: from}, {Op: store.CondLt, Value: until}}
	unreadSince := store.Cond{Op: store.CondAnd, Sub: []store.Cond{unread, {Op: store.CondGt, Prop: received, Value: from}}}
	cases := []struct {
		name  string
		q     store.ObjectQuery
		index string
		// ties allows a sort of the objects that tie on the index's order (ties are
		// by id ascending when the order is descending): its cost is a group of
		// ties, not the collection.
		ties bool
	}{
		{"default order, $top", store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Desc: true, Limit: 11}, "objects_owner_sort", false},
		{"default order, $skip", store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Desc: true, Offset: 500, Limit: 11}, "objects_owner_sort", false},
		{"folder, default order", store.ObjectQuery{Tenant: "t", Kind: "message", Parent: "u2-inbox", BySort: true, Desc: true, Limit: 11}, "objects_parent_sort", false},
		{"ascending", store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u0", BySort: true, Limit: 11}, "objects_owner_sort", false},
		{"by id, $skiptoken", store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", AfterID: "m03000", Limit: 11}, "objects_owner", false},
		{"folder by id, $skiptoken", store.ObjectQuery{Tenant: "t", Kind: "message", Parent: "u1-inbox", AfterID: "m03000", Limit: 11}, "objects_parent", false},
		{"by alt", store.ObjectQuery{Tenant: "t", Kind: "message", Alt: "m00042", Limit: 1}, "objects_alt", false},
		{"$orderby displayName, $top", store.ObjectQuery{Tenant: "t", Kind: "user", OrderBy: []store.OrderKey{{Prop: displayName}}, Limit: 11}, "objects_user_displayname", false},
		{"$orderby displayName, $skip", store.ObjectQuery{Tenant: "t", Kind: "user", OrderBy: []store.OrderKey{{Prop: displayName}}, Offset: 500, Limit: 11}, "objects_user_displayname", false},
		{"$orderby displayName desc", store.ObjectQuery{Tenant: "t", Kind: "user", OrderBy: []store.OrderKey{{Prop: displayName, Desc: true}}, Limit: 11}, "objects_user_displayname", true},
		{"$filter on userPrincipalName", store.ObjectQuery{Tenant: "t", Kind: "user", Where: &store.Cond{Op: store.CondEq, Prop: store.Prop{Path: "userPrincipalName"}, Value: "U42@contoso.com"}, Limit: 11}, "objects_user_upn", false},
		{"$filter on mail", store.ObjectQuery{Tenant: "t", Kind: "user", Where: &store.Cond{Op: store.CondEq, Prop: store.Prop{Path: "mail"}, Value: "u42@contoso.com"}, Limit: 11}, "objects_user_mail", false},
		{"events by start, $top", store.ObjectQuery{Tenant: "t", Kind: "event", Owner: "u1", OrderBy: []store.OrderKey{{Prop: start}}, Offset: 30, Limit: 11}, "objects_event_start", false},
		{"events by start desc", store.ObjectQuery{Tenant: "t", Kind: "event", Owner: "u1", OrderBy: []store.OrderKey{{Prop: start, Desc: true}}, IDDesc: true, Limit: 11}, "objects_event_start", false},
		{"contacts by displayName", store.ObjectQuery{Tenant: "t", Kind: "contact", Owner: "u2", OrderBy: []store.OrderKey{{Prop: displayName}}, Limit: 11}, "objects_contact_displayname", false},
		{"contacts not plain", store.ObjectQuery{Tenant: "t", Kind: "contact", Owner: "u2", Where: &store.Cond{Op: store.CondUnplain, Prop: displayName}, Limit: 1}, "objects_contact_displayname_unplain", false},
		{"alerts newest first", store.ObjectQuery{Tenant: "t", Kind: "alert", OrderBy: []store.OrderKey{{Prop: store.Prop{Path: "createdDateTime", Type: store.PropTime}, Desc: true}}, Offset: 20, Limit: 11}, "objects_alert_created", true},
		{"unread messages, default order", store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Desc: true, Where: &unread, Limit: 11}, "objects_message_unread", false},
		{"a folder's unread messages", store.ObjectQuery{Tenant: "t", Kind: "message", Parent: "u1-inbox", BySort: true, Desc: true, Where: &unread, Limit: 11}, "objects_message_unread_parent", false},
		{"received in a range, default order", store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1", BySort: true, Desc: true, Where: &inRange, SortBounds: rangeBounds, Limit: 11}, "objects_owner_sort", false},
		{"a folder's unread messages received since", store.ObjectQuery{Tenant: "t", Kind: "message", Parent: "u1-inbox", BySort: true, Desc: true, Where: &unreadSince, SortBounds: []store.SortBound{{Op: store.CondGt, Value: from}}, Limit: 11}, "objects_message_unread_parent", false},
		{"drive children by name, $skip", store.ObjectQuery{Tenant: "t", Kind: "driveItem", Parent: "folder1", OrderBy: []store.OrderKey{{Prop: store.Prop{Path: "name"}, Desc: true}}, IDDesc: true, Offset: 40, Limit: 11}, "objects_driveitem_name", false},
		{"drive children by lastModifiedDateTime, $skip", store.ObjectQuery{Tenant: "t", Kind: "driveItem", Parent: "folder1", BySort: true, Desc: true, Offset: 40, Limit: 11}, "objects_parent_sort", false},
		{"drive children by createdDateTime", store.ObjectQuery{Tenant: "t", Kind: "driveItem", Parent: "folder1", ByCreated: true, Limit: 11}, "objects_driveitem_created", false},
		{"drive children by createdDateTime desc, $skip", store.ObjectQuery{Tenant: "t", Kind: "driveItem", Parent: "folder1", ByCreated: true, Desc: true, Offset: 40, Limit: 11}, "objects_driveitem_created", false},
		{"drive children not plain", store.ObjectQuery{Tenant: "t", Kind: "driveItem", Parent: "folder1", Where: &store.Cond{Op: store.CondUnplain, Prop: store.Prop{Path: "name"}}, Limit: 1}, "objects_driveitem_name_unplain", false},
		{"names that are not plain", store.ObjectQuery{Tenant: "t", Kind: "user", Where: &store.Cond{Op: store.CondUnplain, Prop: displayName}, Limit: 1}, "objects_user_displayname_unplain", false},
	}
	for _, c := range cases {
		plan, err := explain(ctx, c.q)
		if err != nil {
			t.Fatalf("%s: explain: %v", c.name, err)
		}
		if !strings.Contains(plan, c.index) {
			t.Errorf("%s: the plan does not use %s:\n%s", c.name, c.index, plan)
		}
		if c.q.BySort && c.q.Offset > 0 && !strings.Contains(plan, "(sort,id)") && !strings.Contains(plan, "ROW(sort, id)") {
			// A page past $skip must start at its first (sort, id) in the index, not
			// at its first sort value: ties would be read and discarded.
			t.Errorf("%s: the page does not start at its (sort, id) in the index:\n%s", c.name, plan)
		}
		if len(c.q.SortBounds) > 0 && !strings.Contains(plan, "sort>") && !strings.Contains(plan, "sort<") && !strings.Contains(plan, "(sort >") && !strings.Contains(plan, "(sort <") {
			// Bounds of the sort key must narrow the index range the page reads,
			// not be checked on every row of the owner's or folder's index.
			t.Errorf("%s: the plan does not read a range of the sort key:\n%s", c.name, plan)
		}
		if c.ties {
			plan = withoutTieSort(plan)
		}
		if strings.Contains(plan, sortStep) {
			t.Errorf("%s: the plan sorts (%s) instead of reading the index in order:\n%s", c.name, sortStep, plan)
		}
	}
}

// refreshStatistics runs a backend's analyze, when it has one, after a test loaded
// its data: a planner with stale statistics may pick another plan than it would in
// service.
func refreshStatistics(t *testing.T, analyze func(ctx context.Context) error) {
	t.Helper()
	if analyze == nil {
		return
	}
	if err := analyze(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// withoutTieSort removes from a plan the sort of ties that follows an index read in
// order: SQLite's "USE TEMP B-TREE FOR LAST TERM (or RIGHT PART) OF ORDER BY",
// PostgreSQL's Incremental Sort over a presorted key.
func withoutTieSort(plan string) string {
	var keep []string
	presorted := strings.Contains(plan, "Presorted Key:")
	for line := range strings.SplitSeq(plan, "\n") {
		switch {
		case strings.Contains(line, "LAST TERM OF ORDER BY"), strings.Contains(line, "RIGHT PART OF ORDER BY"):
		case presorted && (strings.Contains(line, "Incremental Sort") || strings.Contains(line, "Sort Key:")):
		default:
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// RunExplainCounts fills s with users, events and messages and checks, from the
// backend's query plans for CountObjects (explain), that a count reads an index. A
// backend that takes index hints (hints) reads the one it is told: the index of a
// filter's equality, or the kind's own partial index. One that plans by its
// statistics (analyze refreshes them) may scan the table for a count of a large
// part of it, but not for a selective one.
func RunExplainCounts(t *testing.T, s store.Store, explain Explainer, hints bool, analyze func(ctx context.Context) error) {
	ctx := context.Background()
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 3000; i++ {
			data := fmt.Sprintf(`{"displayName":"User %d","mail":"u%d@contoso.com"}`, i%700, i)
			o := store.Object{Tenant: "t", Kind: "user", ID: fmt.Sprintf("u%05d", i), Data: []byte(data), Deleted: i%50 == 0}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
			data = fmt.Sprintf(`{"start":{"dateTime":"2026-01-01T%02d:%02d:00.0000000","timeZone":"UTC"}}`, i/60%24, i%60)
			o = store.Object{Tenant: "t", Kind: "event", ID: fmt.Sprintf("e%05d", i), Owner: fmt.Sprintf("u%d", i%7), Data: []byte(data)}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
			o = store.Object{Tenant: "t", Kind: "message", ID: fmt.Sprintf("m%05d", i), Owner: fmt.Sprintf("u%d", i%7), Parent: fmt.Sprintf("u%d-inbox", i%7), Data: fmt.Appendf(nil, `{"isRead":%t}`, i%20 != 0)}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
		}
		return nil
	})
	refreshStatistics(t, analyze)
	mail := &store.Cond{Op: store.CondEq, Prop: store.Prop{Path: "mail"}, Value: "U42@contoso.com"}
	for _, c := range []struct {
		name      string
		q         store.ObjectQuery
		index     string
		selective bool
	}{
		{"/users/$count", store.ObjectQuery{Tenant: "t", Kind: "user"}, "objects_user_displayname", false},
		{"deleted users", store.ObjectQuery{Tenant: "t", Kind: "user", Deleted: true}, "objects_user_displayname", true},
		{"users by mail", store.ObjectQuery{Tenant: "t", Kind: "user", Where: mail}, "objects_user_mail", true},
		{"a calendar's events", store.ObjectQuery{Tenant: "t", Kind: "event", Owner: "u1"}, "objects_event_start", true},
		{"a mailbox's messages", store.ObjectQuery{Tenant: "t", Kind: "message", Owner: "u1"}, "objects_owner", true},
		{"a folder's unread messages", store.ObjectQuery{Tenant: "t", Kind: "message", Parent: "u1-inbox", Where: &store.Cond{Op: store.CondEq, Prop: store.Prop{Path: "isRead", Type: store.PropBool}, Value: false}}, "objects_message_unread_parent", true},
	} {
		plan, err := explain(ctx, c.q)
		if err != nil {
			t.Fatalf("%s: explain: %v", c.name, err)
		}
		switch {
		case hints && !strings.Contains(plan, c.index):
			t.Errorf("%s: the count does not read %s:\n%s", c.name, c.index, plan)
		case !hints && c.selective && (strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "Index")):
			t.Errorf("%s: the count does not read an index:\n%s", c.name, plan)
		}
	}
}
