package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

// linkedInMemory is how members, owners and memberOf were read before the store
// joined links to their objects: each link in id order, its object read by id, a
// link to a soft-deleted or missing object only moving the cursor on. It is the
// reference the store's answer is compared with.
func linkedInMemory(tenant string, q store.ObjectQuery) source {
	return func(ctx context.Context, tx store.Tx, after string, n int) ([]item, error) {
		q := q
		q.Tenant, q.AfterID, q.Limit = tenant, after, n
		links, err := tx.ListObjects(ctx, q)
		if err != nil {
			return nil, err
		}
		items := make([]item, 0, len(links))
		for _, l := range links {
			var ln link
			if err := json.Unmarshal(l.Data, &ln); err != nil {
				return nil, err
			}
			kind, id := identity.KindUser, ln.ObjectID
			if q.Parent != "" {
				kind, id, ln.Type = identity.KindGroup, ln.GroupID, "group"
			} else if ln.Type == "group" {
				kind = identity.KindGroup
			}
			o, err := tx.GetObject(ctx, tenant, kind, id)
			if errors.Is(err, store.ErrNotFound) || (err == nil && o.Deleted) {
				items = append(items, item{cursor: l.ID})
				continue
			}
			if err != nil {
				return nil, err
			}
			doc, err := decodeView(o, schemaOf(kind))
			if err != nil {
				return nil, err
			}
			doc["@odata.type"] = odataTypeOf(ln.Type)
			items = append(items, item{cursor: l.ID, doc: doc})
		}
		return items, nil
	}
}

// genLinks fills tenant with users and groups, some soft-deleted, and their member
// and owner links: group g0 has users and groups as members, links to objects that
// are missing, soft-deleted or of another kind than the link says; user u0 belongs
// to most groups. With odd, one member and one group have names the store does not
// order as OData does (store.Plain).
func genLinks(ctx context.Context, tx store.Tx, tenant string, odd bool) error {
	rng := rand.New(rand.NewPCG(7, 11))
	names := []string{"Adele Vance", "adele vance", "Bruno", "chen", "Chen", "Dana", "emil", "Zoe", "Sales", "sales team"}
	put := func(o store.Object, doc map[string]any) error {
		o.Tenant, o.ID = tenant, doc["id"].(string)
		o.Data, _ = json.Marshal(doc)
		return tx.InsertObject(ctx, &o)
	}
	created := func() string { return fmt.Sprintf("2026-0%d-0%dT00:00:00Z", 1+rng.IntN(5), 1+rng.IntN(9)) }
	name := func(doc map[string]any) {
		if rng.IntN(8) > 0 {
			doc["displayName"] = names[rng.IntN(len(names))]
		}
	}
	var users, groups []string
	for i := range 150 {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		doc := map[string]any{"id": id, "userPrincipalName": fmt.Sprintf("User%d@contoso.onmicrosoft.com", i),
			"accountEnabled": rng.IntN(4) > 0, "createdDateTime": created(), "businessPhones": []any{}}
		name(doc)
		if rng.IntN(2) > 0 {
			doc["mail"] = fmt.Sprintf("user%d@contoso.com", i%40)
		}
		if odd && i == 17 {
			doc["displayName"] = "Émile"
		}
		if err := put(store.Object{Kind: identity.KindUser, Alt: fmt.Sprintf("user%d@contoso.onmicrosoft.com", i), Deleted: i%11 == 3}, doc); err != nil {
			return err
		}
		users = append(users, id)
	}
	for i := range 60 {
		id := fmt.Sprintf("11111111-0000-4000-8000-%012d", i)
		doc := map[string]any{"id": id, "securityEnabled": rng.IntN(2) > 0, "mailEnabled": rng.IntN(3) == 0,
			"groupTypes": []any{}, "createdDateTime": created(), "visibility": []any{"Public", "Private", nil}[rng.IntN(3)]}
		name(doc)
		if rng.IntN(2) > 0 {
			doc["groupTypes"] = []any{"Unified"}
			doc["mail"] = fmt.Sprintf("group%d@contoso.com", i)
		}
		if odd && i == 23 {
			doc["displayName"] = "Ärzte"
		}
		if err := put(store.Object{Kind: identity.KindGroup, Deleted: i%13 == 5}, doc); err != nil {
			return err
		}
		groups = append(groups, id)
	}
	linkTo := func(kind, group, target, typ string) error {
		data, _ := json.Marshal(link{GroupID: group, ObjectID: target, Type: typ})
		o := store.Object{Tenant: tenant, Kind: kind, ID: identity.MembershipID(group, target), Owner: group, Parent: target, Data: data}
		return tx.InsertObject(ctx, &o)
	}
	for i, u := range users {
		if i%3 != 2 {
			if err := linkTo(identity.KindMember, groups[0], u, "user"); err != nil {
				return err
			}
		}
		if i%4 == 0 {
			if err := linkTo(identity.KindOwner, groups[0], u, "user"); err != nil {
				return err
			}
		}
		if i%10 == 1 {
			if err := linkTo(identity.KindMember, groups[1], u, "user"); err != nil {
				return err
			}
		}
	}
	for i, g := range groups[1:] {
		if i%2 == 0 {
			if err := linkTo(identity.KindMember, groups[0], g, "group"); err != nil {
				return err
			}
		}
		if i%5 != 4 {
			if err := linkTo(identity.KindMember, g, users[0], "user"); err != nil {
				return err
			}
		}
	}
	// Links whose object is missing, or is not of the kind the link says.
	for i := range 12 {
		missing := fmt.Sprintf("99999999-0000-4000-8000-%012d", i)
		typ := []string{"user", "group"}[i%2]
		if err := linkTo(identity.KindMember, groups[0], missing, typ); err != nil {
			return err
		}
		if err := linkTo(identity.KindMember, missing, users[0], "user"); err != nil {
			return err
		}
	}
	if err := linkTo(identity.KindMember, groups[0], groups[2], "user"); err != nil {
		return err // a group linked as a user
	}
	return linkTo(identity.KindMember, groups[2], users[1], "group") // a user linked as a group
}

// TestLinksMatchMemory: a group's members and owners and a user's groups read
// through the store's join of links and objects (links, listing.list) are the lists
// the in-memory reading gives (listItems over linkedInMemory), page after page, for
// every supported $filter, $orderby and $count, on generated directories with users
// and groups as members and links to soft-deleted, missing and mistyped objects, on
// both backends.
func TestLinksMatchMemory(t *testing.T) {
	t.Parallel()
	storetest.OnEachBackend(t, testLinksMatchMemory)
}

func testLinksMatchMemory(t *testing.T, s store.Store) {
	ctx := context.Background()
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := genLinks(ctx, tx, "t", false); err != nil {
			return err
		}
		return genLinks(ctx, tx, "odd", true)
	})
	if err != nil {
		t.Fatal(err)
	}
	g0, g1 := "11111111-0000-4000-8000-000000000000", "11111111-0000-4000-8000-000000000001"
	u0, u1 := "00000000-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000001"
	userFilters := []string{"", "displayName eq 'adele vance'", "startswith(displayName, 'c')", "accountEnabled",
		"not accountEnabled", "mail eq null or startswith(mail, 'user1')", "createdDateTime ge 2026-03-01T00:00:00Z",
		"id in ('00000000-0000-4000-8000-000000000004', '11111111-0000-4000-8000-000000000003')",
		"contains(mail, '1')", "businessPhones/any(p: p eq '1')"}
	groupFilters := []string{"", "displayName eq 'SALES'", "startswith(displayName, 's')", "securityEnabled and not mailEnabled",
		"visibility eq 'Private' or visibility eq null", "createdDateTime lt 2026-03-05T00:00:00Z",
		"groupTypes/any(t: t eq 'Unified')"}
	userOrders := []string{"", "displayName", "displayName desc", "userPrincipalName", "userPrincipalName desc", "displayName desc, userPrincipalName"}
	groupOrders := []string{"", "displayName", "displayName desc"}
	type list struct {
		name            string
		tenant          string
		rel             relation
		group, member   string
		s               *schema
		ref             store.ObjectQuery
		filters, orders []string
		wantAtLeast     int
	}
	lists := []list{
		{"members of g0", "t", memberRel, g0, "", userSchema, store.ObjectQuery{Kind: identity.KindMember, Owner: g0}, userFilters, userOrders, 100},
		{"owners of g0", "t", ownerRel, g0, "", userSchema, store.ObjectQuery{Kind: identity.KindOwner, Owner: g0}, userFilters, userOrders, 30},
		{"members of g1", "t", memberRel, g1, "", userSchema, store.ObjectQuery{Kind: identity.KindMember, Owner: g1}, userFilters, userOrders, 10},
		{"memberOf u0", "t", memberRel, "", u0, groupSchema, store.ObjectQuery{Kind: identity.KindMember, Parent: u0}, groupFilters, groupOrders, 40},
		{"memberOf u1", "t", memberRel, "", u1, groupSchema, store.ObjectQuery{Kind: identity.KindMember, Parent: u1}, groupFilters, groupOrders, 2},
		// Names the store does not order as OData does: ordered lists are sorted in
		// memory.
		{"members of g0", "odd", memberRel, g0, "", userSchema, store.ObjectQuery{Kind: identity.KindMember, Owner: g0}, userFilters[:3], userOrders, 100},
		{"memberOf u0", "odd", memberRel, "", u0, groupSchema, store.ObjectQuery{Kind: identity.KindMember, Parent: u0}, groupFilters[:3], groupOrders, 40},
	}
	for _, ls := range lists {
		l := links(ls.tenant, ls.rel, ls.group, ls.member, ls.s)
		// The in-memory reading of the whole list, once; each query's answer is
		// filtered and sorted from it as collect does.
		var all []item
		err := s.View(ctx, func(tx store.Tx) error {
			all, err = collect(ctx, tx, linkedInMemory(ls.tenant, ls.ref), listQuery{}, 0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) < ls.wantAtLeast {
			t.Errorf("%s in %s: %d objects generated, want at least %d", ls.name, ls.tenant, len(all), ls.wantAtLeast)
		}
		for _, ftext := range ls.filters {
			for _, otext := range ls.orders {
				q := listQuery{}.parsed(t, ftext, otext)
				var want []item
				for _, it := range all {
					if q.filter == nil || q.filter.Match(it.doc) {
						want = append(want, it)
					}
				}
				if q.order != nil {
					docs := docsOf(want)
					odata.SortDocs(docs, append(q.order, odata.OrderKey{Property: "id"}))
					want = make([]item, len(docs))
					for i, d := range docs {
						want[i] = item{doc: d}
					}
				}
				for _, page := range []struct {
					top   int
					count bool
				}{{100, false}, {13, true}} {
					q.top, q.count, q.skip = page.top, page.count, skipState{}
					name := fmt.Sprintf("%s in %s $filter=%s $orderby=%s $top=%d $count=%v", ls.name, ls.tenant, ftext, otext, page.top, page.count)
					comparePages(t, ctx, s, name, l, want, q)
				}
			}
		}
	}
}

// comparePages follows the pages of q through the store (l.list), as
// @odata.nextLink would, and checks that they cut want, the in-memory answer, into
// pages of q.top, with its length as the total, and that l.count counts it.
func comparePages(t *testing.T, ctx context.Context, s store.Store, name string, l listing, want []item, q listQuery) {
	t.Helper()
	var got []item
	for n := 0; ; n++ {
		var page []item
		var total int
		var more bool
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			page, total, more, err = l.list(ctx, tx, q)
			if err != nil || !q.count || n > 0 {
				return err
			}
			c, err := l.count(ctx, tx, q.filter)
			if c != len(want) {
				t.Errorf("%s: count = %d, want %d", name, c, len(want))
			}
			return err
		})
		if err != nil {
			t.Fatalf("%s: page %d: %v", name, n, err)
		}
		if q.count && total != len(want) {
			t.Errorf("%s: page %d: total = %d, want %d", name, n, total, len(want))
		}
		got = append(got, page...)
		if wantMore := len(got) < len(want); more != wantMore || len(page) != min(q.top, len(want)-len(got)+len(page)) {
			t.Errorf("%s: page %d has %d objects, more = %v; want %d, %v", name, n, len(page), more, min(q.top, len(want)-len(got)+len(page)), wantMore)
			break
		}
		if !more || n > len(want) {
			break
		}
		if q.order != nil {
			q.skip = skipState{Offset: q.skip.Offset + len(page)}
		} else {
			q.skip = skipState{After: page[len(page)-1].cursor}
		}
	}
	// An ordered list pages by position: its cursors are unused.
	wantAll, gotAll := any(want), any(got)
	if q.order != nil {
		wantAll, gotAll = docsOf(want), docsOf(got)
	}
	if diff := cmp.Diff(wantAll, gotAll, cmp.AllowUnexported(item{})); diff != "" {
		t.Errorf("%s: pages (-memory +store):\n%s", name, diff)
	}
}
