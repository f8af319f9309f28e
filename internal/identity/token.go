package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/store"
)

// OAuthError is the error answer of the token endpoint, in Entra's JSON shape.
type OAuthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
	ErrorCodes  []int  `json:"error_codes"`
	Timestamp   string `json:"timestamp"`
	TraceID     string `json:"trace_id"`
	Correlation string `json:"correlation_id"`
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

func oauthErr(status int, code string, aadsts int, format string, args ...any) *OAuthError {
	return &OAuthError{
		Status: status, Code: code,
		Description: fmt.Sprintf("AADSTS%d: ", aadsts) + fmt.Sprintf(format, args...),
		ErrorCodes:  []int{aadsts},
	}
}

// TokenResponse is the token endpoint's success answer.
type TokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

const graphScopePrefix = "https://graph.microsoft.com/"

// Token answers POST /{tenant}/oauth2/v2.0/token. tenantSeg is the URL's tenant part:
// a tenant id, a domain, common, organizations or consumers. basicUser/basicPass come
// from an HTTP Basic authorization header, if any (client_secret_basic).
func (s *Service) Token(ctx context.Context, tenantSeg string, form url.Values, basicUser, basicPass string) (*TokenResponse, *OAuthError) {
	now := s.cfg.Clock.Now()
	seg := strings.ToLower(tenantSeg)
	switch seg {
	case "common", "organizations", "consumers":
	default:
		if _, ok := s.Tenant(seg); !ok {
			return nil, oauthErr(400, "invalid_request", 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenantSeg)
		}
	}
	clientID := form.Get("client_id")
	secret := form.Get("client_secret")
	if basicUser != "" {
		if clientID == "" {
			clientID = basicUser
		}
		if secret == "" {
			secret = basicPass
		}
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return nil, oauthErr(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	}
	switch grant {
	case "client_credentials", "password", "refresh_token":
	default:
		return nil, oauthErr(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", grant)
	}
	if clientID == "" {
		return nil, oauthErr(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	app, err := s.App(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oauthErr(400, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory.", clientID)
	}
	if err != nil {
		return nil, oauthErr(500, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
	}
	checkSecret := func(required bool) *OAuthError {
		if secret == "" {
			if required {
				return oauthErr(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
			}
			return nil
		}
		if !secretMatches(app.SecretSalt, app.SecretHash, secret) {
			return oauthErr(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
		}
		return nil
	}
	switch grant {
	case "client_credentials":
		if seg == "common" || seg == "organizations" || seg == "consumers" {
			return nil, oauthErr(400, "invalid_request", 90079, "Use a tenant-specific endpoint (the tenant id or domain) for the client credentials flow, not /%s.", seg)
		}
		if t, _ := s.Tenant(seg); t.ID != app.TenantID {
			return nil, oauthErr(400, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory '%s'.", clientID, tenantSeg)
		}
		if e := checkSecret(true); e != nil {
			return nil, e
		}
		scope := strings.TrimSpace(form.Get("scope"))
		if scope == "" {
			return nil, oauthErr(400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
		}
		if !isDefaultScope(scope) {
			return nil, oauthErr(400, "invalid_scope", 1002012, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)
		}
		roles := slices.Clone(app.ApplicationPermissions)
		claims := s.baseClaims(now, app.TenantID, app)
		claims["oid"] = app.ServicePrincipalID
		claims["sub"] = app.ServicePrincipalID
		claims["idtyp"] = "app"
		claims["roles"] = roles
		tok, err := s.Sign(claims)
		if err != nil {
			return nil, oauthErr(500, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
		}
		return s.response(tok, "", graphScopePrefix+".default"), nil
	case "password":
		if e := checkSecret(false); e != nil {
			return nil, e
		}
		username, password := form.Get("username"), form.Get("password")
		if username == "" || password == "" {
			return nil, oauthErr(400, "invalid_request", 900144, "The request body must contain the following parameters: 'username' and 'password'.")
		}
		scopes, offline, oerr := s.requestedScopes(app, form.Get("scope"))
		if oerr != nil {
			return nil, oerr
		}
		tid, user, err := s.findUser(ctx, seg, app, username)
		if err != nil {
			return nil, oauthErr(400, "invalid_grant", 50126, "Error validating credentials due to invalid username or password.")
		}
		roles, ok := s.checkPassword(ctx, tid, user.ID, password)
		if !ok {
			return nil, oauthErr(400, "invalid_grant", 50126, "Error validating credentials due to invalid username or password.")
		}
		if user.AccountEnabled != nil && !*user.AccountEnabled {
			return nil, oauthErr(400, "invalid_grant", 50057, "The user account is disabled.")
		}
		return s.delegatedResponse(now, app, tid, user, roles, scopes, offline)
	default: // refresh_token
		if e := checkSecret(false); e != nil {
			return nil, e
		}
		rt := form.Get("refresh_token")
		if rt == "" {
			return nil, oauthErr(400, "invalid_request", 900144, "The request body must contain the following parameter: 'refresh_token'.")
		}
		claims, err := s.parse(rt)
		if err != nil || claims["typ"] != "refresh" {
			return nil, oauthErr(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the refresh token is not valid.")
		}
		if !strings.EqualFold(str(claims["appid"]), app.ClientID) {
			return nil, oauthErr(400, "invalid_grant", 70000, "Provided grant is invalid or malformed: the refresh token was issued to another client.")
		}
		tid, oid := str(claims["tid"]), str(claims["oid"])
		var user storedUser
		err = s.st.View(ctx, func(tx store.Tx) error {
			o, err := tx.GetObject(ctx, tid, KindUser, oid)
			if err != nil {
				return err
			}
			if o.Deleted {
				return store.ErrNotFound
			}
			return json.Unmarshal(o.Data, &user)
		})
		if err != nil {
			return nil, oauthErr(400, "invalid_grant", 50034, "The user account does not exist in the directory.")
		}
		scopes := strings.Fields(str(claims["scp"]))
		if req := form.Get("scope"); req != "" {
			asked, _, oerr := s.requestedScopes(app, req)
			if oerr != nil {
				return nil, oerr
			}
			for _, a := range asked {
				if !slices.ContainsFunc(scopes, func(s string) bool { return strings.EqualFold(s, a) }) {
					return nil, oauthErr(400, "invalid_grant", 65001, "The user or administrator has not consented to use the application for scope '%s'.", a)
				}
			}
			scopes = asked
		}
		// Roles are read again, so a refreshed token tells the roles of now.
		c, err := s.credential(ctx, tid, oid)
		if err != nil {
			return nil, oauthErr(400, "invalid_grant", 50034, "The user account does not exist in the directory.")
		}
		return s.delegatedResponse(now, app, tid, user, c.Roles, scopes, true)
	}
}

func isDefaultScope(scope string) bool {
	return strings.EqualFold(scope, graphScopePrefix+".default") || strings.EqualFold(scope, GraphAppID+"/.default")
}

// requestedScopes turns a space-separated scope list into Graph permission names,
// checking them against the app's consented delegated permissions.
func (s *Service) requestedScopes(app App, scope string) (scopes []string, offline bool, oerr *OAuthError) {
	fields := strings.Fields(scope)
	if len(fields) == 0 {
		return nil, false, oauthErr(400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
	}
	for _, f := range fields {
		switch strings.ToLower(f) {
		case "openid", "profile", "email":
			continue
		case "offline_access":
			offline = true
			continue
		}
		if isDefaultScope(f) {
			scopes = append(scopes, app.DelegatedPermissions...)
			continue
		}
		name := f
		if strings.HasPrefix(strings.ToLower(f), graphScopePrefix) {
			name = f[len(graphScopePrefix):]
		} else if strings.Contains(f, "/") {
			return nil, false, oauthErr(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid: graphhook only issues tokens for Microsoft Graph.", f)
		}
		if !IsKnownPermission(name) {
			return nil, false, oauthErr(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", f)
		}
		if !slices.ContainsFunc(app.DelegatedPermissions, func(p string) bool { return strings.EqualFold(p, name) }) {
			return nil, false, oauthErr(400, "invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource (missing consent for %s).", app.ClientID, name)
		}
		scopes = append(scopes, name)
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	if len(scopes) == 0 {
		return nil, false, oauthErr(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid: no Microsoft Graph permission was requested.")
	}
	return scopes, offline, nil
}

type storedUser struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
	AccountEnabled    *bool  `json:"accountEnabled"`
}

// findUser resolves a sign-in name. Work or school users sign in through their
// tenant (or common/organizations); personal accounts through consumers or common.
func (s *Service) findUser(ctx context.Context, seg string, app App, username string) (string, storedUser, error) {
	var candidates []string
	switch seg {
	case "consumers":
		candidates = []string{ConsumersTenant}
	case "common":
		candidates = []string{app.TenantID, ConsumersTenant}
		domain := username[strings.LastIndex(username, "@")+1:]
		if t, ok := s.Tenant(domain); ok && t.ID != app.TenantID {
			candidates = append([]string{t.ID}, candidates...)
		}
	case "organizations":
		candidates = []string{app.TenantID}
		domain := username[strings.LastIndex(username, "@")+1:]
		if t, ok := s.Tenant(domain); ok && t.ID != app.TenantID {
			candidates = append([]string{t.ID}, candidates...)
		}
	default:
		t, _ := s.Tenant(seg)
		candidates = []string{t.ID}
	}
	var found storedUser
	var tid string
	err := s.st.View(ctx, func(tx store.Tx) error {
		for _, c := range candidates {
			o, err := tx.GetObjectByAlt(ctx, c, KindUser, strings.ToLower(username))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			tid = c
			return json.Unmarshal(o.Data, &found)
		}
		return store.ErrNotFound
	})
	return tid, found, err
}

// checkPassword verifies a user's password and returns the user's directory roles.
func (s *Service) checkPassword(ctx context.Context, tid, uid, password string) ([]string, bool) {
	c, err := s.credential(ctx, tid, uid)
	return c.Roles, err == nil && secretMatches(c.Salt, c.Hash, password)
}

func (s *Service) credential(ctx context.Context, tid, uid string) (credential, error) {
	var c credential
	err := s.st.View(ctx, func(tx store.Tx) error {
		o, err := tx.GetObject(ctx, tid, KindCredential, uid)
		if err != nil {
			return err
		}
		return json.Unmarshal(o.Data, &c)
	})
	return c, err
}

func (s *Service) baseClaims(now time.Time, tid string, app App) jwt.MapClaims {
	return jwt.MapClaims{
		"aud":             GraphAudience,
		"iss":             s.Issuer(tid),
		"iat":             now.Unix(),
		"nbf":             now.Unix(),
		"exp":             now.Add(s.cfg.TokenLifetime).Unix(),
		"tid":             tid,
		"appid":           app.ClientID,
		"azp":             app.ClientID,
		"app_displayname": app.DisplayName,
		"apptid":          app.TenantID,
		"ver":             "1.0",
		"uti":             uuid.NewString(),
	}
}

func (s *Service) delegatedResponse(now time.Time, app App, tid string, user storedUser, roles, scopes []string, offline bool) (*TokenResponse, *OAuthError) {
	claims := s.baseClaims(now, tid, app)
	if len(roles) > 0 {
		claims["wids"] = roles
	}
	claims["oid"] = user.ID
	claims["sub"] = user.ID
	claims["idtyp"] = "user"
	claims["scp"] = strings.Join(scopes, " ")
	claims["upn"] = user.UserPrincipalName
	claims["preferred_username"] = user.UserPrincipalName
	claims["unique_name"] = user.UserPrincipalName
	claims["name"] = user.DisplayName
	if tid == ConsumersTenant {
		claims["acct"] = 1 // Entra's marker for a personal account
	} else {
		claims["acct"] = 0
	}
	tok, err := s.Sign(claims)
	if err != nil {
		return nil, oauthErr(500, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
	}
	scopeText := make([]string, len(scopes))
	for i, sc := range scopes {
		scopeText[i] = graphScopePrefix + sc
	}
	refresh := ""
	if offline {
		rc := jwt.MapClaims{
			"typ": "refresh", "aud": s.cfg.PublicURL, "iss": s.Issuer(tid), "tid": tid, "oid": user.ID,
			"appid": app.ClientID, "scp": strings.Join(scopes, " "),
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(s.cfg.RefreshLifetime).Unix(), "uti": uuid.NewString(),
		}
		refresh, err = s.Sign(rc)
		if err != nil {
			return nil, oauthErr(500, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
		}
		scopeText = append(scopeText, "offline_access")
	}
	return s.response(tok, refresh, strings.Join(scopeText, " ")), nil
}

func (s *Service) response(access, refresh, scope string) *TokenResponse {
	secs := int(s.cfg.TokenLifetime / time.Second)
	return &TokenResponse{TokenType: "Bearer", Scope: scope, ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: access, RefreshToken: refresh}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// parse verifies a token's signature and time claims.
func (s *Service) parse(raw string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := s.publicKey(kid); ok {
			return k, nil
		}
		return nil, errors.New("unknown signing key")
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(s.cfg.Clock.Now), jwt.WithLeeway(5*time.Minute))
	return claims, err
}

// AuthError says why a bearer token was refused; its Message is shown to the client.
type AuthError struct{ Message string }

func (e *AuthError) Error() string { return e.Message }

// Authenticate validates an Authorization header value and returns the caller.
func (s *Service) Authenticate(ctx context.Context, header string) (*Principal, error) {
	if header == "" {
		return nil, &AuthError{"Access token is empty."}
	}
	scheme, raw, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return nil, &AuthError{"Access token is empty."}
	}
	raw = strings.TrimSpace(raw)
	claims, err := s.parse(raw)
	if err != nil {
		switch {
		case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet):
			return nil, &AuthError{"Lifetime validation failed, the token is expired."}
		case errors.Is(err, jwt.ErrTokenMalformed):
			return nil, &AuthError{"IDX14100: JWT is not well formed."}
		case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
			return nil, &AuthError{"Invalid signature."}
		default:
			return nil, &AuthError{"Access token validation failure. Invalid audience or signature."}
		}
	}
	if claims["typ"] == "refresh" {
		return nil, &AuthError{"Access token validation failure: a refresh token is not an access token."}
	}
	aud := str(claims["aud"])
	if aud != GraphAudience && aud != GraphAppID && aud != GraphAudience+"/" {
		return nil, &AuthError{"Access token validation failure. Invalid audience."}
	}
	tid := str(claims["tid"])
	if _, ok := s.Tenant(tid); !ok {
		return nil, &AuthError{"Access token validation failure: unknown tenant."}
	}
	if str(claims["iss"]) != s.Issuer(tid) {
		return nil, &AuthError{"Access token validation failure. Invalid issuer."}
	}
	p := &Principal{TenantID: tid, AppID: str(claims["appid"]), AppTenantID: str(claims["apptid"])}
	p.ServicePrincipalID = ServicePrincipalID(p.AppTenantID, p.AppID)
	switch str(claims["idtyp"]) {
	case "app":
		p.Type = Application
		if roles, ok := claims["roles"].([]any); ok {
			for _, r := range roles {
				p.Permissions = append(p.Permissions, str(r))
			}
		}
	case "user":
		p.Type = DelegatedWork
		if tid == ConsumersTenant {
			p.Type = DelegatedPersonal
		}
		p.UserID = str(claims["oid"])
		if wids, ok := claims["wids"].([]any); ok {
			for _, w := range wids {
				p.RoleTemplateIDs = append(p.RoleTemplateIDs, str(w))
			}
		}
		p.UPN = str(claims["upn"])
		p.Permissions = strings.Fields(str(claims["scp"]))
	default:
		return nil, &AuthError{"Access token validation failure: unknown token type."}
	}
	return p, nil
}
