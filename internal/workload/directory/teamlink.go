package directory

import (
	"context"
	"errors"
	"time"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

// A team's roster is its group's membership: Teams' members API adds and removes
// the group's member and owner links, so that the group and the team never
// disagree. These functions write the links and record the group's change in the
// caller's transaction, as POST and DELETE …/members/$ref do.

// AddGroupUser makes user a member of group (and an owner when owner is set) and
// reports whether anything changed. Unknown groups answer 404.
func AddGroupUser(ctx context.Context, tx store.Tx, tenant, group, user string, owner bool, now time.Time) (bool, error) {
	g, err := resolveGroup(ctx, tx, tenant, group)
	if err != nil {
		return false, err
	}
	rels := []relation{memberRel}
	if owner {
		rels = append(rels, ownerRel)
	}
	changed := false
	for _, rel := range rels {
		added, err := insertLink(ctx, tx, rel, g, user, odataTypeUser, now)
		if err != nil {
			return false, err
		}
		if added {
			changed = true
			if err := recordLink(ctx, tx, rel, g, linkDelta(odataTypeUser, user, false), now); err != nil {
				return false, err
			}
		}
	}
	return changed, nil
}

// RemoveGroupOwner takes user off group's owners, keeping the membership; false when
// user was not an owner.
func RemoveGroupOwner(ctx context.Context, tx store.Tx, tenant, group, user string, now time.Time) (bool, error) {
	return removeGroupLinks(ctx, tx, tenant, group, user, now, ownerRel)
}

// RemoveGroupUser takes user out of group, as a member and as an owner; false when
// user was in neither.
func RemoveGroupUser(ctx context.Context, tx store.Tx, tenant, group, user string, now time.Time) (bool, error) {
	return removeGroupLinks(ctx, tx, tenant, group, user, now, memberRel, ownerRel)
}

func removeGroupLinks(ctx context.Context, tx store.Tx, tenant, group, user string, now time.Time, rels ...relation) (bool, error) {
	g, err := resolveGroup(ctx, tx, tenant, group)
	if err != nil {
		return false, err
	}
	changed := false
	for _, rel := range rels {
		err := tx.DeleteObject(ctx, tenant, rel.kind, identity.MembershipID(g.ID, user))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		changed = true
		if err := recordLink(ctx, tx, rel, g, linkDelta(odataTypeUser, user, true), now); err != nil {
			return false, err
		}
	}
	return changed, nil
}
