package identity_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/testserver"
)

// The demo tenant's public client app (no secret).
const publicAppID = "11111111-0000-4000-8000-000000000003"

func postToken(t *testing.T, env *testserver.Env, tenant string, form url.Values, headers ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", env.URL+"/"+tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
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

func with(base url.Values, kv ...string) url.Values {
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

var (
	appForm = url.Values{"grant_type": {"client_credentials"}, "client_id": {testserver.AppID}, "client_secret": {testserver.AppSecret}, "scope": {"https://graph.microsoft.com/.default"}}
	pwForm  = url.Values{"grant_type": {"password"}, "client_id": {testserver.DelegatedAppID}, "client_secret": {testserver.DelegatedSecret}, "username": {testserver.AdeleUPN}, "password": {testserver.Password}, "scope": {"https://graph.microsoft.com/Mail.Read"}}
)

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	public := url.Values{"grant_type": {"password"}, "client_id": {publicAppID}, "username": {testserver.AdeleUPN}, "password": {testserver.Password}, "scope": {"User.Read"}}
	tests := []struct {
		name   string
		tenant string
		form   url.Values
		status int
		code   string
		aadsts int
	}{
		{"no grant type", testserver.Tenant, with(appForm, "grant_type", ""), 400, "invalid_request", 900144},
		{"unknown grant type", testserver.Tenant, with(appForm, "grant_type", "saml"), 400, "unsupported_grant_type", 70003},
		{"wrong secret", testserver.Tenant, with(appForm, "client_secret", "nope"), 401, "invalid_client", 7000215},
		{"missing secret", testserver.Tenant, with(appForm, "client_secret", ""), 401, "invalid_client", 7000218},
		{"unknown client", testserver.Tenant, with(appForm, "client_id", "99999999-0000-4000-8000-000000000001"), 400, "unauthorized_client", 700016},
		{"scope not .default", testserver.Tenant, with(appForm, "scope", "https://graph.microsoft.com/User.Read.All"), 400, "invalid_scope", 1002012},
		{"no scope", testserver.Tenant, with(appForm, "scope", ""), 400, "invalid_request", 900144},
		{"client credentials on common", "common", appForm, 400, "invalid_request", 90079},
		{"client credentials of a public client", testserver.Tenant, with(appForm, "client_id", publicAppID, "client_secret", ""), 401, "invalid_client", 7000218},
		{"unknown tenant", "fabrikam.onmicrosoft.com", appForm, 400, "invalid_tenant", 90002},
		{"wrong password", testserver.Tenant, with(pwForm, "password", "guess"), 400, "invalid_grant", 50126},
		{"unknown user", testserver.Tenant, with(pwForm, "username", "nobody@contoso.onmicrosoft.com"), 400, "invalid_grant", 50034},
		{"password grant without the confidential client's secret", testserver.Tenant, with(pwForm, "client_secret", ""), 401, "invalid_client", 7000218},
		{"password grant with a wrong secret", testserver.Tenant, with(pwForm, "client_secret", "nope"), 401, "invalid_client", 7000215},
		{"password grant on common", "common", pwForm, 400, "invalid_request", 9001023},
		{"password grant on consumers", "consumers", with(pwForm, "username", testserver.SamUPN), 400, "invalid_request", 9001023},
		{"personal account on organizations", "organizations", with(pwForm, "username", testserver.SamUPN), 400, "invalid_grant", 50034},
		{"personal account through the work tenant", testserver.Tenant, with(pwForm, "username", testserver.SamUPN), 400, "invalid_grant", 50034},
		{"secret sent by a public client", testserver.Tenant, with(public, "client_secret", "x"), 401, "invalid_client", 700025},
		{"scope not consented", testserver.Tenant, with(pwForm, "scope", "https://graph.microsoft.com/Chat.ReadBasic"), 400, "invalid_grant", 65001},
		{"application-only permission as a scope", testserver.Tenant, with(pwForm, "scope", "https://graph.microsoft.com/Chat.Read.All"), 400, "invalid_scope", 70011},
		{"scope of another API", testserver.Tenant, with(pwForm, "scope", "https://storage.azure.com/user_impersonation"), 400, "invalid_scope", 70011},
		{"unknown scope", testserver.Tenant, with(pwForm, "scope", "https://graph.microsoft.com/Mail.Reed"), 400, "invalid_scope", 70011},
		{"only OpenID scopes", testserver.Tenant, with(pwForm, "scope", "openid profile"), 400, "invalid_scope", 70011},
		{"bad refresh token", testserver.Tenant, url.Values{"grant_type": {"refresh_token"}, "client_id": {testserver.DelegatedAppID}, "client_secret": {testserver.DelegatedSecret}, "refresh_token": {"abc.def.ghi"}}, 400, "invalid_grant", 9002313},
	}
	for _, tt := range tests {
		status, body := postToken(t, env, tt.tenant, tt.form)
		codes, _ := body["error_codes"].([]any)
		if status != tt.status || body["error"] != tt.code || len(codes) != 1 || codes[0] != float64(tt.aadsts) {
			t.Errorf("%s: token = %d %v %v, want %d %s [%d]", tt.name, status, body["error"], body["error_codes"], tt.status, tt.code, tt.aadsts)
		}
	}
	if _, body := postToken(t, env, "common", pwForm); !strings.HasPrefix(body["error_description"].(string), "AADSTS9001023: The grant type is not supported over the /common or /consumers endpoints.") {
		t.Errorf("password grant on common: error_description = %q", body["error_description"])
	}
}

// Entra's error body: the description ends with the Trace ID, Correlation ID and
// Timestamp lines, which repeat the fields of their own; the correlation id is the
// caller's client-request-id.
func TestTokenErrorShape(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	const corr = "8b7c5a52-0f3e-4d7b-9b1a-2f6e0c1d3a4b"
	status, body := postToken(t, env, testserver.Tenant, with(appForm, "client_secret", "nope"), "client-request-id", corr)
	if status != 401 {
		t.Fatalf("wrong secret = %d, want 401", status)
	}
	desc, _ := body["error_description"].(string)
	m := regexp.MustCompile(`^AADSTS7000215: Invalid client secret provided\. .*\r\nTrace ID: ([0-9a-f-]{36})\r\nCorrelation ID: ([0-9a-f-]{36})\r\nTimestamp: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)$`).FindStringSubmatch(desc)
	if m == nil {
		t.Fatalf("error_description = %q, want Entra's form with the trace lines", desc)
	}
	if m[1] != body["trace_id"] || m[2] != corr || body["correlation_id"] != corr || m[3] != body["timestamp"] {
		t.Errorf("trace lines %q/%q/%q, fields %v/%v/%v: want equal, correlation %s", m[1], m[2], m[3], body["trace_id"], body["correlation_id"], body["timestamp"], corr)
	}
	if body["trace_id"] == body["correlation_id"] {
		t.Errorf("trace_id = correlation_id = %v, want distinct ids", body["trace_id"])
	}
	if body["error_uri"] != env.URL+"/error?code=7000215" {
		t.Errorf("error_uri = %v", body["error_uri"])
	}
	// Without a client-request-id, the two ids are still distinct.
	_, body = postToken(t, env, testserver.Tenant, with(appForm, "client_secret", "nope"))
	if body["trace_id"] == body["correlation_id"] || body["correlation_id"] == "" {
		t.Errorf("trace_id %v, correlation_id %v: want two distinct ids", body["trace_id"], body["correlation_id"])
	}
}

func TestClientCredentialsToken(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	// What MSAL for Go sends: .default with the OpenID Connect scopes, which Entra
	// ignores for an app token. The tenant is addressed by its domain.
	status, body := postToken(t, env, "contoso.onmicrosoft.com", with(appForm, "scope", "https://graph.microsoft.com/.default openid offline_access profile", "client_info", "1"))
	if status != 200 || body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) || body["ext_expires_in"] != float64(3600) {
		t.Fatalf("client_credentials = %d %v", status, body)
	}
	if body["scope"] != "https://graph.microsoft.com/.default" || body["refresh_token"] != nil || body["id_token"] != nil {
		t.Errorf("client_credentials scope %v, refresh %v, id token %v: want the .default scope alone", body["scope"], body["refresh_token"], body["id_token"])
	}
	c := claimsOf(t, body["access_token"].(string))
	sp := identity.ServicePrincipalID(testserver.Tenant, testserver.AppID)
	want := map[string]any{"aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/" + testserver.Tenant + "/", "ver": "1.0", "tid": testserver.Tenant,
		"idtyp": "app", "appid": testserver.AppID, "appidacr": "1", "oid": sp, "sub": sp, "idp": "https://sts.windows.net/" + testserver.Tenant + "/"}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("application token %s = %v, want %v", k, c[k], v)
		}
	}
	for _, k := range []string{"azp", "scp", "upn", "apptid"} {
		if c[k] != nil {
			t.Errorf("application token has %s = %v, want none (v1 app token)", k, c[k])
		}
	}
	if roles, _ := c["roles"].([]any); len(roles) < 10 {
		t.Errorf("application token roles = %v, want the app's permissions", c["roles"])
	}
	p, err := env.Identity.Authenticate(context.Background(), "Bearer "+body["access_token"].(string))
	if err != nil || p.Type != identity.Application || p.ServicePrincipalID != sp {
		t.Errorf("Authenticate(app token) = %+v, %v", p, err)
	}
}

func TestPasswordGrantTokens(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	// What MSAL sends after the user realm said Managed.
	status, body := postToken(t, env, "organizations", with(pwForm, "scope", "https://graph.microsoft.com/.default openid offline_access profile", "client_info", "1"))
	if status != 200 || body["refresh_token"] == nil || body["id_token"] == nil || body["client_info"] == nil {
		t.Fatalf("password = %d %v", status, body)
	}
	scope := strings.Fields(body["scope"].(string))
	for _, want := range []string{"https://graph.microsoft.com/.default", "https://graph.microsoft.com/Mail.Read", "openid", "profile", "offline_access"} {
		if !contains(scope, want) {
			t.Errorf("scope = %v, want %s in it (MSAL counts a requested scope missing from the answer as declined)", scope, want)
		}
	}
	c := claimsOf(t, body["access_token"].(string))
	if c["oid"] != testserver.Adele || c["upn"] != testserver.AdeleUPN || c["idtyp"] != "user" || c["roles"] != nil || c["azp"] != nil || c["appidacr"] != "1" ||
		c["iss"] != "https://sts.windows.net/"+testserver.Tenant+"/" || c["sub"] == testserver.Adele || c["sub"] == "" {
		t.Errorf("delegated token claims = %v", c)
	}
	if scp := strings.Fields(c["scp"].(string)); !contains(scp, "Mail.Read") || !contains(scp, "Subscription.Read.All") {
		t.Errorf("scp = %v, want every consented permission", scp)
	}
	id := claimsOf(t, body["id_token"].(string))
	wantID := map[string]any{"aud": testserver.DelegatedAppID, "iss": env.URL + "/" + testserver.Tenant + "/v2.0", "ver": "2.0", "oid": testserver.Adele,
		"tid": testserver.Tenant, "preferred_username": testserver.AdeleUPN, "name": "Adele Vance", "sub": c["sub"]}
	for k, v := range wantID {
		if id[k] != v {
			t.Errorf("id token %s = %v, want %v", k, id[k], v)
		}
	}
	ci, err := base64.RawURLEncoding.DecodeString(body["client_info"].(string))
	var info map[string]string
	if err != nil || json.Unmarshal(ci, &info) != nil || info["uid"] != testserver.Adele || info["utid"] != testserver.Tenant {
		t.Errorf("client_info = %s (%v), want {uid, utid} of Adele", ci, err)
	}
	// A pairwise subject: another app sees another sub for the same user.
	_, other := postToken(t, env, testserver.Tenant, url.Values{"grant_type": {"password"}, "client_id": {publicAppID}, "username": {testserver.AdeleUPN}, "password": {testserver.Password}, "scope": {"User.Read"}})
	if oc := claimsOf(t, other["access_token"].(string)); oc["sub"] == c["sub"] || oc["appidacr"] != "0" || other["scope"] != "User.Read" {
		t.Errorf("public client token sub %v (other app %v), appidacr %v, scope %v", oc["sub"], c["sub"], oc["appidacr"], other["scope"])
	}
	// A Global Administrator's token carries the role in wids; others have none.
	_, admin := postToken(t, env, testserver.Tenant, with(pwForm, "username", "emil@contoso.onmicrosoft.com", "scope", "https://graph.microsoft.com/User.Read"))
	if wids, _ := claimsOf(t, admin["access_token"].(string))["wids"].([]any); len(wids) != 1 || wids[0] != identity.GlobalAdministratorRole {
		t.Errorf("Global Administrator token wids = %v", claimsOf(t, admin["access_token"].(string))["wids"])
	}
	if w := c["wids"]; w != nil {
		t.Errorf("Adele's token wids = %v, want none", w)
	}
}

func TestRefreshTokenBinding(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	const fabrikam = "7a2b3c4d-0000-4000-8000-000000000009"
	fx, err := identity.ParseFixture(strings.NewReader(`tenants:
  - id: `+fabrikam+`
    domain: fabrikam.example
    displayName: Fabrikam
    consentedApps: [`+testserver.DelegatedAppID+`]
    users:
      - id: 55555555-0000-4000-8000-000000000001
        userPrincipalName: fay@fabrikam.example
        password: Passw0rd!
        displayName: Fay
`), "fabrikam.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Identity.ApplyFixture(context.Background(), fx); err != nil {
		t.Fatal(err)
	}
	status, body := postToken(t, env, testserver.Tenant, with(pwForm, "scope", "Mail.Read User.Read offline_access"))
	if status != 200 || body["refresh_token"] == nil {
		t.Fatalf("password = %d %v", status, body)
	}
	rt := body["refresh_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {testserver.DelegatedAppID}, "client_secret": {testserver.DelegatedSecret}, "refresh_token": {rt}}
	tests := []struct {
		name   string
		tenant string
		form   url.Values
		status int
		aadsts int
	}{
		{"another tenant", fabrikam, refresh, 400, 700005},
		{"consumers", "consumers", refresh, 400, 700005},
		{"another client", testserver.Tenant, with(refresh, "client_id", testserver.AppID, "client_secret", testserver.AppSecret), 400, 70000},
		{"without the secret", testserver.Tenant, with(refresh, "client_secret", ""), 401, 7000218},
		{"a scope it was not issued with", testserver.Tenant, with(refresh, "scope", "Calendars.Read"), 400, 65001},
	}
	for _, tt := range tests {
		status, body := postToken(t, env, tt.tenant, tt.form)
		if codes, _ := body["error_codes"].([]any); status != tt.status || len(codes) != 1 || codes[0] != float64(tt.aadsts) {
			t.Errorf("refresh through %s = %d %v, want %d [%d]", tt.name, status, body["error_description"], tt.status, tt.aadsts)
		}
	}
	for _, tenant := range []string{testserver.Tenant, "organizations", "common"} {
		status, body := postToken(t, env, tenant, with(refresh, "scope", "https://graph.microsoft.com/Mail.Read"))
		if status != 200 || claimsOf(t, body["access_token"].(string))["scp"] != "Mail.Read" || body["refresh_token"] == nil {
			t.Errorf("refresh through %s = %d %v", tenant, status, body)
		}
	}
	// Multi-tenant sign-in: Fabrikam consented to the delegated app, not to the
	// public client.
	status, body = postToken(t, env, fabrikam, with(pwForm, "username", "fay@fabrikam.example"))
	if status != 200 || claimsOf(t, body["access_token"].(string))["tid"] != fabrikam {
		t.Errorf("consented app, other tenant's user = %d %v", status, body)
	}
	status, body = postToken(t, env, "organizations", url.Values{"grant_type": {"password"}, "client_id": {publicAppID}, "username": {"fay@fabrikam.example"}, "password": {testserver.Password}, "scope": {"User.Read"}})
	if codes, _ := body["error_codes"].([]any); status != 400 || len(codes) != 1 || codes[0] != float64(65001) {
		t.Errorf("app without consent, other tenant's user = %d %v, want 400 [65001]", status, body)
	}
	// Client credentials in a consenting tenant: the app's service principal there.
	status, body = postToken(t, env, fabrikam, url.Values{"grant_type": {"client_credentials"}, "client_id": {testserver.DelegatedAppID}, "client_secret": {testserver.DelegatedSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	if status != 200 || claimsOf(t, body["access_token"].(string))["oid"] != identity.ServicePrincipalID(fabrikam, testserver.DelegatedAppID) {
		t.Errorf("client credentials in a consenting tenant = %d %v", status, body)
	}
	if status, _ := postToken(t, env, fabrikam, appForm); status != 400 {
		t.Errorf("client credentials in a tenant that did not consent = %d, want 400", status)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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
	if disc["issuer"] != env.URL+"/"+testserver.Tenant+"/v2.0" || disc["token_endpoint"] != env.URL+"/"+testserver.Tenant+"/oauth2/v2.0/token" ||
		disc["device_authorization_endpoint"] != env.URL+"/"+testserver.Tenant+"/oauth2/v2.0/devicecode" {
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
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer("https://sts.windows.net/"+testserver.Tenant+"/"), jwt.WithAudience("https://graph.microsoft.com"))
	if err != nil || !parsed.Valid {
		t.Fatalf("token does not verify against the published keys: %v", err)
	}
	if r := env.Do("GET", "/fabrikam.example/v2.0/.well-known/openid-configuration", "", nil); r.Status != 400 || r.JSON()["error"] != "invalid_tenant" {
		t.Errorf("discovery of an unknown tenant = %s, want 400 invalid_tenant", r)
	}
}

// get sends a GET as a client that reached graphhook by host (through the proxy, or
// behind a TLS-terminating reverse proxy when https is set).
func get(t *testing.T, env *testserver.Env, path, host string, https bool) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", env.URL+path, nil)
	if host != "" {
		req.Host = host
	}
	if https {
		req.Header.Set("X-Forwarded-Proto", "https")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s (host %s) = %d %v", path, host, resp.StatusCode, out)
	}
	return out
}

func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	host := strings.TrimPrefix(env.URL, "http://")
	tests := []struct {
		name, path, host string
		https            bool
		issuer, token    string
		jwks             string
	}{
		{"v2 tenant by domain", "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration", "", false,
			env.URL + "/" + testserver.Tenant + "/v2.0", env.URL + "/" + testserver.Tenant + "/oauth2/v2.0/token", env.URL + "/" + testserver.Tenant + "/discovery/v2.0/keys"},
		{"v2 common", "/common/v2.0/.well-known/openid-configuration", "", false,
			env.URL + "/{tenantid}/v2.0", env.URL + "/common/oauth2/v2.0/token", env.URL + "/common/discovery/v2.0/keys"},
		{"v2 organizations", "/organizations/v2.0/.well-known/openid-configuration", "", false,
			env.URL + "/{tenantid}/v2.0", env.URL + "/organizations/oauth2/v2.0/token", env.URL + "/organizations/discovery/v2.0/keys"},
		{"v2 consumers", "/consumers/v2.0/.well-known/openid-configuration", "", false,
			env.URL + "/" + identity.ConsumersTenant + "/v2.0", env.URL + "/consumers/oauth2/v2.0/token", env.URL + "/consumers/discovery/v2.0/keys"},
		{"v1 tenant", "/" + testserver.Tenant + "/.well-known/openid-configuration", "", false,
			"https://sts.windows.net/" + testserver.Tenant + "/", env.URL + "/" + testserver.Tenant + "/oauth2/token", env.URL + "/common/discovery/keys"},
		{"v1 common", "/common/.well-known/openid-configuration", "", false,
			"https://sts.windows.net/{tenantid}/", env.URL + "/common/oauth2/token", env.URL + "/common/discovery/keys"},
		{"through the proxy", "/common/v2.0/.well-known/openid-configuration", "login.microsoftonline.com", true,
			"https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/common/oauth2/v2.0/token", "https://login.microsoftonline.com/common/discovery/v2.0/keys"},
		{"behind a reverse proxy", "/" + testserver.Tenant + "/v2.0/.well-known/openid-configuration", host, true,
			"https://" + host + "/" + testserver.Tenant + "/v2.0", "https://" + host + "/" + testserver.Tenant + "/oauth2/v2.0/token", "https://" + host + "/" + testserver.Tenant + "/discovery/v2.0/keys"},
	}
	for _, tt := range tests {
		doc := get(t, env, tt.path, tt.host, tt.https)
		if doc["issuer"] != tt.issuer || doc["token_endpoint"] != tt.token || doc["jwks_uri"] != tt.jwks {
			t.Errorf("%s: issuer %v, token_endpoint %v, jwks_uri %v; want %s, %s, %s", tt.name, doc["issuer"], doc["token_endpoint"], doc["jwks_uri"], tt.issuer, tt.token, tt.jwks)
		}
	}
	if doc := get(t, env, "/common/v2.0/.well-known/openid-configuration", "login.microsoftonline.com", true); doc["msgraph_host"] != "graph.microsoft.com" {
		t.Errorf("msgraph_host through the proxy = %v", doc["msgraph_host"])
	}
}

func TestInstanceDiscovery(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	host := strings.TrimPrefix(env.URL, "http://")
	q := "/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape(env.URL+"/"+testserver.Tenant+"/oauth2/v2.0/authorize")
	doc := get(t, env, q, "", false)
	md, _ := doc["metadata"].([]any)
	if doc["tenant_discovery_endpoint"] != env.URL+"/"+testserver.Tenant+"/v2.0/.well-known/openid-configuration" || doc["api-version"] != "1.1" || len(md) != 1 {
		t.Fatalf("instance discovery = %v", doc)
	}
	if m := md[0].(map[string]any); m["preferred_network"] != host || m["preferred_cache"] != host || len(m["aliases"].([]any)) != 1 || m["aliases"].([]any)[0] != host {
		t.Errorf("metadata = %v, want graphhook's host as its only alias", m)
	}
	// Through the proxy, Entra's own answer: its hosts are aliases of one another.
	q = "/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape("https://login.microsoftonline.com/common/oauth2/v2.0/authorize")
	doc = get(t, env, q, "login.microsoftonline.com", true)
	m := doc["metadata"].([]any)[0].(map[string]any)
	if doc["tenant_discovery_endpoint"] != "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration" ||
		m["preferred_network"] != "login.microsoftonline.com" || m["preferred_cache"] != "login.windows.net" || len(m["aliases"].([]any)) != 4 {
		t.Errorf("instance discovery through the proxy = %v", doc)
	}
	// Through the proxy MSAL asks Entra about graphhook's direct address too.
	q = "/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape("https://127.0.0.1:8443/organizations/oauth2/v2.0/authorize")
	doc = get(t, env, q, "login.microsoftonline.com", true)
	m = doc["metadata"].([]any)[0].(map[string]any)
	if doc["tenant_discovery_endpoint"] != "https://127.0.0.1:8443/organizations/v2.0/.well-known/openid-configuration" || m["preferred_network"] != "127.0.0.1:8443" {
		t.Errorf("instance discovery of graphhook's loopback address through the proxy = %v", doc)
	}
	// An authority on a host graphhook does not serve is Entra's invalid_instance.
	r := env.Do("GET", "/common/discovery/instance?api-version=1.1&authorization_endpoint="+url.QueryEscape("https://login.example.com/common/oauth2/v2.0/authorize"), "", nil)
	if r.Status != 400 || r.JSON()["error"] != "invalid_instance" {
		t.Errorf("instance discovery of another host = %s, want 400 invalid_instance", r)
	}
}

func TestUserRealm(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	tests := []struct{ path, kind, domain string }{
		{"/common/UserRealm/" + testserver.AdeleUPN + "?api-version=1.0", "Managed", "contoso.onmicrosoft.com"},
		{"/common/userrealm/" + url.PathEscape(testserver.BrunoUPN) + "?api-version=1.0", "Managed", "contoso.onmicrosoft.com"},
		{"/common/UserRealm/" + testserver.SamUPN + "?api-version=1.0", "MSA", "outlook.com"},
		{"/common/UserRealm/someone@hotmail.com?api-version=1.0", "MSA", "hotmail.com"},
		{"/common/UserRealm/someone@example.org?api-version=1.0", "Unknown", "example.org"},
	}
	for _, tt := range tests {
		doc := get(t, env, tt.path, "", false)
		if doc["account_type"] != tt.kind || doc["domain_name"] != tt.domain || doc["ver"] != "1.0" ||
			doc["cloud_instance_name"] != "microsoftonline.com" || doc["cloud_audience_urn"] != "urn:federation:MicrosoftOnline" {
			t.Errorf("GET %s = %v, want account_type %s, domain_name %s and the cloud fields MSAL checks", tt.path, doc, tt.kind, tt.domain)
		}
	}
}

func TestAccessTokenSurvivesURLChange(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	tok := env.AppToken()
	// Tokens name no graphhook URL: a second server on the same store accepts them.
	other, err := identity.New(context.Background(), env.Store, identity.Config{PublicURL: "https://graphhook.example:9443", Clock: env.Clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Authenticate(context.Background(), "Bearer "+tok); err != nil {
		t.Errorf("Authenticate on another URL = %v", err)
	}
	env.Clock.Advance(2 * time.Hour)
	if _, err := other.Authenticate(context.Background(), "Bearer "+tok); err == nil {
		t.Errorf("Authenticate(expired token) = nil error")
	}
}

// Through the proxy the client talks to Entra's host: the id token's issuer is
// Entra's, the access token's does not depend on the host at all.
func TestTokenIssuersFollowTheHost(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	form := with(pwForm, "scope", "User.Read openid profile")
	req, _ := http.NewRequest("POST", env.URL+"/organizations/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Host = "login.microsoftonline.com"
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 200 {
		t.Fatalf("token = %d %v", resp.StatusCode, body)
	}
	if iss := claimsOf(t, body["id_token"].(string))["iss"]; iss != "https://login.microsoftonline.com/"+testserver.Tenant+"/v2.0" {
		t.Errorf("id token iss = %v, want Entra's", iss)
	}
	if iss := claimsOf(t, body["access_token"].(string))["iss"]; iss != "https://sts.windows.net/"+testserver.Tenant+"/" {
		t.Errorf("access token iss = %v, want https://sts.windows.net/{tid}/", iss)
	}
}
