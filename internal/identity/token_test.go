package identity_test

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/graphhook/graphhook/internal/testserver"
)

func postToken(t *testing.T, env *testserver.Env, tenant string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(env.URL+"/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	json.Unmarshal(data, &c)
	return c
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	app := url.Values{"grant_type": {"client_credentials"}, "client_id": {testserver.AppID}, "client_secret": {testserver.AppSecret}, "scope": {"https://graph.microsoft.com/.default"}}
	with := func(base url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				out.Del(kv[i])
			} else {
				out.Set(kv[i], kv[i+1])
			}
		}
		return out
	}
	pw := url.Values{"grant_type": {"password"}, "client_id": {testserver.DelegatedAppID}, "username": {testserver.AdeleUPN}, "password": {testserver.Password}, "scope": {"https://graph.microsoft.com/Mail.Read"}}
	tests := []struct {
		name   string
		tenant string
		form   url.Values
		status int
		code   string
	}{
		{"no grant type", testserver.Tenant, with(app, "grant_type", ""), 400, "invalid_request"},
		{"unknown grant type", testserver.Tenant, with(app, "grant_type", "authorization_code"), 400, "unsupported_grant_type"},
		{"wrong secret", testserver.Tenant, with(app, "client_secret", "nope"), 401, "invalid_client"},
		{"missing secret", testserver.Tenant, with(app, "client_secret", ""), 401, "invalid_client"},
		{"unknown client", testserver.Tenant, with(app, "client_id", "99999999-0000-4000-8000-000000000001"), 400, "unauthorized_client"},
		{"scope not .default", testserver.Tenant, with(app, "scope", "https://graph.microsoft.com/User.Read.All"), 400, "invalid_scope"},
		{"no scope", testserver.Tenant, with(app, "scope", ""), 400, "invalid_request"},
		{"client credentials on common", "common", app, 400, "invalid_request"},
		{"unknown tenant", "fabrikam.onmicrosoft.com", app, 400, "invalid_request"},
		{"wrong password", testserver.Tenant, with(pw, "password", "guess"), 400, "invalid_grant"},
		{"unknown user", testserver.Tenant, with(pw, "username", "nobody@contoso.onmicrosoft.com"), 400, "invalid_grant"},
		{"scope not consented", testserver.Tenant, with(pw, "scope", "https://graph.microsoft.com/Chat.Read.All"), 400, "invalid_grant"},
		{"scope of another API", testserver.Tenant, with(pw, "scope", "https://storage.azure.com/user_impersonation"), 400, "invalid_scope"},
		{"unknown scope", testserver.Tenant, with(pw, "scope", "https://graph.microsoft.com/Mail.Reed"), 400, "invalid_scope"},
		{"personal account through the work tenant", testserver.Tenant, with(pw, "username", testserver.SamUPN), 400, "invalid_grant"},
		{"bad refresh token", testserver.Tenant, url.Values{"grant_type": {"refresh_token"}, "client_id": {testserver.DelegatedAppID}, "refresh_token": {"abc.def.ghi"}}, 400, "invalid_grant"},
	}
	for _, tt := range tests {
		status, body := postToken(t, env, tt.tenant, tt.form)
		if status != tt.status || body["error"] != tt.code || !strings.HasPrefix(body["error_description"].(string), "AADSTS") {
			t.Errorf("%s: token = %d %v, want %d %s with an AADSTS description", tt.name, status, body, tt.status, tt.code)
		}
	}
}

func TestTokenGrants(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	// Client credentials, tenant addressed by its domain.
	status, body := postToken(t, env, "contoso.onmicrosoft.com", url.Values{"grant_type": {"client_credentials"}, "client_id": {testserver.AppID}, "client_secret": {testserver.AppSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	if status != 200 || body["token_type"] != "Bearer" || body["expires_in"].(float64) != 3600 {
		t.Fatalf("client_credentials = %d %v", status, body)
	}
	c := claimsOf(t, body["access_token"].(string))
	if c["aud"] != "https://graph.microsoft.com" || c["tid"] != testserver.Tenant || c["idtyp"] != "app" || c["appid"] != testserver.AppID || c["scp"] != nil {
		t.Errorf("application token claims = %v", c)
	}
	if roles, _ := c["roles"].([]any); len(roles) < 10 {
		t.Errorf("application token roles = %v, want the app's permissions", c["roles"])
	}
	// Password grant with offline_access, then refresh.
	status, body = postToken(t, env, "organizations", url.Values{"grant_type": {"password"}, "client_id": {testserver.DelegatedAppID}, "client_secret": {testserver.DelegatedSecret},
		"username": {testserver.AdeleUPN}, "password": {testserver.Password}, "scope": {"https://graph.microsoft.com/Mail.Read https://graph.microsoft.com/User.Read offline_access"}})
	if status != 200 || body["refresh_token"] == nil {
		t.Fatalf("password = %d %v", status, body)
	}
	c = claimsOf(t, body["access_token"].(string))
	if c["scp"] != "Mail.Read User.Read" || c["oid"] != testserver.Adele || c["upn"] != testserver.AdeleUPN || c["idtyp"] != "user" || c["roles"] != nil {
		t.Errorf("delegated token claims = %v", c)
	}
	status, body = postToken(t, env, testserver.Tenant, url.Values{"grant_type": {"refresh_token"}, "client_id": {testserver.DelegatedAppID}, "refresh_token": {body["refresh_token"].(string)}, "scope": {"https://graph.microsoft.com/Mail.Read"}})
	if status != 200 || claimsOf(t, body["access_token"].(string))["scp"] != "Mail.Read" {
		t.Fatalf("refresh_token = %d %v", status, body)
	}
	// A Global Administrator's token carries the role in wids; others have none.
	_, admin := postToken(t, env, testserver.Tenant, url.Values{"grant_type": {"password"}, "client_id": {testserver.DelegatedAppID},
		"username": {"emil@contoso.onmicrosoft.com"}, "password": {testserver.Password}, "scope": {"https://graph.microsoft.com/User.Read"}})
	if wids, _ := claimsOf(t, admin["access_token"].(string))["wids"].([]any); len(wids) != 1 || wids[0] != "62e90394-69f5-4237-9190-012177145e10" {
		t.Errorf("Global Administrator token wids = %v", claimsOf(t, admin["access_token"].(string))["wids"])
	}
	if w := c["wids"]; w != nil {
		t.Errorf("Adele's token wids = %v, want none", w)
	}
	// A refresh token cannot be used by another app.
	_, body2 := postToken(t, env, "consumers", url.Values{"grant_type": {"password"}, "client_id": {testserver.DelegatedAppID}, "username": {testserver.SamUPN}, "password": {testserver.Password}, "scope": {"https://graph.microsoft.com/.default offline_access"}})
	if claimsOf(t, body2["access_token"].(string))["tid"] != "9188040d-6c67-4c5b-b112-36a304b66dad" {
		t.Errorf("personal account token tid = %v, want the consumers tenant", claimsOf(t, body2["access_token"].(string))["tid"])
	}
	status, _ = postToken(t, env, testserver.Tenant, url.Values{"grant_type": {"refresh_token"}, "client_id": {testserver.AppID}, "client_secret": {testserver.AppSecret}, "refresh_token": {body2["refresh_token"].(string)}})
	if status != 400 {
		t.Errorf("refresh token used by another client = %d, want 400", status)
	}
}

func TestDiscoveryAndKeysVerifyTokens(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	resp, err := http.Get(env.URL + "/" + testserver.Tenant + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc map[string]any
	json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if disc["issuer"] != env.URL+"/"+testserver.Tenant+"/v2.0" || disc["token_endpoint"] != env.URL+"/"+testserver.Tenant+"/oauth2/v2.0/token" {
		t.Fatalf("discovery = %v", disc)
	}
	resp, err = http.Get(disc["jwks_uri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct{ Kid, N, E string }
	}
	json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	tok := env.AppToken()
	parsed, err := jwt.Parse(tok, func(tk *jwt.Token) (any, error) {
		for _, k := range set.Keys {
			if k.Kid == tk.Header["kid"] {
				n, _ := base64.RawURLEncoding.DecodeString(k.N)
				e, _ := base64.RawURLEncoding.DecodeString(k.E)
				return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
			}
		}
		return nil, jwt.ErrTokenUnverifiable
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(disc["issuer"].(string)))
	if err != nil || !parsed.Valid {
		t.Fatalf("token does not verify against the published keys: %v", err)
	}
	if r := env.Do("GET", "/fabrikam.example/v2.0/.well-known/openid-configuration", "", nil); r.Status != 400 {
		t.Errorf("discovery of an unknown tenant = %d, want 400", r.Status)
	}
	_ = time.Now
}
