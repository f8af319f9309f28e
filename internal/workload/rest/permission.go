package rest

import (
	"net/http"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
)

// Permissions says who may call an operation: per permission type, the permissions
// any one of which allows it. An empty list means the operation is not available with
// that permission type.
type Permissions struct {
	Delegated   []string
	Application []string
	// Personal, when set, refuses personal Microsoft accounts with this message, for
	// services they do not have; otherwise they are checked as delegated callers.
	Personal string
	// NoDelegated, when set, replaces Graph's generic message for delegated callers of
	// an application-only operation.
	NoDelegated string
}

// Check applies the rule to the caller: Graph's 403 "Forbidden" with the message for
// an unavailable permission type, or "Missing role/scope permissions" naming what the
// operation needs and what the token has.
func (ps Permissions) Check(p *identity.Principal) error {
	if ps.Personal != "" && p.Type == identity.DelegatedPersonal {
		return graph.Errorf(http.StatusForbidden, "Forbidden", "%s", ps.Personal)
	}
	delegated := p.Type.Delegated()
	need := ps.Application
	if delegated {
		need = ps.Delegated
	}
	if len(need) == 0 {
		switch {
		case delegated && ps.NoDelegated != "":
			return graph.Errorf(http.StatusForbidden, "Forbidden", "%s", ps.NoDelegated)
		case delegated:
			return graph.Errorf(http.StatusForbidden, "Forbidden", "This operation is not supported with delegated permissions.")
		}
		return graph.Errorf(http.StatusForbidden, "Forbidden", "Requested API is not supported in application-only context.")
	}
	if !p.Has(need...) {
		return graph.MissingPermissions(delegated, need, p.SortedPermissions())
	}
	return nil
}

// Allows reports whether the rule lets the caller in. Services that answer every
// refusal with their own access-denied error (Exchange, SharePoint) use it instead of
// Check.
func (ps Permissions) Allows(p *identity.Principal) bool {
	if ps.Personal != "" && p.Type == identity.DelegatedPersonal {
		return false
	}
	need := ps.Application
	if p.Type.Delegated() {
		need = ps.Delegated
	}
	return len(need) > 0 && p.Has(need...)
}

// Both is the rule of an operation that takes the same permissions with either
// permission type.
func Both(perms ...string) Permissions {
	return Permissions{Delegated: perms, Application: perms}
}
