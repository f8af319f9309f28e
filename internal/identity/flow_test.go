package identity_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/testserver"
)

// browser is a user agent that keeps cookies and does not follow redirects, so a
// test sees where the sign-in page sends it.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func fetch(t *testing.T, c *http.Client, method, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page has no CSRF field: %s", page)
	}
	return m[1]
}

func pkce() (verifier, challenge string) {
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-graphhook-test"
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestAuthorizationCodeFlow(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	verifier, challenge := pkce()
	const redirect = "http://localhost:53117" // any loopback port, as Entra allows
	params := url.Values{"client_id": {publicAppID}, "response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"User.Read Mail.Read openid profile offline_access"},
		"state": {"st-42"}, "nonce": {"n-0S6"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "login_hint": {testserver.AdeleUPN}, "client_info": {"1"}}
	authorize := env.URL + "/common/oauth2/v2.0/authorize"
	b := browser()
	resp, page := fetch(t, b, "GET", authorize+"?"+params.Encode(), nil)
	if resp.StatusCode != 200 || !strings.Contains(page, testserver.AdeleUPN) || !strings.Contains(page, testserver.SamUPN) || !strings.Contains(page, `value="adele@contoso.onmicrosoft.com"`) {
		t.Fatalf("authorize page = %d %s, want the tenant's users and personal accounts, Adele preselected", resp.StatusCode, page)
	}
	csrf := csrfOf(t, page)
	post := func(kv ...string) (*http.Response, string) {
		form := url.Values{}
		for k, v := range params {
			form[k] = v
		}
		form.Set("csrf", csrf)
		for i := 0; i+1 < len(kv); i += 2 {
			form.Set(kv[i], kv[i+1])
		}
		return fetch(t, b, "POST", env.URL+"/common/oauth2/v2.0/authorize", form)
	}
	if resp, page := post("username", testserver.AdeleUPN, "password", "guess"); resp.StatusCode != 200 || !strings.Contains(page, "Your account or password is incorrect") {
		t.Errorf("wrong password = %d %s, want the page again with the error", resp.StatusCode, page)
	}
	if resp, _ := fetch(t, browser(), "POST", authorize, with(params, "csrf", csrf, "username", testserver.AdeleUPN, "password", testserver.Password)); resp.StatusCode != 400 {
		t.Errorf("post without the CSRF cookie = %d, want 400", resp.StatusCode)
	}
	resp, _ = post("username", testserver.AdeleUPN, "password", testserver.Password)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || err != nil || !strings.HasPrefix(loc.String(), redirect+"?") || loc.Query().Get("state") != "st-42" || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in = %d, Location %q, want a redirect with code and state", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := loc.Query().Get("code")
	if ci, _ := base64.RawURLEncoding.DecodeString(loc.Query().Get("client_info")); !strings.Contains(string(ci), `"uid":"`+testserver.Adele+`"`) {
		t.Errorf("redirect client_info = %s, want Adele's uid", ci)
	}
	redeem := url.Values{"grant_type": {"authorization_code"}, "client_id": {publicAppID}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}, "client_info": {"1"},
		"scope": {"User.Read Mail.Read openid profile offline_access"}}
	tests := []struct {
		name   string
		form   url.Values
		status int
		aadsts int
	}{
		{"wrong verifier", with(redeem, "code_verifier", "not-the-verifier"), 400, 501481},
		{"no verifier", with(redeem, "code_verifier", ""), 400, 501481},
		{"other redirect URI", with(redeem, "redirect_uri", "http://localhost:1/other"), 400, 70000},
		{"other client", with(redeem, "client_id", testserver.DelegatedAppID, "client_secret", testserver.DelegatedSecret), 400, 70000},
		{"unknown code", with(redeem, "code", "nope"), 400, 9002313},
	}
	for _, tt := range tests {
		status, body := postToken(t, env, "common", tt.form)
		if codes, _ := body["error_codes"].([]any); status != tt.status || len(codes) != 1 || codes[0] != float64(tt.aadsts) {
			t.Errorf("redeem with %s = %d %v, want %d [%d]", tt.name, status, body["error_description"], tt.status, tt.aadsts)
		}
	}
	status, body := postToken(t, env, "common", redeem)
	if status != 200 || body["id_token"] == nil || body["refresh_token"] == nil || body["client_info"] == nil {
		t.Fatalf("redeem = %d %v", status, body)
	}
	id := claimsOf(t, body["id_token"].(string))
	if id["nonce"] != "n-0S6" || id["aud"] != publicAppID || id["iss"] != env.URL+"/"+testserver.Tenant+"/v2.0" || id["oid"] != testserver.Adele {
		t.Errorf("id token = %v", id)
	}
	if c := claimsOf(t, body["access_token"].(string)); c["scp"] != "Mail.Read User.Read" || c["appidacr"] != "0" {
		t.Errorf("access token scp %v appidacr %v", c["scp"], c["appidacr"])
	}
	if status, body := postToken(t, env, "common", redeem); status != 400 || body["error_codes"].([]any)[0] != float64(54005) {
		t.Errorf("second redemption = %d %v, want 400 [54005]", status, body["error_description"])
	}
	// A code expires.
	_, page = fetch(t, b, "GET", authorize+"?"+params.Encode(), nil)
	csrf = csrfOf(t, page)
	resp, _ = post("username", testserver.AdeleUPN, "password", testserver.Password)
	loc, _ = url.Parse(resp.Header.Get("Location"))
	env.Clock.Advance(11 * time.Minute)
	if status, body := postToken(t, env, "common", with(redeem, "code", loc.Query().Get("code"))); status != 400 || body["error_codes"].([]any)[0] != float64(70008) {
		t.Errorf("expired code = %d %v, want 400 [70008]", status, body["error_description"])
	}
}

func TestAuthorizeErrors(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	base := url.Values{"client_id": {testserver.DelegatedAppID}, "response_type": {"code"}, "redirect_uri": {"http://localhost:3000/auth/callback"}, "scope": {"openid User.Read"}, "state": {"s1"}}
	// Errors graphhook cannot trust the redirect URI with are shown on its page.
	for _, tt := range []struct {
		name   string
		params url.Values
		want   string
	}{
		{"unknown client", with(base, "client_id", "99999999-0000-4000-8000-000000000001"), "AADSTS700016"},
		{"unregistered redirect URI", with(base, "redirect_uri", "https://evil.example/cb"), "AADSTS50011"},
		{"another port of a confidential client's redirect URI", with(base, "redirect_uri", "http://localhost:3001/auth/callback"), ""},
		{"unknown tenant", base, "AADSTS90002"},
	} {
		tenant := "common"
		if tt.name == "unknown tenant" {
			tenant = "fabrikam.example"
		}
		resp, page := fetch(t, browser(), "GET", env.URL+"/"+tenant+"/oauth2/v2.0/authorize?"+tt.params.Encode(), nil)
		if tt.want == "" {
			// Loopback ports are free for every app, as Entra treats them.
			if resp.StatusCode != 200 {
				t.Errorf("%s = %d, want the sign-in page", tt.name, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != 400 || !strings.Contains(page, tt.want) {
			t.Errorf("%s = %d %s, want 400 with %s", tt.name, resp.StatusCode, page, tt.want)
		}
	}
	// The others go back to the app.
	for _, tt := range []struct {
		name   string
		params url.Values
		want   string
	}{
		{"response type token", with(base, "response_type", "token"), "unsupported_response_type"},
		{"plain PKCE", with(base, "code_challenge", "abc", "code_challenge_method", "plain"), "invalid_request"},
		{"scope not consented", with(base, "scope", "openid Chat.ReadBasic"), "consent_required"},
		{"silent sign-in", with(base, "prompt", "none"), "login_required"},
	} {
		resp, _ := fetch(t, browser(), "GET", env.URL+"/organizations/oauth2/v2.0/authorize?"+tt.params.Encode(), nil)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 302 || loc.Query().Get("error") != tt.want || loc.Query().Get("state") != "s1" {
			t.Errorf("%s = %d %s, want a redirect with error %s", tt.name, resp.StatusCode, resp.Header.Get("Location"), tt.want)
		}
	}
}

// A confidential web app with response_mode=form_post, a personal account through
// /consumers: the page posts the code to the app; the app redeems it with its secret.
func TestAuthorizationCodeFormPostPersonalAccount(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	const redirect = "https://localhost:3000/auth/callback"
	params := url.Values{"client_id": {testserver.DelegatedAppID}, "response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"https://graph.microsoft.com/.default"},
		"response_mode": {"form_post"}, "state": {"xyz"}}
	b := browser()
	_, page := fetch(t, b, "GET", env.URL+"/consumers/oauth2/v2.0/authorize?"+params.Encode(), nil)
	if strings.Contains(page, testserver.AdeleUPN) {
		t.Errorf("the /consumers sign-in page lists work accounts")
	}
	resp, page := fetch(t, b, "POST", env.URL+"/consumers/oauth2/v2.0/authorize", with(params, "csrf", csrfOf(t, page), "username", testserver.SamUPN, "password", testserver.Password))
	m := regexp.MustCompile(`name="code" value="([^"]+)"`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(page, `action="`+redirect+`"`) || !strings.Contains(page, `name="state" value="xyz"`) {
		t.Fatalf("form_post = %d %s", resp.StatusCode, page)
	}
	redeem := url.Values{"grant_type": {"authorization_code"}, "client_id": {testserver.DelegatedAppID}, "code": {m[1]}, "redirect_uri": {redirect}}
	if status, body := postToken(t, env, "consumers", redeem); status != 401 || body["error_codes"].([]any)[0] != float64(7000218) {
		t.Errorf("confidential client redeeming without its secret = %d %v, want 401 [7000218]", status, body["error_description"])
	}
	// MSAL for Go asks for the OpenID Connect scopes only when it redeems the code.
	status, body := postToken(t, env, "consumers", with(redeem, "client_secret", testserver.DelegatedSecret, "scope", "https://graph.microsoft.com/.default openid profile offline_access"))
	if status != 200 || body["id_token"] == nil || body["refresh_token"] == nil {
		t.Fatalf("redeem = %d %v, want tokens with an id token and a refresh token", status, body)
	}
	c := claimsOf(t, body["access_token"].(string))
	if c["tid"] != identity.ConsumersTenant || c["oid"] != testserver.Sam || c["idp"] != "live.com" || c["acct"] != float64(1) || c["upn"] != nil {
		t.Errorf("personal account token = %v", c)
	}
	if !strings.Contains(body["scope"].(string), "https://graph.microsoft.com/.default") {
		t.Errorf("scope = %v, want the requested .default in it", body["scope"])
	}
}

func TestDeviceCodeFlow(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	start := func(tenant string) map[string]any {
		t.Helper()
		resp, err := http.PostForm(env.URL+"/"+tenant+"/oauth2/v2.0/devicecode", url.Values{"client_id": {publicAppID}, "scope": {"User.Read openid profile offline_access"}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var dc map[string]any
		json.NewDecoder(resp.Body).Decode(&dc)
		if resp.StatusCode != 200 {
			t.Fatalf("devicecode = %d %v", resp.StatusCode, dc)
		}
		return dc
	}
	dc := start("consumers")
	userCode, _ := dc["user_code"].(string)
	if len(userCode) != 9 || dc["device_code"] == "" || dc["verification_uri"] != env.URL+"/devicelogin" || dc["expires_in"] != float64(900) || dc["interval"] != float64(5) ||
		!strings.Contains(dc["message"].(string), userCode) || !strings.Contains(dc["message"].(string), env.URL+"/devicelogin") {
		t.Fatalf("devicecode = %v", dc)
	}
	poll := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {publicAppID}, "device_code": {dc["device_code"].(string)}, "client_info": {"1"}}
	if status, body := postToken(t, env, "consumers", poll); status != 400 || body["error"] != "authorization_pending" || body["error_codes"].([]any)[0] != float64(70016) {
		t.Fatalf("poll before sign-in = %d %v, want 400 authorization_pending [70016]", status, body)
	}
	b := browser()
	_, page := fetch(t, b, "GET", env.URL+"/devicelogin", nil)
	csrf := csrfOf(t, page)
	if _, page := fetch(t, b, "POST", env.URL+"/devicelogin", url.Values{"csrf": {csrf}, "otc": {"BCDFGHJKL"}, "username": {testserver.SamUPN}, "password": {testserver.Password}}); !strings.Contains(page, "code is not valid") {
		t.Errorf("wrong user code: page %s", page)
	}
	// Work accounts cannot sign in through a /consumers device code.
	if _, page := fetch(t, b, "POST", env.URL+"/devicelogin", url.Values{"csrf": {csrf}, "otc": {userCode}, "username": {testserver.AdeleUPN}, "password": {testserver.Password}}); !strings.Contains(page, "AADSTS50034") {
		t.Errorf("work account on a consumers code: page %s", page)
	}
	// The code as typed: lower case, with a dash.
	typed := strings.ToLower(userCode[:4] + "-" + userCode[4:])
	if _, page := fetch(t, b, "POST", env.URL+"/devicelogin", url.Values{"csrf": {csrf}, "otc": {typed}, "username": {testserver.SamUPN}, "password": {testserver.Password}}); !strings.Contains(page, `id="done"`) {
		t.Fatalf("device login: page %s", page)
	}
	if status, body := postToken(t, env, "organizations", poll); status != 400 || body["error_codes"].([]any)[0] != float64(700005) {
		t.Errorf("poll through another authority = %d %v, want 400 [700005]", status, body)
	}
	status, body := postToken(t, env, "consumers", poll)
	if status != 200 || body["id_token"] == nil || body["refresh_token"] == nil || claimsOf(t, body["access_token"].(string))["oid"] != testserver.Sam {
		t.Fatalf("poll after sign-in = %d %v", status, body)
	}
	if status, body := postToken(t, env, "consumers", poll); status != 400 || body["error_codes"].([]any)[0] != float64(54005) {
		t.Errorf("second redemption = %d %v, want 400 [54005]", status, body)
	}
	// Unused, the code expires.
	dc = start(testserver.Tenant)
	env.Clock.Advance(16 * time.Minute)
	if status, body := postToken(t, env, testserver.Tenant, with(poll, "device_code", dc["device_code"].(string))); status != 400 || body["error"] != "expired_token" || body["error_codes"].([]any)[0] != float64(70020) {
		t.Errorf("poll after expiry = %d %v, want 400 expired_token [70020]", status, body)
	}
}
