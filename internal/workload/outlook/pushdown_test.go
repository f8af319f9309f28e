package outlook

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestItemPagesMatchMemory: pages of messages, events and contacts cut by the store
// (listQuery.storeQuery) are the pages listQuery.page cuts in memory from the whole
// collection, for generated mailboxes (ties, nulls, absent properties, mixed case)
// and a table of $filter, $orderby, $top and $skip, on both backends.
func TestItemPagesMatchMemory(t *testing.T) {
	t.Parallel()
	storetest.OnEachBackend(t, func(t *testing.T, s store.Store) {
		testItemPagesMatchMemory(t, s)
		testWindowMatchesMemory(t, s)
	})
}

// mailboxItems generates n items of kind t for owner, spread over two folders.
func mailboxItems(rng *rand.Rand, t itemType, owner string, n int, odd bool) []store.Object {
	subjects := []string{"Report", "report", "Lunch", "lunch?", "Budget Q1", "", "zeta"}
	names := []string{"Adele Vance", "adele vance", "Bruno", "Chen", "chen", "Dana", "Kim"}
	if odd {
		names = append(names, "Émile")
	}
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	objs := make([]store.Object, n)
	for i := range objs {
		id := fmt.Sprintf("AAMk%s%04d", owner, i)
		folder := []string{"inbox", "archive"}[rng.IntN(2)]
		doc := map[string]any{"id": id, "parentFolderId": folder,
			"createdDateTime": base.Add(time.Duration(rng.IntN(20)) * time.Hour).Format(timeLayout)}
		if rng.IntN(6) > 0 {
			doc["subject"] = subjects[rng.IntN(len(subjects))]
		}
		switch t.kind {
		case kindMessage:
			doc["receivedDateTime"] = base.Add(time.Duration(rng.IntN(30)) * time.Minute).Format(timeLayout)
			if r := rng.IntN(4); r > 0 {
				doc["isRead"] = r > 1
			}
			doc["importance"] = []string{"low", "normal", "high"}[rng.IntN(3)]
			if rng.IntN(3) > 0 {
				doc["from"] = map[string]any{"emailAddress": map[string]any{"address": fmt.Sprintf("Sender%d@contoso.com", rng.IntN(5))}}
			}
		case kindEvent:
			start := base.Add(time.Duration(rng.IntN(40)) * 30 * time.Minute)
			doc["start"] = map[string]any{"dateTime": start.Format(localLayout), "timeZone": "UTC"}
			doc["end"] = map[string]any{"dateTime": start.Add(time.Hour).Format(localLayout), "timeZone": "UTC"}
			doc["isAllDay"] = rng.IntN(5) == 0
		case kindContact:
			if rng.IntN(8) > 0 {
				doc["displayName"] = names[rng.IntN(len(names))]
			}
			doc["companyName"] = []any{nil, "Contoso", "contoso", "Fabrikam"}[rng.IntN(4)]
		}
		data, _ := json.Marshal(doc)
		objs[i] = store.Object{Tenant: "t", Kind: t.kind, ID: id, Owner: owner, Parent: folder, Data: data, Sort: t.sortKey(doc)}
	}
	return objs
}

func testItemPagesMatchMemory(t *testing.T, s store.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	types := []itemType{messageType, eventType, contactType}
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, it := range types {
			for owner, n := range map[string]int{"u1": 250, "u2": 40, "odd": 60} {
				for _, o := range mailboxItems(rng, it, owner, n, owner == "odd") {
					if err := tx.InsertObject(ctx, &o); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string][]odata.OrderKey{
		kindMessage: {{Property: "receivedDateTime", Desc: true}},
		kindEvent:   {{Property: "start/dateTime"}},
		kindContact: {{Property: "displayName"}},
	}
	filters := map[string][]string{
		kindMessage: {"", "isRead eq false", "IsRead", "not isRead", "importance eq 'HIGH' or subject eq null",
			"from/emailAddress/address eq 'sender1@contoso.com'", "receivedDateTime ge 2026-03-01T09:10:00Z and isRead ne true",
			"startswith(subject, 'lu')", "contains(subject, 'port')", "subject eq 'report' and contains(subject, 'R')",
			"receivedDateTime lt 2026-03-01T09:20:00Z", "receivedDateTime gt 2026-03-01T09:05:00Z and receivedDateTime le 2026-03-01T09:25:00Z and isRead eq false",
			"receivedDateTime eq 2026-03-01T09:12:00Z", "not (receivedDateTime lt 2026-03-01T09:10:00Z)", "receivedDateTime ge 2026-03-01T09:28:00Z or isRead"},
		kindEvent: {"", "isAllDay", "start/dateTime ge 2026-03-01T15:00:00Z", "start/dateTime lt 2026-03-02T00:00:00Z and subject ne 'lunch?'",
			"end/dateTime eq 2026-03-01T12:00:00Z"},
		kindContact: {"", "companyName eq 'contoso'", "startswith(displayName, 'a') or displayName eq null", "companyName ne null"},
	}
	orders := map[string][]string{
		kindMessage: {"", "receivedDateTime desc", "receivedDateTime", "subject", "subject desc,receivedDateTime", "createdDateTime desc"},
		kindEvent:   {"", "start/dateTime desc", "subject,start/dateTime desc"},
		kindContact: {"", "displayName desc", "companyName,displayName"},
	}
	for _, it := range types {
		for _, owner := range []string{"u1", "odd"} {
			for _, parent := range []string{"", "archive"} {
				for _, ftext := range filters[it.kind] {
					for _, otext := range orders[it.kind] {
						for _, page := range []struct{ top, skip int }{{10, 0}, {7, 23}, {1000, 0}, {5, 300}} {
							q := listQuery{order: defaults[it.kind], top: page.top, skip: page.skip}
							q = q.parsed(t, ftext, otext)
							name := fmt.Sprintf("%s owner=%s parent=%s $filter=%s $orderby=%s %+v", it.kind, owner, parent, ftext, otext, page)
							err := s.View(ctx, func(tx store.Tx) error {
								o := &op{ctx: ctx, tx: tx}
								query := store.ObjectQuery{Tenant: "t", Kind: it.kind, Owner: owner, Parent: parent}
								paged, err := comparePages(t, o, name, q, query, func() (store.ObjectQuery, bool, error) {
									return q.storeQuery(o, it, query)
								})
								if err != nil {
									return err
								}
								exact := q.filter == nil || ftext != "contains(subject, 'port')" && ftext != "subject eq 'report' and contains(subject, 'R')"
								if wantPaged := exact && (owner == "u1" || it.kind != kindContact || !sortsByDisplayName(q.order)); paged != wantPaged {
									t.Errorf("%s: paged by the store %v, want %v", name, paged, wantPaged)
								}
								return nil
							})
							if err != nil {
								t.Fatalf("%s: %v", name, err)
							}
						}
					}
				}
			}
		}
	}
}

// testWindowMatchesMemory: the events mayOverlap lets through hold every event
// overlaps keeps, for windows on, between and across the generated events' times.
func testWindowMatchesMemory(t *testing.T, s store.Store) {
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, w := range [][2]time.Duration{{0, time.Hour}, {90 * time.Minute, 90 * time.Minute}, {time.Hour + time.Nanosecond, 3*time.Hour - time.Nanosecond}, {-time.Hour, 100 * time.Hour}, {19 * time.Hour, 30 * time.Hour}} {
		from, to := base.Add(w[0]), base.Add(w[1])
		err := s.View(ctx, func(tx store.Tx) error {
			o := &op{ctx: ctx, tx: tx}
			query := store.ObjectQuery{Tenant: "t", Kind: kindEvent, Owner: "u1"}
			keep := func(d map[string]any) bool { return overlaps(d, from, to) }
			want, err := o.listDocs(query, keep)
			if err != nil {
				return err
			}
			query.Where = mayOverlap(from, to)
			got, err := o.listDocs(query, keep)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(ids(want), ids(got)); diff != "" || len(want) == 0 && w[0] == 0 {
				t.Errorf("window %v–%v (-memory +store):\n%s", from, to, diff)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// sortsByDisplayName tells an order that reads contacts' displayName, which holds a
// string that is not plain in the "odd" mailbox.
func sortsByDisplayName(keys []odata.OrderKey) bool {
	for _, k := range keys {
		if k.Property == "displayName" {
			return true
		}
	}
	return false
}

// comparePages reads the page q asks of query twice, as memory cuts it from the
// whole collection and as push (the store's query, and whether the store cut the
// page) reads it, reports a difference under name, and returns what push said.
func comparePages(t *testing.T, o *op, name string, q listQuery, query store.ObjectQuery, push func() (store.ObjectQuery, bool, error)) (bool, error) {
	t.Helper()
	all, err := o.listDocs(query, nil)
	if err != nil {
		return false, err
	}
	want, wantMore := q.page(all)
	sq, paged, err := push()
	if err != nil {
		return false, err
	}
	docs, err := o.listDocs(sq, nil)
	if err != nil {
		return false, err
	}
	var got []map[string]any
	var gotMore bool
	if paged {
		gotMore = len(docs) > q.top
		got = docs[:min(q.top, len(docs))]
	} else {
		got, gotMore = q.page(docs)
	}
	if diff := cmp.Diff(ids(want), ids(got)); diff != "" || gotMore != wantMore {
		t.Errorf("%s (paged %v): more %v, want %v; ids (-memory +store):\n%s", name, paged, gotMore, wantMore, diff)
	}
	return paged, nil
}

func ids(docs []map[string]any) []string {
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		out = append(out, d["id"].(string))
	}
	return out
}

// parsed is q with the $filter and $orderby texts of a test case, when not empty.
func (q listQuery) parsed(t *testing.T, ftext, otext string) listQuery {
	t.Helper()
	var err error
	if ftext != "" {
		if q.filter, err = odata.ParseFilter(ftext); err != nil {
			t.Fatal(err)
		}
	}
	if otext != "" {
		if q.order, err = odata.ParseOrderBy(otext); err != nil {
			t.Fatal(err)
		}
		q.given = true
	}
	return q
}
