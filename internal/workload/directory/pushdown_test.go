package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestListingsMatchMemory: a list of users or groups read through the store's
// filter, order, paging and count (listing.list) is the list the in-memory
// evaluation (listItems over every object) gives, for generated directories on
// both backends.
func TestListingsMatchMemory(t *testing.T) {
	t.Parallel()
	storetest.OnEachBackend(t, testListingsMatchMemory)
}

func testListingsMatchMemory(t *testing.T, s store.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	names := []string{"Adele Vance", "adele vance", "Bruno", "chen", "Chen", "Dana", "emil", "Zoe", "Kim", ""}
	depts := []string{"Sales", "sales", "Engineering", "Legal"}
	err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 300 {
			doc := map[string]any{
				"id":                fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
				"userPrincipalName": fmt.Sprintf("user%d@Contoso.onmicrosoft.com", i),
				"accountEnabled":    rng.IntN(4) > 0,
				"createdDateTime":   fmt.Sprintf("2026-0%d-01T00:00:00Z", 1+rng.IntN(5)),
				"businessPhones":    []any{},
			}
			if rng.IntN(8) > 0 {
				doc["displayName"] = names[rng.IntN(len(names))]
			}
			if rng.IntN(3) > 0 {
				doc["department"] = depts[rng.IntN(len(depts))]
			}
			if rng.IntN(2) > 0 {
				doc["mail"] = fmt.Sprintf("User%d@contoso.com", i%60)
			}
			data, _ := json.Marshal(doc)
			kind := "user"
			if i%5 == 0 {
				kind = "group"
				doc["securityEnabled"] = true
			}
			o := store.Object{Tenant: "t", Kind: kind, ID: doc["id"].(string), Data: data, Deleted: i%9 == 0}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
			// The same directory with a name the store does not order as odata does
			// (store.Plain): its ordered lists are sorted in memory.
			if i == 42 {
				doc["displayName"] = "Émile"
				data, _ = json.Marshal(doc)
			}
			o = store.Object{Tenant: "odd", Kind: kind, ID: doc["id"].(string), Data: data, Deleted: i%9 == 0}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	filters := []string{"", "displayName eq 'adele vance'", "startswith(displayName, 'c')", "department eq 'SALES' and accountEnabled",
		"not (department eq 'Sales') or mail eq null", "createdDateTime ge 2026-03-01T00:00:00Z", "contains(mail, '1')",
		"accountEnabled and startswith(mail, 'user1')", "businessPhones/any(p: p eq '1')"}
	orders := []string{"", "displayName", "displayName desc", "userPrincipalName desc"}
	for _, l := range []listing{
		{tenant: "t", kind: "user", s: userSchema},
		{tenant: "odd", kind: "user", s: userSchema},
		{tenant: "t", kind: "user", s: userSchema, deleted: true, odataType: "#microsoft.graph.user"},
		{tenant: "t", kind: "group", s: groupSchema},
	} {
		for _, ftext := range filters {
			for _, otext := range orders {
				if otext == "userPrincipalName desc" && l.kind == "group" {
					continue
				}
				for _, page := range []struct {
					top   int
					skip  skipState
					count bool
				}{{100, skipState{}, false}, {7, skipState{}, true}, {5, skipState{Offset: 11}, true}, {3, skipState{After: "00000000-0000-4000-8000-000000000100"}, true}} {
					if otext != "" && page.skip.After != "" || otext == "" && page.skip.Offset > 0 {
						continue // each order pages with its own token
					}
					q := listQuery{top: page.top, skip: page.skip, count: page.count}.parsed(t, ftext, otext)
					name := fmt.Sprintf("%s deleted=%v $filter=%s $orderby=%s %+v", l.kind, l.deleted, ftext, otext, page)
					if pd := l.pushdown(q); l.kind == "user" && !pd.exact && !strings.Contains(ftext, "contains") && !strings.Contains(ftext, "any") {
						t.Errorf("%s: the filter is not all translated for the store", name)
					}
					err := s.View(ctx, func(tx store.Tx) error {
						if pd := l.pushdown(q); pd.order != nil {
							plain, err := l.plainOrder(ctx, tx, pd.order)
							if err != nil {
								return err
							}
							if want := l.tenant == "t" || otext == "userPrincipalName desc"; plain != want {
								t.Errorf("%s: plainOrder = %v, want %v", name, plain, want)
							}
						}
						wantPage, wantTotal, wantMore, err := listItems(ctx, tx, l.source(nil), q)
						if err != nil {
							return err
						}
						gotPage, gotTotal, gotMore, err := l.list(ctx, tx, q)
						if err != nil {
							return err
						}
						if diff := cmp.Diff(docsOf(wantPage), docsOf(gotPage)); diff != "" {
							t.Errorf("%s: page (-memory +store):\n%s", name, diff)
						}
						if !q.count {
							// Without $count the total is not shown (an ordered list is
							// counted in memory all the same).
							gotTotal, wantTotal = -1, -1
						}
						if gotTotal != wantTotal || gotMore != wantMore {
							t.Errorf("%s: total, more = %d, %v; want %d, %v", name, gotTotal, gotMore, wantTotal, wantMore)
						}
						if q.count {
							n, err := l.count(ctx, tx, q.filter)
							if err != nil {
								return err
							}
							if n != wantTotal {
								t.Errorf("%s: count = %d, want %d", name, n, wantTotal)
							}
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

// docsOf returns the documents of items (an ordered list's cursors are unused: it
// pages by position).
func docsOf(items []item) []map[string]any {
	docs := make([]map[string]any, len(items))
	for i, it := range items {
		docs[i] = it.doc
	}
	return docs
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
	}
	return q
}
