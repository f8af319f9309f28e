package teams

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

// joinedTeamObjects returns the live teams user belongs to (as member or owner), by
// id. It starts from the user's own member and owner links (the objects_parent
// index), so its cost follows the user's groups, not the tenant's teams: every
// candidate is then checked with identity.IsGroupMember, the test the listing of
// every team applied, so the answer is the same.
func joinedTeamObjects(ctx context.Context, tx store.Tx, tenant, user string) ([]store.Object, error) {
	// Links made from the fixture keep the user id lower case, links made through
	// the API keep the stored id: look under both.
	parents := []string{user}
	if lower := strings.ToLower(user); lower != user {
		parents = append(parents, lower)
	}
	candidates := map[string]bool{}
	for _, kind := range []string{identity.KindMember, identity.KindOwner} {
		for _, parent := range parents {
			for _, deleted := range []bool{false, true} {
				links, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: tenant, Kind: kind, Parent: parent, Deleted: deleted})
				if err != nil {
					return nil, err
				}
				for _, l := range links {
					candidates[l.Owner] = true
					candidates[strings.ToLower(l.Owner)] = true
				}
			}
		}
	}
	var out []store.Object
	for id := range candidates {
		t, err := tx.GetObject(ctx, tenant, KindTeam, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && t.Deleted) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ok, err := identity.IsGroupMember(ctx, tx, tenant, t.ID, user)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b store.Object) int { return strings.Compare(a.ID, b.ID) })
	return slices.CompactFunc(out, func(a, b store.Object) bool { return a.ID == b.ID }), nil
}
