package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/store"
)

// Apps returns the apps that may act in tenant: its own registrations and the other
// tenants' apps it consented to, ordered by client id. Tools that act for the
// server's operator (graphhook trigger) pick one holding the permission they need.
func (s *Service) Apps(ctx context.Context, tenantID string) ([]App, error) {
	t, ok := s.Tenant(tenantID)
	if !ok {
		return nil, fmt.Errorf("identity: unknown tenant %q", tenantID)
	}
	all, err := s.AllApps(ctx)
	return slices.DeleteFunc(all, func(a App) bool { return !t.Consented(a) }), err
}

// AllApps returns every registered app, ordered by client id: a personal account
// may sign in to any of them.
func (s *Service) AllApps(ctx context.Context) ([]App, error) {
	var apps []App
	err := s.st.View(ctx, func(tx store.Tx) error {
		objs, err := tx.ListObjects(ctx, store.ObjectQuery{Kind: KindApp})
		if err != nil {
			return err
		}
		for _, o := range objs {
			var a App
			if err := json.Unmarshal(o.Data, &a); err != nil {
				return fmt.Errorf("identity: app %s: %w", o.ID, err)
			}
			apps = append(apps, a)
		}
		return nil
	})
	slices.SortFunc(apps, func(a, b App) int { return strings.Compare(a.ClientID, b.ClientID) })
	return apps, err
}

// MintAppToken issues the application token the client credentials grant would give
// app in tenant, without its secret: for callers inside the server that act with a
// fixture app's permissions.
func (s *Service) MintAppToken(tenantID string, app App) (string, error) {
	t, ok := s.Tenant(tenantID)
	if !ok || !t.Consented(app) {
		return "", fmt.Errorf("identity: app %s may not act in tenant %s", app.ClientID, tenantID)
	}
	return s.Sign(s.appAccessClaims(s.cfg.Clock.Now(), t.ID, app))
}

// MintUserToken issues the delegated token a sign-in of user (object id) to app would
// give, with the delegated permissions scopes (each must be consented to app), without
// the user's password: for callers inside the server that act as a fixture user.
func (s *Service) MintUserToken(ctx context.Context, tenantID string, app App, userID string, scopes []string) (string, error) {
	t, ok := s.Tenant(tenantID)
	if !ok || (t.ID != ConsumersTenant && !t.Consented(app)) {
		return "", fmt.Errorf("identity: app %s may not act in tenant %s", app.ClientID, tenantID)
	}
	for _, sc := range scopes {
		if !containsFold(app.DelegatedPermissions, sc) {
			return "", fmt.Errorf("identity: app %s has no consent for %s", app.ClientID, sc)
		}
	}
	u, err := s.userByID(ctx, t.ID, strings.ToLower(userID))
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("identity: no user %s in tenant %s", userID, tenantID)
	}
	if err != nil {
		return "", err
	}
	c, err := s.credential(ctx, t.ID, u.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	graphScopes := slices.Clone(scopes)
	slices.Sort(graphScopes)
	in := signIn{app: app, tid: t.ID, user: u, roles: c.Roles, scopes: scopeRequest{Graph: graphScopes, Echo: graphScopes}, confidential: app.HasSecret()}
	return s.Sign(s.userAccessClaims(s.cfg.Clock.Now(), in))
}
