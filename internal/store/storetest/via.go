package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
)

// testObjectsVia: a listing through links (store.Via) returns the live objects its
// links point at, of the kind the links' data or the query names, in link order or
// by OrderBy, pages after a link's id, and counts what it lists; Kinds selects
// objects of several kinds, through links or not.
func testObjectsVia(t *testing.T, s store.Store) {
	ctx := context.Background()
	update(t, s, func(tx store.Tx) error {
		objs := []store.Object{
			{Kind: "user", ID: "u1", Data: []byte(`{"displayName":"Zoe"}`)},
			{Kind: "user", ID: "u2", Data: []byte(`{"displayName":"adele"}`)},
			{Kind: "user", ID: "u3", Data: []byte(`{"displayName":"Bruno"}`), Deleted: true},
			{Kind: "group", ID: "g1", Data: []byte(`{"displayName":"Chen"}`)},
			{Kind: "group", ID: "g2", Data: []byte(`{"displayName":"Dana"}`)},
			{Kind: "user", ID: "g2", Data: []byte(`{"displayName":"not g2"}`)}, // an id of both kinds
		}
		link := func(g, o, typ string) store.Object {
			return store.Object{Kind: "member", ID: g + "|" + o, Owner: g, Parent: o, Data: []byte(`{"type":"` + typ + `"}`)}
		}
		objs = append(objs,
			link("g1", "u1", "user"), link("g1", "u2", "user"), link("g1", "u3", "user"), // u3 soft-deleted
			link("g1", "g2", "group"), link("g1", "u9", "user"), // u9 missing
			link("g1", "g9", "user"),                           // g9 missing as a user too
			link("g2", "u1", "user"), link("g9", "u1", "user"), // g9 missing
		)
		for _, o := range objs {
			o.Tenant = "t"
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
			o.Tenant = "other"
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
		}
		return nil
	})
	ids := func(q store.ObjectQuery) []string {
		t.Helper()
		var out []string
		view(t, s, func(tx store.Tx) error {
			objs, err := tx.ListObjects(ctx, q)
			for _, o := range objs {
				out = append(out, o.Kind+":"+o.ID)
			}
			return err
		})
		return out
	}
	count := func(q store.ObjectQuery) int {
		t.Helper()
		var n int
		view(t, s, func(tx store.Tx) error {
			var err error
			n, err = tx.CountObjects(ctx, q)
			return err
		})
		return n
	}
	members := &store.Via{Kind: "member", Owner: "g1", KindProp: "type"}
	both := []string{"group", "user"}
	name := store.Prop{Path: "displayName"}
	for _, c := range []struct {
		name  string
		q     store.ObjectQuery
		want  []string
		count int
	}{
		{"members", store.ObjectQuery{Tenant: "t", Kinds: both, Via: members}, []string{"group:g2", "user:u1", "user:u2"}, 3},
		{"members after a link", store.ObjectQuery{Tenant: "t", Kinds: both, Via: members, AfterID: "g1|g2", Limit: 1}, []string{"user:u1"}, 3},
		{"members that are users", store.ObjectQuery{Tenant: "t", Kind: "user", Via: members}, []string{"user:u1", "user:u2"}, 2},
		{"members that are groups", store.ObjectQuery{Tenant: "t", Kinds: []string{"group", "app"}, Via: members}, []string{"group:g2"}, 1},
		{"members by name", store.ObjectQuery{Tenant: "t", Kinds: both, Via: members, OrderBy: []store.OrderKey{{Prop: name}}}, []string{"user:u2", "group:g2", "user:u1"}, 3},
		{"members by name desc, $skip", store.ObjectQuery{Tenant: "t", Kinds: both, Via: members, OrderBy: []store.OrderKey{{Prop: name, Desc: true}}, Offset: 1, Limit: 5}, []string{"group:g2", "user:u2"}, 3},
		{"filtered members", store.ObjectQuery{Tenant: "t", Kinds: both, Via: members, Where: &store.Cond{Op: store.CondPrefix, Prop: name, Value: "A"}}, []string{"user:u2"}, 1},
		{"soft-deleted members", store.ObjectQuery{Tenant: "t", Kinds: both, Via: members, Deleted: true}, []string{"user:u3"}, 1},
		{"groups of u1", store.ObjectQuery{Tenant: "t", Kind: "group", Via: &store.Via{Kind: "member", Parent: "u1"}}, []string{"group:g1", "group:g2"}, 2},
		{"groups of g2", store.ObjectQuery{Tenant: "t", Kind: "group", Via: &store.Via{Kind: "member", Parent: "g2"}}, []string{"group:g1"}, 1},
		{"objects of kinds", store.ObjectQuery{Tenant: "t", Kinds: []string{"group", "app"}}, []string{"group:g1", "group:g2"}, 2},
		{"of a kind and kinds", store.ObjectQuery{Tenant: "t", Kind: "user", Kinds: []string{"group"}}, nil, 0},
		{"another tenant's", store.ObjectQuery{Tenant: "none", Kinds: both, Via: members}, nil, 0},
	} {
		if got := ids(c.q); !cmp.Equal(got, c.want) {
			t.Errorf("%s: ListObjects = %v, want %v", c.name, got, c.want)
		}
		if got := count(c.q); got != c.count {
			t.Errorf("%s: CountObjects = %d, want %d", c.name, got, c.count)
		}
	}
	for _, q := range []store.ObjectQuery{
		{Tenant: "t", Kinds: both, Via: &store.Via{Kind: "member", KindProp: "type"}},
		{Tenant: "t", Kinds: both, Via: &store.Via{Kind: "member", Owner: "g1", Parent: "u1", KindProp: "type"}},
		{Tenant: "t", Via: &store.Via{Kind: "member", Owner: "g1", KindProp: "type"}},
		{Tenant: "t", Kinds: both, Via: &store.Via{Kind: "member", Owner: "g1", KindProp: "no such"}},
	} {
		err := s.View(ctx, func(tx store.Tx) error {
			_, err := tx.ListObjects(ctx, q)
			return err
		})
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("ListObjects(%+v) = %v, want a malformed query's error", *q.Via, err)
		}
	}
}

// RunExplainVia fills s with a directory whose group g0 has thousands of members,
// beside a thousand groups of a dozen, and whose user u00000 belongs to hundreds
// of groups, and checks from the
// backend's plans (explain for a page, explainCount for a count) that a page or a
// count of a listing through links reads the links from their owner's or parent's
// index, in order (no sort step), and finds each object by its (tenant, kind, id) key
// (byID: how the plan names that read). analyze, when set, refreshes the
// planner's statistics after the load.
func RunExplainVia(t *testing.T, s store.Store, explain, explainCount Explainer, sortStep, byID string, analyze func(ctx context.Context) error) {
	ctx := context.Background()
	for start := 0; start < 6000; start += 1000 {
		update(t, s, func(tx store.Tx) error {
			for i := start; i < start+1000; i++ {
				kind, id := "user", fmt.Sprintf("u%05d", i)
				if i%5 == 0 {
					kind, id = "group", fmt.Sprintf("g%05d", i/5)
				}
				data := fmt.Sprintf(`{"displayName":"Name %d"}`, i%700)
				if err := tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: kind, ID: id, Data: []byte(data), Deleted: i%17 == 0}); err != nil {
					return err
				}
				// Every object is a member of g00000; every fifth user is also a
				// member of one of 200 small groups.
				links := [][2]string{{"g00000", id}}
				if kind == "user" && i%5 == 2 {
					links = append(links, [2]string{fmt.Sprintf("g%05d", i%200), id})
				}
				if kind == "group" && i > 0 && i < 4000 {
					links = append(links, [2]string{id, "u00001"})
				}
				// And of two of a thousand other groups: a count of one of
				// them reads its dozen links from the index. (A count of
				// g00000's, most of all links, may rightly scan them where the
				// links have a table of their own.)
				links = append(links, [2]string{fmt.Sprintf("f%04d", i%1000), id}, [2]string{fmt.Sprintf("f%04d", (i+500)%1000), id})
				for _, l := range links {
					o := store.Object{Tenant: "t", Kind: "member", ID: l[0] + "|" + l[1], Owner: l[0], Parent: l[1], Data: []byte(`{"type":"` + kind + `"}`)}
					if l[1] == "u00001" {
						o.Data = []byte(`{"type":"user"}`)
					}
					if err := tx.InsertObject(ctx, &o); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	refreshStatistics(t, analyze)
	members := &store.Via{Kind: "member", Owner: "g00000", KindProp: "type"}
	both := []string{"group", "user"}
	memberOf := &store.Via{Kind: "member", Parent: "u00001"}
	name := &store.Cond{Op: store.CondPrefix, Prop: store.Prop{Path: "displayName"}, Value: "name 1"}
	for _, c := range []struct {
		name  string
		q     store.ObjectQuery
		index string
		count bool
	}{
		{"members, $top", store.ObjectQuery{Tenant: "t", Kinds: both, Via: members, Limit: 11}, "objects_owner", false},
		{"members, $skiptoken", store.ObjectQuery{Tenant: "t", Kinds: both, Via: members, AfterID: "g00000|u03001", Limit: 11}, "objects_owner", false},
		{"members, $filter", store.ObjectQuery{Tenant: "t", Kinds: both, Via: members, Where: name, Limit: 11}, "objects_owner", false},
		{"users among the members", store.ObjectQuery{Tenant: "t", Kind: "user", Via: members, Limit: 11}, "objects_owner", false},
		{"memberOf, $top", store.ObjectQuery{Tenant: "t", Kind: "group", Via: memberOf, Limit: 11}, "objects_parent", false},
		{"memberOf, $skiptoken", store.ObjectQuery{Tenant: "t", Kind: "group", Via: memberOf, AfterID: "g00400|u00001", Limit: 11}, "objects_parent", false},
		{"members, $count", store.ObjectQuery{Tenant: "t", Kinds: both, Via: &store.Via{Kind: "member", Owner: "f0001", KindProp: "type"}}, "objects_owner", true},
		{"memberOf, $count", store.ObjectQuery{Tenant: "t", Kind: "group", Via: memberOf, Where: name}, "objects_parent", true},
	} {
		ex := explain
		if c.count {
			ex = explainCount
		}
		plan, err := ex(ctx, c.q)
		if err != nil {
			t.Fatalf("%s: explain: %v", c.name, err)
		}
		if !strings.Contains(plan, c.index) || !strings.Contains(plan, byID) {
			t.Errorf("%s: the plan does not read the links from %s and each object by %s:\n%s", c.name, c.index, byID, plan)
		}
		if strings.Contains(plan, sortStep) {
			t.Errorf("%s: the plan sorts (%s) instead of reading the links in order:\n%s", c.name, sortStep, plan)
		}
	}
}
