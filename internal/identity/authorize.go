package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// KindAuthCode is the store kind of issued authorization codes (tenant "", id the
// code's hash). A code is kept after use, marked redeemed, so a second redemption gets
// Entra's "already redeemed" error instead of "unknown".
const KindAuthCode = "authCode"

// authCodeLifetime is how long an authorization code may wait to be redeemed (Entra's
// codes last about ten minutes).
const authCodeLifetime = 10 * time.Minute

// authCode is a stored authorization code: bound to its client, redirect URI, PKCE
// challenge, tenant and user.
type authCode struct {
	ClientID    string       `json:"clientId"`
	RedirectURI string       `json:"redirectUri"`
	TenantID    string       `json:"tid"`
	UserID      string       `json:"oid"`
	Scopes      scopeRequest `json:"scopes"`
	Nonce       string       `json:"nonce,omitempty"`
	Challenge   string       `json:"challenge,omitempty"`
	Expires     time.Time    `json:"expires"`
	Redeemed    bool         `json:"redeemed,omitempty"`
}

// authorizeRequest is a checked authorization request.
type authorizeRequest struct {
	kind        tenantSegment
	tenant      Tenant
	app         App
	redirectURI string
	scopes      scopeRequest
	params      url.Values // the request's parameters, repeated by the sign-in form
}

// authorizeParams are the parameters of an authorization request the sign-in form
// carries from the page to its post.
var authorizeParams = []string{"client_id", "response_type", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "response_mode", "prompt", "login_hint", "client_info"}

// serveAuthorize answers /{tenant}/oauth2/v2.0/authorize: GET shows the sign-in page,
// POST signs the user in and sends the browser back to the app with a code.
func (s *Service) serveAuthorize(w http.ResponseWriter, r *http.Request, seg string) {
	var params url.Values
	switch r.Method {
	case http.MethodGet:
		params = r.URL.Query()
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			errorPage(w, http.StatusBadRequest, oauthErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must be a form: %v", err))
			return
		}
		params = r.PostForm
	default:
		w.Header().Set("Allow", "GET, POST")
		errorPage(w, http.StatusMethodNotAllowed, oauthErr(http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts GET and POST requests."))
		return
	}
	ar, oerr, toPage := s.checkAuthorize(r.Context(), seg, params)
	if oerr != nil {
		if toPage {
			errorPage(w, oerr.Status, oerr)
		} else {
			redirectError(w, r, params, oerr)
		}
		return
	}
	tenants := s.signInTenants(ar.kind, ar.tenant)
	accounts, err := s.accounts(r.Context(), tenants, ar.app)
	if err != nil {
		errorPage(w, http.StatusInternalServerError, errTransient())
		return
	}
	page := pageData{Title: "Sign in", AppName: ar.app.DisplayName, Action: r.URL.Path, Hidden: map[string]string{}, Accounts: accounts, Username: params.Get("login_hint")}
	for _, k := range authorizeParams {
		if v := params.Get(k); v != "" {
			page.Hidden[k] = v
		}
	}
	if r.Method == http.MethodGet {
		if strings.EqualFold(params.Get("prompt"), "none") {
			// graphhook keeps no sign-in session, so a silent request cannot succeed.
			redirectError(w, r, params, oauthErr(http.StatusBadRequest, "login_required", 50058, "A silent sign-in request was sent but no user is signed in."))
			return
		}
		page.CSRF = csrfToken(w, r)
		renderPage(w, http.StatusOK, page)
		return
	}
	if !checkCSRF(r) {
		errorPage(w, http.StatusBadRequest, oauthErr(http.StatusBadRequest, "invalid_request", 90023, "The sign-in form expired or was posted from another site. Start the sign-in again."))
		return
	}
	page.CSRF = csrfToken(w, r)
	page.Username = params.Get("username")
	tenant, user, oerr := s.signInUser(r.Context(), tenants, ar.app, params.Get("username"), params.Get("password"))
	if oerr != nil {
		page.Error = pageMessage(oerr)
		renderPage(w, http.StatusOK, page)
		return
	}
	code := randomToken(32)
	data, _ := json.Marshal(authCode{
		ClientID: ar.app.ClientID, RedirectURI: ar.redirectURI, TenantID: tenant.ID, UserID: user.ID,
		Scopes: ar.scopes, Nonce: params.Get("nonce"), Challenge: params.Get("code_challenge"),
		Expires: s.cfg.Clock.Now().Add(authCodeLifetime),
	})
	err = s.st.Update(r.Context(), func(tx store.Tx) error {
		return tx.InsertObject(r.Context(), &store.Object{Kind: KindAuthCode, ID: handleID(code), Data: data, Created: s.cfg.Clock.Now()})
	})
	if err != nil {
		errorPage(w, http.StatusInternalServerError, errTransient())
		return
	}
	result := url.Values{"code": {code}}
	if params.Get("client_info") == "1" {
		// MSAL for browsers names the account from the redirect's client_info.
		result.Set("client_info", clientInfo(user.ID, tenant.ID))
	}
	redirectResult(w, params, ar.redirectURI, result)
}

// pageMessage is what the sign-in page says about a failed sign-in.
func pageMessage(e *OAuthError) string {
	if len(e.ErrorCodes) > 0 && (e.ErrorCodes[0] == 50126 || e.ErrorCodes[0] == 50034) {
		return "Your account or password is incorrect. " + e.Description
	}
	return e.Description
}

// checkAuthorize checks an authorization request. toPage says the error must be shown
// on graphhook's page rather than returned to the redirect URI (it is not trusted yet).
func (s *Service) checkAuthorize(ctx context.Context, seg string, params url.Values) (ar *authorizeRequest, oerr *OAuthError, toPage bool) {
	ar = &authorizeRequest{kind: classify(seg), params: params}
	if ar.kind == segTenant {
		t, ok := s.Tenant(seg)
		if !ok {
			return nil, errUnknownTenant(seg), true
		}
		ar.tenant = t
	}
	clientID := params.Get("client_id")
	if clientID == "" {
		return nil, errMissing("client_id"), true
	}
	app, oerr := s.client(ctx, clientID)
	if oerr != nil {
		return nil, oerr, true
	}
	ar.app = app
	ar.redirectURI = params.Get("redirect_uri")
	if ar.redirectURI == "" && len(app.RedirectURIs) == 1 {
		ar.redirectURI = app.RedirectURIs[0]
	}
	if !redirectAllowed(app, ar.redirectURI) {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", 50011, "The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the fixture (redirectUris).", ar.redirectURI, app.ClientID), true
	}
	if rt := params.Get("response_type"); rt != "code" {
		return nil, oauthErr(http.StatusBadRequest, "unsupported_response_type", 700054, "response_type '%s' is not enabled for the application; graphhook supports 'code'.", rt), false
	}
	if params.Get("code_challenge") != "" && params.Get("code_challenge_method") != "S256" {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", 501491, "Invalid size of Code_Challenge parameter or code_challenge_method '%s': graphhook accepts S256.", params.Get("code_challenge_method")), false
	}
	switch params.Get("response_mode") {
	case "", "query", "form_post", "fragment":
	default:
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", 900144, "The response_mode '%s' is not supported.", params.Get("response_mode")), false
	}
	if ar.scopes, oerr = s.delegatedScopes(app, params.Get("scope")); oerr != nil {
		if oerr.Code == "invalid_grant" {
			oerr.Code = "consent_required"
		}
		return nil, oerr, false
	}
	return ar, nil, false
}

// redirectAllowed reports whether uri is one of the app's redirect URIs. As Entra
// does for loopback addresses, the port of an http://localhost or http://127.0.0.1
// URI is not compared, so native apps may listen on any free port.
func redirectAllowed(app App, uri string) bool {
	if uri == "" {
		return false
	}
	for _, reg := range app.RedirectURIs {
		if reg == uri {
			return true
		}
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || (u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1") {
		return false
	}
	for _, reg := range app.RedirectURIs {
		ru, err := url.Parse(reg)
		if err == nil && ru.Scheme == "http" && ru.Hostname() == u.Hostname() && strings.TrimSuffix(ru.Path, "/") == strings.TrimSuffix(u.Path, "/") {
			return true
		}
	}
	return false
}

// redirectError returns an error of a checked authorization request to the app.
func redirectError(w http.ResponseWriter, r *http.Request, params url.Values, e *OAuthError) {
	redirectResult(w, params, params.Get("redirect_uri"), url.Values{"error": {e.Code}, "error_description": {e.Description}})
}

// redirectResult sends the browser back to the app with the result, in the requested
// response mode.
func redirectResult(w http.ResponseWriter, params url.Values, redirectURI string, result url.Values) {
	if st := params.Get("state"); st != "" {
		result.Set("state", st)
	}
	switch params.Get("response_mode") {
	case "form_post":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; form-action *")
		formPostPage.Execute(w, map[string]any{"Action": redirectURI, "Fields": result})
	case "fragment":
		http.Redirect(w, &http.Request{Method: http.MethodGet}, redirectURI+"#"+result.Encode(), http.StatusFound)
	default:
		sep := "?"
		if strings.Contains(redirectURI, "?") {
			sep = "&"
		}
		w.Header().Set("Location", redirectURI+sep+result.Encode())
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusFound)
	}
}

var formPostPage = template.Must(template.New("formpost").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Working...</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="{{.Action}}">{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">{{end}}
<noscript><button type="submit">Continue</button></noscript></form></body></html>
`))

// authorizationCodeGrant redeems a code from the sign-in page: once, within its
// lifetime, by the client it was issued to, with the same redirect URI and the PKCE
// verifier of its challenge.
func (s *Service) authorizationCodeGrant(ctx context.Context, req *tokenRequest) (*TokenResponse, *OAuthError) {
	if oerr := req.authenticateClient(true); oerr != nil {
		return nil, oerr
	}
	code := req.form.Get("code")
	if code == "" {
		return nil, errMissing("code")
	}
	var ac authCode
	var oerr *OAuthError
	err := s.st.Update(ctx, func(tx store.Tx) error {
		// Update may run fn again: each run starts from nothing.
		ac, oerr = authCode{}, nil
		o, err := tx.GetObject(ctx, "", KindAuthCode, handleID(code))
		if errors.Is(err, store.ErrNotFound) {
			oerr = oauthErr(http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the authorization code is not valid.")
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(o.Data, &ac); err != nil {
			return err
		}
		oerr = req.checkCode(ac)
		if oerr != nil {
			return nil
		}
		ac.Redeemed = true
		o.Data, _ = json.Marshal(ac)
		return tx.UpdateObject(ctx, &o)
	})
	if err != nil {
		return nil, errTransient()
	}
	if oerr != nil {
		return nil, oerr
	}
	user, err := s.userByID(ctx, ac.TenantID, ac.UserID)
	if err != nil {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", 50034, "The user account does not exist in the directory.")
	}
	c, err := s.credential(ctx, ac.TenantID, ac.UserID)
	if err != nil {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", 50034, "The user account does not exist in the directory.")
	}
	return s.issueUserTokens(req, signIn{app: req.app, tid: ac.TenantID, user: user, roles: c.Roles, scopes: withOIDC(ac.Scopes, req.form.Get("scope")), nonce: ac.Nonce, confidential: req.confidential})
}

// withOIDC adds the OpenID Connect scopes and offline_access of a redemption request
// to those of the code: MSAL for Go asks for them only when it redeems the code.
func withOIDC(sr scopeRequest, scope string) scopeRequest {
	for _, f := range strings.Fields(strings.ToLower(scope)) {
		switch {
		case f == offlineAccess:
			sr.Offline = true
		case containsFold(oidcScopes, f) && !containsFold(sr.OIDC, f):
			sr.OIDC = append(sr.OIDC, f)
		}
	}
	return sr
}

// checkCode checks a stored code against the request redeeming it.
func (req *tokenRequest) checkCode(ac authCode) *OAuthError {
	switch {
	case ac.Redeemed:
		return oauthErr(http.StatusBadRequest, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case !req.now.Before(ac.Expires):
		return oauthErr(http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case !strings.EqualFold(ac.ClientID, req.app.ClientID):
		return oauthErr(http.StatusBadRequest, "invalid_grant", 70000, "Provided grant is invalid or malformed. The authorization code was issued to a different client.")
	case req.form.Get("redirect_uri") != ac.RedirectURI:
		return oauthErr(http.StatusBadRequest, "invalid_grant", 70000, "Provided grant is invalid or malformed. The redirect_uri does not match the one the authorization code was issued for.")
	}
	if oerr := req.tenantAccepts(ac.TenantID); oerr != nil {
		return oerr
	}
	if ac.Challenge != "" {
		verifier := req.form.Get("code_verifier")
		sum := sha256.Sum256([]byte(verifier))
		if verifier == "" || subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(ac.Challenge)) != 1 {
			return oauthErr(http.StatusBadRequest, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		}
	} else if !req.confidential {
		// A public client's code is only as safe as its PKCE binding.
		return oauthErr(http.StatusBadRequest, "invalid_request", 9002325, "Proof Key for Code Exchange is required for cross-origin authorization code redemption.")
	}
	return nil
}
