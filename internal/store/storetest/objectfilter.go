package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
)

// filterLayout is the time layout of the generated documents' createdDateTime.
const filterLayout = "2006-01-02T15:04:05Z"

// filterProps are the generated documents' properties the store may filter on.
func filterProps(path string) (store.Prop, bool) {
	for _, p := range []store.Prop{
		{Path: "displayName"}, {Path: "userPrincipalName"}, {Path: "mail"}, {Path: "jobTitle"},
		{Path: "address/city"}, {Path: "accountEnabled", Type: store.PropBool},
		{Path: "createdDateTime", Type: store.PropTime, Layout: filterLayout},
	} {
		if strings.EqualFold(p.Path, path) {
			return p, true
		}
	}
	return store.Prop{}, false
}

// filterDocs generates n user-like documents with varied values: mixed case, ties,
// nulls and absent properties, numbers where strings are expected. odd adds strings
// that are not plain (non-ASCII, the Kelvin sign and the long s that fold to ASCII,
// date-shaped names).
func filterDocs(n int, odd bool) []map[string]any {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"Adele", "adele", "ALEX", "Bianca", "bob", "Carol", "carl", "Dan", "dan", "Éva", "Zoe", "zed", "Kim", "kit", "Sam", "sal", "a", ""}
	if odd {
		names = append(names, "éva", "\u212Aim", "\u017Fam", "2026-01-02 party", "Ω", "ẞ")
	}
	titles := []string{"Engineer", "engineer", "Manager", "Sales", "sales rep"}
	cities := []string{"Oslo", "oslo", "Paris", "Lima"}
	docs := make([]map[string]any, n)
	for i := range docs {
		d := map[string]any{"id": fmt.Sprintf("u%04d", i)}
		switch r := rng.IntN(20); {
		case r == 0: // absent
		case r == 1:
			d["displayName"] = nil
		default:
			d["displayName"] = names[rng.IntN(len(names))]
		}
		d["userPrincipalName"] = fmt.Sprintf("%s%d@Contoso.com", names[rng.IntN(len(names))], i%50)
		if rng.IntN(3) > 0 {
			d["mail"] = strings.ToUpper(fmt.Sprintf("m%d@contoso.com", rng.IntN(40)))
		}
		switch r := rng.IntN(6); r {
		case 0:
		case 1:
			d["jobTitle"] = nil
		case 2:
			d["jobTitle"] = float64(rng.IntN(3)) // not a string: eq never holds, ne always
		default:
			d["jobTitle"] = titles[rng.IntN(len(titles))]
		}
		switch r := rng.IntN(5); r {
		case 0:
		case 1:
			d["accountEnabled"] = nil
		default:
			d["accountEnabled"] = rng.IntN(2) == 0
		}
		if rng.IntN(8) > 0 {
			d["createdDateTime"] = fmt.Sprintf("2026-01-%02dT%02d:00:00Z", 1+rng.IntN(5), rng.IntN(3))
		}
		if rng.IntN(4) > 0 {
			d["address"] = map[string]any{"city": cities[rng.IntN(len(cities))]}
		}
		docs[i] = d
	}
	return docs
}

// testObjectFilters compares listings filtered, ordered and paged by the store
// (store.Cond and store.OrderKey, as odata translates them) with odata's in-memory
// evaluation of the same options over the same generated documents.
func testObjectFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	plain, odd := filterDocs(400, false), filterDocs(300, true)
	update(t, s, func(tx store.Tx) error {
		for tenant, docs := range map[string][]map[string]any{"t": plain, "odd": odd} {
			for i, d := range docs {
				data, _ := json.Marshal(d)
				o := store.Object{Tenant: tenant, Kind: "user", ID: d["id"].(string), Data: data, Deleted: i%10 == 9}
				if err := tx.InsertObject(ctx, &o); err != nil {
					return err
				}
			}
		}
		// Another kind with the same properties is never listed.
		return tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: "contact", ID: "c1", Data: []byte(`{"displayName":"Adele"}`)})
	})

	filters := []string{
		"displayName eq 'adele'",
		"displayName eq 'ADELE' or displayName eq 'bob'",
		"displayName ne 'adele'",
		"not (displayName eq 'Kim')",
		"displayName eq 'kim'",
		"displayName eq 'sam'",
		"displayName eq null",
		"displayName ne null",
		"displayName eq ''",
		"startswith(displayName, 'a')",
		"startswith(displayName, 'K')",
		"not startswith(displayName, 'S')",
		"startswith(displayName, '')",
		"startswith(userPrincipalName, 'ADELE1')",
		"userPrincipalName eq 'bob7@contoso.com'",
		"mail eq 'm3@contoso.com'",
		"mail in ('m1@contoso.com', 'M2@CONTOSO.COM', null)",
		"jobTitle eq 'engineer'",
		"jobTitle ne 'engineer'",
		"jobTitle eq null",
		"accountEnabled",
		"accountEnabled eq true",
		"accountEnabled eq false",
		"accountEnabled ne true",
		"not accountEnabled",
		"accountEnabled eq null",
		"createdDateTime ge 2026-01-03T00:00:00Z",
		"createdDateTime lt 2026-01-03",
		"createdDateTime eq 2026-01-02T01:00:00Z",
		"createdDateTime ne 2026-01-02T01:00:00Z",
		"not (createdDateTime gt 2026-01-04T00:00:00Z)",
		"2026-01-03T00:00:00Z le createdDateTime",
		"createdDateTime gt null",
		"address/city eq 'OSLO'",
		"address/city ne 'oslo' and accountEnabled",
		"(displayName eq 'dan' or jobTitle eq 'sales') and not (mail eq null)",
		"true", "false", "not false",
		// Partly translated: the store narrows, the caller matches the rest.
		"displayName eq 'adele' and contains(mail, '1')",
		"accountEnabled and jobTitle gt 'f'",
		// Not translated at all.
		"contains(displayName, 'a')",
		"displayName eq 'Éva'",
		"jobTitle eq 1",
		"createdDateTime ge 2026-01-03T00:00:00.5Z",
	}
	type orderCase struct {
		orderBy string
		skip    int
		top     int
		idDesc  bool
	}
	orders := []orderCase{
		{"displayName desc", 3, 40, true}, {"createdDateTime", 0, 0, true},
		{"", 0, 0, false}, {"displayName", 0, 0, false}, {"displayName desc", 0, 0, false}, {"displayName", 37, 10, false},
		{"userPrincipalName desc", 5, 25, false}, {"createdDateTime desc,displayName", 0, 50, false}, {"address/city,displayName desc", 100, 7, false},
	}
	for _, tenant := range []string{"t", "odd"} {
		docs := plain
		if tenant == "odd" {
			docs = odd
		}
		for _, deleted := range []bool{false, true} {
			var live []map[string]any
			for i, d := range docs {
				if (i%10 == 9) == deleted {
					live = append(live, d)
				}
			}
			for _, ftext := range filters {
				f, err := odata.ParseFilter(ftext)
				if err != nil {
					t.Fatalf("ParseFilter(%q): %v", ftext, err)
				}
				where, exact := f.StoreCond(filterProps)
				var want []map[string]any
				for _, d := range live {
					if f.Match(d) {
						want = append(want, d)
					}
				}
				for _, oc := range orders {
					if oc.orderBy != "" && tenant == "odd" {
						continue // odd strings are not ordered by the store (see store.Plain)
					}
					name := fmt.Sprintf("%s deleted=%v $filter=%s $orderby=%s $skip=%d $top=%d idDesc=%v", tenant, deleted, ftext, oc.orderBy, oc.skip, oc.top, oc.idDesc)
					q := store.ObjectQuery{Tenant: tenant, Kind: "user", Deleted: deleted, Where: where}
					wantPage := append([]map[string]any(nil), want...)
					if oc.orderBy != "" {
						keys, err := odata.ParseOrderBy(oc.orderBy)
						if err != nil {
							t.Fatal(err)
						}
						sk, ok := odata.StoreOrder(keys, filterProps)
						if !ok {
							t.Fatalf("%s: StoreOrder refused", name)
						}
						q.OrderBy, q.IDDesc = sk, oc.idDesc
						odata.SortDocs(wantPage, append(keys, odata.OrderKey{Property: "id", Desc: oc.idDesc}))
					}
					q.Offset, q.Limit = oc.skip, oc.top
					var got []store.Object
					var count int
					view(t, s, func(tx store.Tx) error {
						var err error
						if got, err = tx.ListObjects(ctx, q); err != nil {
							return fmt.Errorf("%s: ListObjects: %w", name, err)
						}
						count, err = tx.CountObjects(ctx, q)
						return err
					})
					gotIDs := docIDs(t, got, f, !exact)
					if !exact {
						if oc.orderBy != "" || oc.skip > 0 || oc.top > 0 {
							continue // a superset cannot be paged by the store
						}
						if count < len(want) {
							t.Errorf("%s: CountObjects = %d, fewer than the %d matches", name, count, len(want))
						}
					} else if count != len(want) {
						t.Errorf("%s: CountObjects = %d, want %d", name, count, len(want))
					}
					wantPage = wantPage[min(oc.skip, len(wantPage)):]
					if oc.top > 0 {
						wantPage = wantPage[:min(oc.top, len(wantPage))]
					}
					var wantIDs []string
					for _, d := range wantPage {
						wantIDs = append(wantIDs, d["id"].(string))
					}
					if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
						t.Errorf("%s (exact %v): store and odata differ (-odata +store):\n%s", name, exact, diff)
					}
				}
			}
		}
	}
	// The store finds exactly the strings that are not plain.
	for _, tenant := range []string{"t", "odd"} {
		docs := plain
		if tenant == "odd" {
			docs = odd
		}
		for _, path := range []string{"displayName", "userPrincipalName"} {
			var want []string
			for i, d := range docs {
				if v, ok := d[path].(string); ok && !store.Plain(v) && i%10 != 9 {
					want = append(want, d["id"].(string))
				}
			}
			var got []store.Object
			view(t, s, func(tx store.Tx) error {
				var err error
				got, err = tx.ListObjects(ctx, store.ObjectQuery{Tenant: tenant, Kind: "user", Where: &store.Cond{Op: store.CondUnplain, Prop: store.Prop{Path: path}}})
				return err
			})
			if diff := cmp.Diff(want, docIDs(t, got, nil, false)); diff != "" {
				t.Errorf("%s: unplain %s (-want +got):\n%s", tenant, path, diff)
			}
		}
	}
}

// docIDs returns the ids of objs, keeping only those f matches when match is set.
func docIDs(t *testing.T, objs []store.Object, f *odata.Filter, match bool) []string {
	t.Helper()
	var ids []string
	for _, o := range objs {
		if match {
			var d map[string]any
			if err := json.Unmarshal(o.Data, &d); err != nil {
				t.Fatal(err)
			}
			if !f.Match(d) {
				continue
			}
		}
		ids = append(ids, o.ID)
	}
	return ids
}
