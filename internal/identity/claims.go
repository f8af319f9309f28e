package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/store"
)

// storedUser is what identity reads of a directory user or personal account.
type storedUser struct {
	ID                string  `json:"id"`
	UserPrincipalName string  `json:"userPrincipalName"`
	DisplayName       string  `json:"displayName"`
	GivenName         *string `json:"givenName"`
	Surname           *string `json:"surname"`
	Mail              *string `json:"mail"`
	AccountEnabled    *bool   `json:"accountEnabled"`
}

func (u storedUser) enabled() bool { return u.AccountEnabled == nil || *u.AccountEnabled }

func (s *Service) userByUPN(ctx context.Context, tid, upn string) (storedUser, error) {
	var u storedUser
	err := s.st.View(ctx, func(tx store.Tx) error {
		o, err := tx.GetObjectByAlt(ctx, tid, KindUser, strings.ToLower(upn))
		if err != nil {
			return err
		}
		return json.Unmarshal(o.Data, &u)
	})
	return u, err
}

func (s *Service) userByID(ctx context.Context, tid, oid string) (storedUser, error) {
	var u storedUser
	err := s.st.View(ctx, func(tx store.Tx) error {
		o, err := tx.GetObject(ctx, tid, KindUser, oid)
		if err != nil {
			return err
		}
		if o.Deleted {
			return store.ErrNotFound
		}
		return json.Unmarshal(o.Data, &u)
	})
	return u, err
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

// errBadCredentials is Entra's answer to a wrong password (it does not say which part
// was wrong).
func errBadCredentials() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", 50126, "Error validating credentials due to invalid username or password.")
}

// errNoUser is Entra's answer for an unknown sign-in name; where names the
// directory ("the contoso.onmicrosoft.com directory").
func errNoUser(upn, where string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", 50034, "The user account %s does not exist in %s. To sign into this application, the account must be added to the directory.", upn, where)
}

// checkSignIn verifies a user's password and that the account may sign in; it
// returns the user's directory roles.
func (s *Service) checkSignIn(ctx context.Context, tid string, u storedUser, password string) ([]string, *OAuthError) {
	c, err := s.credential(ctx, tid, u.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, errTransient()
	}
	if err != nil || !secretMatches(c.Salt, c.Hash, password) {
		return nil, errBadCredentials()
	}
	if !u.enabled() {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", 50057, "The user account is disabled.")
	}
	return c.Roles, nil
}

// signIn is a signed-in user about to get tokens from an app.
type signIn struct {
	app    App
	tid    string
	user   storedUser
	roles  []string // directory role template ids ("wids")
	scopes scopeRequest
	nonce  string // of the authorization request, echoed in the id token
	// confidential says the client proved its secret (the token's appidacr).
	confidential bool
}

// issueUserTokens answers a user flow: the access token for Graph, an id token when
// openid was asked, client_info when the client asked for it (MSAL does, to name the
// account in its cache), and a refresh token with offline_access.
func (s *Service) issueUserTokens(req *tokenRequest, in signIn) (*TokenResponse, *OAuthError) {
	access, err := s.Sign(s.userAccessClaims(req.now, in))
	if err != nil {
		return nil, errTransient()
	}
	resp := s.response(access, in.scopes.text(in.scopes.Offline))
	if in.scopes.has("openid") {
		if resp.IDToken, err = s.Sign(s.idTokenClaims(req.base, req.now, in)); err != nil {
			return nil, errTransient()
		}
	}
	if req.form.Get("client_info") == "1" {
		resp.ClientInfo = clientInfo(in.user.ID, in.tid)
	}
	if in.scopes.Offline {
		if resp.RefreshToken, err = s.Sign(s.refreshClaims(req.now, in)); err != nil {
			return nil, errTransient()
		}
	}
	return resp, nil
}

// clientInfo is the client_info value MSAL keys its account cache by: base64url of
// the user's object id and tenant id.
func clientInfo(oid, tid string) string {
	ci, _ := json.Marshal(map[string]string{"uid": oid, "utid": tid})
	return base64.RawURLEncoding.EncodeToString(ci)
}

// pairwiseSub is the "sub" of a user's tokens for one app: Entra's subject is unique
// per user and app, so two apps cannot correlate a user by it.
func pairwiseSub(appID, oid string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(appID) + ":" + strings.ToLower(oid)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// accessClaims are the claims every Graph access token carries, in the v1 form
// Graph's tokens have.
func (s *Service) accessClaims(now time.Time, tid string, app App, confidential bool) jwt.MapClaims {
	acr := "0"
	if confidential {
		acr = "1"
	}
	return jwt.MapClaims{
		"aud":             GraphAudience,
		"iss":             v1Issuer(tid),
		"iat":             now.Unix(),
		"nbf":             now.Unix(),
		"exp":             now.Add(s.cfg.TokenLifetime).Unix(),
		"tid":             tid,
		"appid":           app.ClientID,
		"appidacr":        acr,
		"app_displayname": app.DisplayName,
		"ver":             "1.0",
		"uti":             uuid.NewString(),
	}
}

// appAccessClaims are an application token's: the app's service principal in the
// tenant is its subject.
func (s *Service) appAccessClaims(now time.Time, tid string, app App) jwt.MapClaims {
	c := s.accessClaims(now, tid, app, true)
	sp := ServicePrincipalID(tid, app.ClientID)
	c["oid"], c["sub"], c["idtyp"] = sp, sp, "app"
	c["idp"] = v1Issuer(tid)
	c["roles"] = app.ApplicationPermissions
	return c
}

func (s *Service) userAccessClaims(now time.Time, in signIn) jwt.MapClaims {
	c := s.accessClaims(now, in.tid, in.app, in.confidential)
	c["oid"] = in.user.ID
	c["sub"] = pairwiseSub(in.app.ClientID, in.user.ID)
	c["idtyp"] = "user"
	c["scp"] = strings.Join(in.scopes.Graph, " ")
	c["name"] = in.user.DisplayName
	c["unique_name"] = in.user.UserPrincipalName
	if in.user.GivenName != nil {
		c["given_name"] = *in.user.GivenName
	}
	if in.user.Surname != nil {
		c["family_name"] = *in.user.Surname
	}
	if in.tid == ConsumersTenant {
		// Personal accounts come from the Microsoft account system: no UPN, and the
		// identity provider is live.com.
		c["acct"], c["idp"], c["email"] = 1, "live.com", in.user.UserPrincipalName
	} else {
		c["acct"], c["upn"] = 0, in.user.UserPrincipalName
		if len(in.roles) > 0 {
			c["wids"] = in.roles
		}
	}
	return c
}

// idTokenClaims are a v2 id token's; its issuer is the authority the client used.
func (s *Service) idTokenClaims(base string, now time.Time, in signIn) jwt.MapClaims {
	c := jwt.MapClaims{
		"aud":                in.app.ClientID,
		"iss":                v2Issuer(base, in.tid),
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"exp":                now.Add(time.Hour).Unix(),
		"oid":                in.user.ID,
		"sub":                pairwiseSub(in.app.ClientID, in.user.ID),
		"tid":                in.tid,
		"ver":                "2.0",
		"uti":                uuid.NewString(),
		"preferred_username": in.user.UserPrincipalName,
		"name":               in.user.DisplayName,
	}
	if in.nonce != "" {
		c["nonce"] = in.nonce
	}
	if in.scopes.has("email") {
		if in.user.Mail != nil {
			c["email"] = *in.user.Mail
		} else if in.tid == ConsumersTenant {
			c["email"] = in.user.UserPrincipalName
		}
	}
	return c
}

// refreshAudience marks graphhook's refresh tokens; they are signed JWTs for
// graphhook alone, opaque to clients as Entra's are.
const refreshAudience = "urn:graphhook:refresh"

// refreshClaims bind a refresh token to its tenant, user and app.
func (s *Service) refreshClaims(now time.Time, in signIn) jwt.MapClaims {
	scopes, _ := json.Marshal(in.scopes)
	return jwt.MapClaims{
		"typ": "refresh", "aud": refreshAudience, "iss": v1Issuer(in.tid),
		"tid": in.tid, "oid": in.user.ID, "appid": in.app.ClientID, "scopes": string(scopes),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(s.cfg.RefreshLifetime).Unix(), "uti": uuid.NewString(),
		// The sign-in time to the millisecond: a password change revokes the refresh
		// tokens issued before it, and iat's whole seconds cannot tell the second of
		// the change apart.
		"iat_ms": now.UnixMilli(),
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// ClockSkew is the allowance every time check of a token gets (exp, nbf, iat), as
// Entra's token validation allows five minutes.
const ClockSkew = 5 * time.Minute

// MaxAccessTokenLifetime is the longest an access token may live (exp - iat): Entra's
// configurable lifetimes stop at a day.
const MaxAccessTokenLifetime = 24 * time.Hour

// parse verifies a token's signature and time claims: exp must be there and not
// past, nbf and iat not in the future, each with ClockSkew.
func (s *Service) parse(raw string) (jwt.MapClaims, error) {
	if claims, ok := s.verified.get(raw); ok {
		// The signature was good before; the times are checked again, against the
		// clock as it is now.
		v := jwt.NewValidator(jwt.WithTimeFunc(s.cfg.Clock.Now), jwt.WithLeeway(ClockSkew), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
		if err := v.Validate(claims); err != nil {
			s.verified.drop(raw)
			return nil, err
		}
		return claims, nil
	}
	claims, err := s.parseSigned(raw)
	if err == nil {
		s.verified.put(raw, claims)
	}
	return claims, err
}

// verifiedTokens are tokens whose RS256 signature parse checked, with their claims:
// an app sends one token on every request for an hour, and the signature check is
// the costliest part of a request's authentication. Bounded; a full cache starts
// over (tokens are checked again on their next use).
type verifiedTokens struct {
	mu sync.Mutex
	m  map[string]jwt.MapClaims
}

// maxVerified bounds the cache: more distinct live tokens than this only cost their
// signature checks again.
const maxVerified = 4096

func (v *verifiedTokens) get(raw string) (jwt.MapClaims, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	c, ok := v.m[raw]
	return c, ok
}

func (v *verifiedTokens) put(raw string, c jwt.MapClaims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= maxVerified {
		v.m = make(map[string]jwt.MapClaims)
	}
	v.m[raw] = c
}

func (v *verifiedTokens) drop(raw string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, raw)
}

// parseSigned checks raw's signature with the service's keys and its times.
func (s *Service) parseSigned(raw string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := s.publicKey(kid); ok {
			return k, nil
		}
		return nil, errors.New("unknown signing key")
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(s.cfg.Clock.Now), jwt.WithLeeway(ClockSkew),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	return claims, err
}
