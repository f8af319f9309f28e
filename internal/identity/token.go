package identity

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// TokenResponse is the token endpoint's success answer, in Entra's v2 shape.
type TokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

// Grant types the token endpoint knows. The device code grant has two names: the
// RFC's, and the short one MSAL for Go sends.
const (
	grantClientCredentials = "client_credentials"
	grantPassword          = "password"
	grantRefreshToken      = "refresh_token"
	grantAuthorizationCode = "authorization_code"
	grantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	grantDeviceCodeShort   = "device_code"
)

// tokenRequest is one call of the token endpoint, with its client found but not yet
// authenticated (each grant decides whether a public client may call it).
type tokenRequest struct {
	base   string        // scheme and host the client reached graphhook by
	seg    string        // the URL's tenant part, as written
	kind   tenantSegment // what seg is
	tenant Tenant        // the tenant seg names, when kind is segTenant
	form   url.Values
	app    App
	secret string
	now    time.Time
	// confidential is set by authenticateClient when the client proved its secret.
	confidential bool
}

// readPostForm checks that an endpoint that takes only a POSTed form got one, within
// 64 KiB, and parses it; otherwise it writes Entra's error and returns false.
func readPostForm(w http.ResponseWriter, r *http.Request, now time.Time) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeOAuthError(w, r, now, oauthErr(http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method))
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, r, now, oauthErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must be application/x-www-form-urlencoded: %v", err))
		return false
	}
	return true
}

// serveToken answers POST /{tenant}/oauth2/v2.0/token (and the v1 path).
func (s *Service) serveToken(w http.ResponseWriter, r *http.Request, seg string) {
	now := s.cfg.Clock.Now()
	if !readPostForm(w, r, now) {
		return
	}
	user, pass, _ := r.BasicAuth()
	resp, oerr := s.Token(r.Context(), baseURL(r), seg, r.PostForm, user, pass)
	if oerr != nil {
		writeOAuthError(w, r, now, oerr)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// Token runs one token request. base is the scheme and host the client used (the
// issuer of id tokens follows it); seg is the URL's tenant part: a tenant id, a
// domain, common, organizations or consumers. basicUser/basicPass come from an HTTP
// Basic authorization header, if any (client_secret_basic).
func (s *Service) Token(ctx context.Context, base, seg string, form url.Values, basicUser, basicPass string) (*TokenResponse, *OAuthError) {
	req := &tokenRequest{base: base, seg: seg, kind: classify(seg), form: form, now: s.cfg.Clock.Now()}
	if req.kind == segTenant {
		t, ok := s.Tenant(seg)
		if !ok {
			return nil, errUnknownTenant(seg)
		}
		req.tenant = t
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return nil, errMissing("grant_type")
	}
	clientID, secret := form.Get("client_id"), form.Get("client_secret")
	if basicUser != "" {
		// client_secret_basic: the header's parts are form-encoded (RFC 6749 §2.3.1).
		u, _ := url.QueryUnescape(basicUser)
		p, _ := url.QueryUnescape(basicPass)
		clientID = cmp.Or(clientID, u)
		secret = cmp.Or(secret, p)
	}
	req.secret = secret
	run, ok := map[string]func(context.Context, *tokenRequest) (*TokenResponse, *OAuthError){
		grantClientCredentials: s.clientCredentialsGrant,
		grantPassword:          s.passwordGrant,
		grantRefreshToken:      s.refreshTokenGrant,
		grantAuthorizationCode: s.authorizationCodeGrant,
		grantDeviceCode:        s.deviceCodeGrant,
		grantDeviceCodeShort:   s.deviceCodeGrant,
	}[grant]
	if !ok {
		return nil, oauthErr(http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", grant)
	}
	if clientID == "" {
		return nil, errMissing("client_id")
	}
	app, oerr := s.client(ctx, clientID)
	if oerr != nil {
		return nil, oerr
	}
	req.app = app
	return run(ctx, req)
}

func errMissing(param string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: '%s'.", param)
}

// client finds an app registration by client id, with Entra's error when there is none.
func (s *Service) client(ctx context.Context, clientID string) (App, *OAuthError) {
	app, err := s.App(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return App{}, oauthErr(http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", clientID)
	}
	if err != nil {
		return App{}, errTransient()
	}
	return app, nil
}

// authenticateClient checks the client's secret. A confidential client must present
// its secret; a public client (publicClient in the fixture) may call the grants that
// allow public clients without one, and must not present one it does not have.
func (req *tokenRequest) authenticateClient(allowPublic bool) *OAuthError {
	app := req.app
	if req.secret != "" {
		if !app.HasSecret() {
			return oauthErr(http.StatusUnauthorized, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
		}
		if !secretMatches(app.SecretSalt, app.SecretHash, req.secret) {
			return oauthErr(http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.ClientID)
		}
		req.confidential = true
		return nil
	}
	if allowPublic && app.PublicClient {
		return nil
	}
	return oauthErr(http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

// response builds a success answer around an access token.
func (s *Service) response(access string, scope []string) *TokenResponse {
	secs := int(s.cfg.TokenLifetime / time.Second)
	return &TokenResponse{TokenType: "Bearer", Scope: strings.Join(scope, " "), ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: access}
}

// The scopes of OpenID Connect: they ask for an id token, claims in it, and a
// refresh token, and are accepted next to a resource's scopes in every grant.
var oidcScopes = []string{"openid", "profile", "email"}

const (
	graphScopePrefix = "https://graph.microsoft.com/"
	offlineAccess    = "offline_access"
)

func isDefaultScope(scope string) bool {
	return strings.EqualFold(scope, graphScopePrefix+".default") || strings.EqualFold(scope, GraphAppID+"/.default")
}

// scopeRequest is a parsed scope parameter of a user flow.
type scopeRequest struct {
	// Graph are the Graph permissions granted, canonical names, sorted.
	Graph []string `json:"graph"`
	// Echo are the Graph scopes as the response's scope names them: each as the
	// client wrote it, and the .default scope itself next to what it expanded to, so
	// that MSAL (which counts a requested scope missing from the answer as declined)
	// accepts the answer.
	Echo []string `json:"echo"`
	// OIDC are the OpenID Connect scopes asked for.
	OIDC    []string `json:"oidc,omitempty"`
	Offline bool     `json:"offline,omitempty"`
}

// has reports whether an OpenID Connect scope was asked for.
func (sr scopeRequest) has(oidc string) bool { return slices.Contains(sr.OIDC, oidc) }

// text is the response's scope value.
func (sr scopeRequest) text(refresh bool) []string {
	out := slices.Clone(sr.Echo)
	out = append(out, sr.OIDC...)
	if refresh {
		out = append(out, offlineAccess)
	}
	return out
}

// delegatedScopes parses the scope parameter of a user flow: Graph permissions (full
// or short names, or .default for every consented one) checked against the app's
// consented delegated permissions, and the OpenID Connect scopes.
func (s *Service) delegatedScopes(app App, scope string) (scopeRequest, *OAuthError) {
	var sr scopeRequest
	fields := strings.Fields(scope)
	if len(fields) == 0 {
		return sr, errMissing("scope")
	}
	for _, f := range fields {
		lower := strings.ToLower(f)
		switch {
		case slices.Contains(oidcScopes, lower):
			if !slices.Contains(sr.OIDC, lower) {
				sr.OIDC = append(sr.OIDC, lower)
			}
			continue
		case lower == offlineAccess:
			sr.Offline = true
			continue
		case isDefaultScope(f):
			sr.Graph = append(sr.Graph, app.DelegatedPermissions...)
			for _, p := range app.DelegatedPermissions {
				sr.Echo = append(sr.Echo, graphScopePrefix+p)
			}
			sr.Echo = append(sr.Echo, f)
			continue
		}
		name, full := f, false
		if strings.HasPrefix(lower, graphScopePrefix) {
			name, full = f[len(graphScopePrefix):], true
		} else if strings.HasPrefix(lower, GraphAppID+"/") {
			name, full = f[len(GraphAppID)+1:], true
		} else if strings.Contains(f, "/") {
			return sr, oauthErr(http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope '%s' is not valid: graphhook issues tokens for Microsoft Graph only.", f)
		}
		p, ok := Permissions().Lookup(name)
		if !ok || !p.Delegated() {
			return sr, oauthErr(http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope '%s' does not exist.", f)
		}
		if !containsFold(app.DelegatedPermissions, p.Name) {
			return sr, errNoConsent(app, p.Name)
		}
		sr.Graph = append(sr.Graph, p.Name)
		if full {
			sr.Echo = append(sr.Echo, graphScopePrefix+p.Name)
		} else {
			sr.Echo = append(sr.Echo, p.Name)
		}
	}
	slices.Sort(sr.Graph)
	sr.Graph = slices.Compact(sr.Graph)
	sr.Echo = compactFold(sr.Echo)
	if len(sr.Graph) == 0 {
		return sr, oauthErr(http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid: no Microsoft Graph permission was requested.")
	}
	return sr, nil
}

func errNoConsent(app App, what string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource (missing consent for %s).", app.ClientID, app.DisplayName, what)
}

// compactFold drops later duplicates, ignoring case, keeping the order.
func compactFold(in []string) []string {
	var out []string
	for _, v := range in {
		if !containsFold(out, v) {
			out = append(out, v)
		}
	}
	return out
}
