package subscription

import (
	"errors"
	"fmt"
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
)

// The 403s of the subscriptions API name the permission that would have let the
// caller through, in the words Graph's workloads use for a missing role or scope,
// so that a developer knows what to consent to without reading the tables.

// deniedWith is Access denied with a reason after it.
func deniedWith(op, reason string) *graph.Error {
	return accessDenied(op, "Access denied. "+reason)
}

// typeNames are the permission types as Microsoft's permission tables name them.
var typeNames = map[identity.PermissionType]string{
	identity.Application:       "application",
	identity.DelegatedWork:     "delegated (work or school account)",
	identity.DelegatedPersonal: "delegated (personal Microsoft account)",
}

// quoted lists names the way Graph's "API requires one of '…'" does.
func quoted(names []string) string { return "'" + strings.Join(names, ", ") + "'" }

// missingPermission is the refusal of a caller whose type may subscribe on variant
// but who holds none of the names it needs; a type that may not subscribe at all is
// told which types may.
func missingPermission(op string, d *resource.Descriptor, variant string, p *identity.Principal) *graph.Error {
	names, ok := d.Names(variant, p.Type)
	if !ok {
		return deniedWith(op, fmt.Sprintf("Subscriptions to %s with %s permissions are not supported; %s.", d.Type, typeNames[p.Type], otherTypes(d, variant)))
	}
	kind, held := "role", "Roles"
	if p.Type.Delegated() {
		kind, held = "scope", "Scopes"
	}
	return deniedWith(op, fmt.Sprintf("Missing %s permissions on the request. API requires one of %s. %s on the request %s.",
		kind, quoted(names), held, quoted(p.SortedPermissions())))
}

// otherTypes says which permission types may subscribe on variant, and with what.
func otherTypes(d *resource.Descriptor, variant string) string {
	var parts []string
	for _, t := range []identity.PermissionType{identity.Application, identity.DelegatedWork, identity.DelegatedPersonal} {
		if names, ok := d.Names(variant, t); ok {
			parts = append(parts, typeNames[t]+" permissions "+quoted(names))
		}
	}
	if len(parts) == 0 {
		return "no permission type can subscribe to it"
	}
	return "it requires one of the " + strings.Join(parts, " or ")
}

// notOwnUser refuses a delegated caller who names another user's data.
func notOwnUser(op string, d *resource.Descriptor, variant string) *graph.Error {
	reason := fmt.Sprintf("With delegated permissions a user can subscribe to %s resources of their own only", d.Type)
	if names, ok := d.Names(variant, identity.Application); ok {
		reason += fmt.Sprintf("; another user's require one of the application permissions %s", quoted(names))
	}
	return deniedWith(op, reason+".")
}

// readDenied turns a read-access rule's refusal into the API's error, with the
// rule's reason and the permissions that read without that rule.
func readDenied(op string, err error, d *resource.Descriptor, variant string) *graph.Error {
	reason := "The caller cannot read the resource"
	var de *resource.DeniedError
	if errors.As(err, &de) && de.Reason != "" {
		reason = strings.TrimSuffix(de.Reason, ".")
	}
	if names, ok := d.Names(variant, identity.Application); ok {
		reason += fmt.Sprintf("; without a signed-in user it requires one of the application permissions %s", quoted(names))
	} else if names, ok := d.Names(variant, identity.DelegatedWork); ok {
		reason += fmt.Sprintf("; one of the delegated permissions %s is needed as well as that access", quoted(names))
	}
	return deniedWith(op, reason+".")
}

// notManager refuses a change to a subscription the caller can see but did not make.
func notManager(op string) *graph.Error {
	return deniedWith(op, "Only the application that created the subscription, with the user who created it for delegated subscriptions, can change it; Subscription.Read.All lets other callers read it, not change it.")
}
