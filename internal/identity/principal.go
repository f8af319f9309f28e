// Package identity is graphhook's stand-in for Microsoft Entra ID: tenants, apps,
// users and personal accounts from the fixture; the endpoints Microsoft's sign-in
// libraries call (instance discovery, user realm, OpenID configuration v1 and v2,
// signing keys, the token endpoint with one function per grant, the authorization code
// flow with PKCE behind a sign-in page, the device code flow); bearer validation of
// Graph access tokens; and which permission type a call has and which permissions it
// holds.
//
// Answers follow Entra's where clients notice: error bodies with their AADSTS codes
// and trace lines, the response's scope, id tokens and client_info, access tokens in
// Graph's v1 form (issuer https://sts.windows.net/{tid}/, so they do not name
// graphhook's URL), and issuers and links on the host the client used, so that one
// server answers both through the intercepting proxy (as Entra's hosts) and directly.
//
// Graph's permission catalog is data (permissions.tsv, catalog.go); the table of who
// may subscribe to what is data too (permissions.go).
package identity

import (
	"slices"
	"strings"
)

// ConsumersTenant is the tenant that holds personal Microsoft accounts.
const ConsumersTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// GraphAudience is the audience of access tokens for Graph; GraphAppID is Graph's
// application id, also accepted as audience.
const (
	GraphAudience = "https://graph.microsoft.com"
	GraphAppID    = "00000003-0000-0000-c000-000000000000"
)

// PermissionType is how a call is authorised.
type PermissionType int

const (
	// Application: an app acting as itself (client credentials); permissions in "roles".
	Application PermissionType = iota + 1
	// DelegatedWork: an app acting for a signed-in work or school user; "scp".
	DelegatedWork
	// DelegatedPersonal: an app acting for a signed-in personal Microsoft account.
	DelegatedPersonal
)

func (t PermissionType) String() string {
	switch t {
	case Application:
		return "application"
	case DelegatedWork:
		return "delegated work or school account"
	case DelegatedPersonal:
		return "delegated personal Microsoft account"
	}
	return "unknown"
}

// Delegated reports whether a user is signed in.
func (t PermissionType) Delegated() bool { return t == DelegatedWork || t == DelegatedPersonal }

// Principal is the caller of one request, taken from its validated token.
type Principal struct {
	TenantID string // the tenant the token was issued for (consumers for personal accounts)
	Type     PermissionType
	AppID    string // client id of the calling app
	// ServicePrincipalID is the object id of the app's service principal in the
	// token's tenant: creatorId of app-only subscriptions.
	ServicePrincipalID string
	UserID             string // object id of the signed-in user; "" for application calls
	UPN                string
	// Permissions are the token's roles (application) or scopes (delegated).
	Permissions []string
	// RoleTemplateIDs are the signed-in user's directory roles (the token's "wids").
	RoleTemplateIDs []string
}

// GlobalAdministratorRole is the role template id of Microsoft Entra's Global
// Administrator.
const GlobalAdministratorRole = "62e90394-69f5-4237-9190-012177145e10"

// roleTemplateIDs maps the directory role names a fixture may give to their ids.
var roleTemplateIDs = map[string]string{"Global Administrator": GlobalAdministratorRole}

// GlobalAdmin reports whether the signed-in user is a Global Administrator.
func (p *Principal) GlobalAdmin() bool {
	return p.Type == DelegatedWork && slices.Contains(p.RoleTemplateIDs, GlobalAdministratorRole)
}

// Has reports whether the caller holds at least one of the named permissions
// (case-insensitive, as Entra compares them).
func (p *Principal) Has(any ...string) bool {
	for _, want := range any {
		for _, have := range p.Permissions {
			if strings.EqualFold(want, have) {
				return true
			}
		}
	}
	return false
}

// CreatorID is the user id for delegated calls and the service principal id for
// application calls.
func (p *Principal) CreatorID() string {
	if p.Type.Delegated() {
		return p.UserID
	}
	return p.ServicePrincipalID
}

// SortedPermissions returns a sorted copy of the permissions.
func (p *Principal) SortedPermissions() []string {
	out := slices.Clone(p.Permissions)
	slices.Sort(out)
	return out
}
