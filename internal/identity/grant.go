package identity

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/graphhook/graphhook/internal/store"
)

// clientCredentialsGrant issues an application token: the app acting as itself in a
// tenant that registered or consented to it, with its application permissions.
func (s *Service) clientCredentialsGrant(ctx context.Context, req *tokenRequest) (*TokenResponse, *OAuthError) {
	if req.kind != segTenant || req.tenant.ID == ConsumersTenant {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", 90079, "Use a tenant-specific endpoint (the tenant id or domain) for the client credentials flow, not /%s.", req.seg)
	}
	if !req.tenant.Consented(req.app) {
		return nil, oauthErr(http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", req.app.ClientID, req.tenant.Domain)
	}
	if oerr := req.authenticateClient(false); oerr != nil {
		return nil, oerr
	}
	scope := strings.TrimSpace(req.form.Get("scope"))
	if scope == "" {
		return nil, errMissing("scope")
	}
	// MSAL adds the OpenID Connect scopes to every request; Entra ignores them here.
	var resource []string
	for _, f := range strings.Fields(scope) {
		if lower := strings.ToLower(f); lower != offlineAccess && !containsFold(oidcScopes, lower) {
			resource = append(resource, f)
		}
	}
	if len(resource) != 1 || !isDefaultScope(resource[0]) {
		return nil, oauthErr(http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)
	}
	tok, err := s.Sign(s.appAccessClaims(req.now, req.tenant.ID, req.app))
	if err != nil {
		return nil, errTransient()
	}
	return s.response(tok, resource), nil
}

// passwordGrant signs a work or school user in with their password (resource owner
// password credentials). Entra allows it only on a tenant or /organizations, never
// for personal accounts, and a confidential client must present its secret.
func (s *Service) passwordGrant(ctx context.Context, req *tokenRequest) (*TokenResponse, *OAuthError) {
	if req.kind == segCommon || req.kind == segConsumers || req.tenant.ID == ConsumersTenant {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", 9001023, "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.")
	}
	if oerr := req.authenticateClient(true); oerr != nil {
		return nil, oerr
	}
	username, password := req.form.Get("username"), req.form.Get("password")
	if username == "" {
		return nil, errMissing("username")
	}
	if password == "" {
		return nil, errMissing("password")
	}
	scopes, oerr := s.delegatedScopes(req.app, req.form.Get("scope"))
	if oerr != nil {
		return nil, oerr
	}
	tenant := req.tenant
	if req.kind == segOrganizations {
		// The user's domain names their tenant; otherwise the app's own.
		t, ok := s.Tenant(username[strings.LastIndex(username, "@")+1:])
		if !ok || t.ID == ConsumersTenant {
			t, _ = s.Tenant(req.app.TenantID)
		}
		tenant = t
	}
	user, err := s.userByUPN(ctx, tenant.ID, username)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoUser(username, "the "+tenant.Domain+" directory")
	}
	if err != nil {
		return nil, errTransient()
	}
	roles, oerr := s.checkSignIn(ctx, tenant.ID, user, password)
	if oerr != nil {
		return nil, oerr
	}
	if !tenant.Consented(req.app) {
		return nil, errNoConsent(req.app, "the tenant "+tenant.Domain)
	}
	return s.issueUserTokens(req, signIn{app: req.app, tid: tenant.ID, user: user, roles: roles, scopes: scopes, confidential: req.confidential})
}

// refreshTokenGrant redeems a refresh token. It is bound to the tenant and app it was
// issued for; the scopes asked for must be among those it was issued with.
func (s *Service) refreshTokenGrant(ctx context.Context, req *tokenRequest) (*TokenResponse, *OAuthError) {
	if oerr := req.authenticateClient(true); oerr != nil {
		return nil, oerr
	}
	rt := req.form.Get("refresh_token")
	if rt == "" {
		return nil, errMissing("refresh_token")
	}
	claims, err := s.parse(rt)
	if err != nil || claims["typ"] != "refresh" || claims["aud"] != refreshAudience {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the refresh token is not valid.")
	}
	if !strings.EqualFold(str(claims["appid"]), req.app.ClientID) {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", 70000, "Provided grant is invalid or malformed. The refresh token was issued to a different client.")
	}
	tid, oid := str(claims["tid"]), str(claims["oid"])
	if oerr := req.tenantAccepts(tid); oerr != nil {
		return nil, oerr
	}
	var issued scopeRequest
	if err := json.Unmarshal([]byte(str(claims["scopes"])), &issued); err != nil {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the refresh token is not valid.")
	}
	scopes := issued
	if asked := req.form.Get("scope"); asked != "" {
		var oerr *OAuthError
		if scopes, oerr = s.narrowScopes(req.app, issued, asked); oerr != nil {
			return nil, oerr
		}
	}
	scopes.Offline = true
	user, err := s.userByID(ctx, tid, oid)
	if err != nil {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", 50034, "The user account does not exist in the directory.")
	}
	if !user.enabled() {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", 50057, "The user account is disabled.")
	}
	if t, ok := s.Tenant(tid); tid != ConsumersTenant && (!ok || !t.Consented(req.app)) {
		return nil, errNoConsent(req.app, "the tenant "+tid)
	}
	// Roles are read again, so a refreshed token tells the roles of now.
	c, err := s.credential(ctx, tid, oid)
	if err != nil {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", 50034, "The user account does not exist in the directory.")
	}
	if issuedMS, _ := claims["iat_ms"].(float64); !c.ChangedAt.IsZero() && int64(issuedMS) < c.ChangedAt.UnixMilli() {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.")
	}
	return s.issueUserTokens(req, signIn{app: req.app, tid: tid, user: user, roles: c.Roles, scopes: scopes, confidential: req.confidential})
}

// narrowScopes parses the scopes a refresh asks for and checks they were granted.
func (s *Service) narrowScopes(app App, issued scopeRequest, asked string) (scopeRequest, *OAuthError) {
	sr, oerr := s.delegatedScopes(app, asked)
	if oerr != nil {
		return sr, oerr
	}
	for _, g := range sr.Graph {
		if !containsFold(issued.Graph, g) {
			return sr, oauthErr(http.StatusBadRequest, "invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '%s' for scope '%s'.", app.ClientID, g)
		}
	}
	return sr, nil
}

// tenantAccepts checks that a grant issued for tenant tid may be redeemed through the
// request's authority: its own tenant, or a multi-tenant authority that covers it.
func (req *tokenRequest) tenantAccepts(tid string) *OAuthError {
	ok := false
	switch req.kind {
	case segTenant:
		ok = strings.EqualFold(req.tenant.ID, tid)
	case segCommon:
		ok = true
	case segOrganizations:
		ok = tid != ConsumersTenant
	case segConsumers:
		ok = tid == ConsumersTenant
	}
	if !ok {
		return oauthErr(http.StatusBadRequest, "invalid_grant", 700005, "Provided grant is intended to use against other tenant, thus rejected.")
	}
	return nil
}
