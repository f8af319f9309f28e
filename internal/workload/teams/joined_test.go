package teams

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestJoinedTeamsMatchMemory: the teams joinedTeamObjects finds from the user's links
// are the teams the test of every team against identity.IsGroupMember finds, for
// generated teams (some soft-deleted), groups without a team and member and owner
// links (some soft-deleted, some keeping the user id in upper case), on both
// backends.
func TestJoinedTeamsMatchMemory(t *testing.T) {
	t.Parallel()
	storetest.OnEachBackend(t, testJoinedTeamsMatchMemory)
}

func testJoinedTeamsMatchMemory(t *testing.T, s store.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(15, 2))
	users := []string{"u0", "u1", "U2", "u3"}
	err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 60 {
			gid := fmt.Sprintf("g%03d", i*37%100)
			if i%5 != 0 { // a fifth of the groups have no team
				o := &store.Object{Tenant: "t", Kind: KindTeam, ID: gid, Data: []byte(`{"id":"` + gid + `"}`), Deleted: i%7 == 0}
				if err := tx.InsertObject(ctx, o); err != nil {
					return err
				}
			}
			for _, u := range users {
				kind := []string{"", identity.KindMember, identity.KindOwner}[rng.IntN(3)]
				if kind == "" {
					continue
				}
				parent := u
				if rng.IntN(2) == 0 {
					parent = strings.ToLower(u)
				}
				link := &store.Object{Tenant: "t", Kind: kind, ID: identity.MembershipID(gid, u), Owner: gid, Parent: parent, Data: []byte(`{}`), Deleted: rng.IntN(6) == 0}
				if err := tx.InsertObject(ctx, link); err != nil {
					return err
				}
			}
		}
		// Another tenant's team with the same id and links must not show.
		if err := tx.InsertObject(ctx, &store.Object{Tenant: "other", Kind: KindTeam, ID: "g999", Data: []byte(`{}`)}); err != nil {
			return err
		}
		return tx.InsertObject(ctx, &store.Object{Tenant: "other", Kind: identity.KindMember, ID: identity.MembershipID("g999", "u0"), Owner: "g999", Parent: "u0", Data: []byte(`{}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(objs []store.Object) []string {
		var out []string
		for _, o := range objs {
			out = append(out, o.ID)
		}
		return out
	}
	for _, u := range append(users, "nobody") {
		err := s.View(ctx, func(tx store.Tx) error {
			teams, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: KindTeam})
			if err != nil {
				return err
			}
			var want []store.Object
			for _, team := range teams {
				ok, err := identity.IsGroupMember(ctx, tx, "t", team.ID, u)
				if err != nil {
					return err
				}
				if ok {
					want = append(want, team)
				}
			}
			got, err := joinedTeamObjects(ctx, tx, "t", u)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(ids(want), ids(got)); diff != "" {
				t.Errorf("user %s (-memory +store):\n%s", u, diff)
			}
			if u == "u0" && len(want) == 0 {
				t.Errorf("user %s: no joined team generated; the test proves nothing", u)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
