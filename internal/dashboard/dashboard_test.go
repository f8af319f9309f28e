package dashboard_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/dashboard"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/testserver"
)

// setup serves the admin API and the dashboard of the given profile; now (nil: real
// time) tells the sessions' time.
func setup(t *testing.T, profile string, now func() time.Time) *testserver.Env {
	t.Helper()
	return testserver.New(t, func(e *testserver.Env) {
		a, err := admin.New(admin.Config{Profile: profile}, e.Identity, e.Clock)
		if err != nil {
			t.Fatal(err)
		}
		a.Routes(e.HTTP.Admin())
		d, err := dashboard.New(dashboard.Config{AdminKey: testserver.AdminKey, Profile: profile, Fixture: identity.DemoFixture(), Now: now}, e.Identity, e.Store)
		if err != nil {
			t.Fatal(err)
		}
		d.Routes(e.HTTP.Admin())
		e.HTTP.SetAdminUI(d)
	})
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// signIn posts the admin key to the sign-in form and returns the session cookie.
func signIn(t *testing.T, env *testserver.Env, key string, headers ...string) (*http.Response, *http.Cookie) {
	t.Helper()
	req, _ := http.NewRequest("POST", env.URL+"/_graphhook/ui/signin", strings.NewReader(url.Values{"key": {key}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "graphhook_dashboard" {
			return resp, c
		}
	}
	return resp, nil
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// page returns the dashboard page as the session sees it and its CSRF token.
func page(t *testing.T, env *testserver.Env, cookie *http.Cookie) (body, csrf string) {
	t.Helper()
	r := env.Do("GET", "/_graphhook/", "", nil, "Cookie", cookie.String())
	if r.Status != http.StatusOK {
		t.Fatalf("GET /_graphhook/ = %s", r)
	}
	m := csrfMeta.FindStringSubmatch(string(r.Body))
	if m == nil {
		t.Fatalf("GET /_graphhook/ with a session: no CSRF token in %s", r.Body)
	}
	return string(r.Body), m[1]
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	env := setup(t, "dev", nil)
	r := env.Do("GET", "/_graphhook/", "", nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `name="key"`) || strings.Contains(string(r.Body), "csrf-token") {
		t.Fatalf("GET /_graphhook/ signed out = %s, want the sign-in form", r)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy = %q, want script-src 'self'", csp)
	}
	if resp, c := signIn(t, env, "wrong"); resp.StatusCode != http.StatusUnauthorized || c != nil {
		t.Errorf("sign in with a wrong key = %d, cookie %v; want 401 and none", resp.StatusCode, c)
	}
	resp, c := signIn(t, env, testserver.AdminKey)
	if resp.StatusCode != http.StatusSeeOther || c == nil {
		t.Fatalf("sign in = %d, cookie %v; want 303 and a session cookie", resp.StatusCode, c)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/_graphhook/" {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Strict, not Secure over HTTP, path /_graphhook/", c)
	}
	_, csrf := page(t, env, c)
	cookie := c.String()

	// The session reads the admin API.
	if r := env.Do("GET", "/_graphhook/tenants", "", nil, "Cookie", cookie); r.Status != http.StatusOK {
		t.Errorf("GET tenants with the session = %s, want 200", r)
	}
	advance := map[string]string{"duration": "1m"}
	for _, tc := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"no CSRF token", []string{"Cookie", cookie}, http.StatusForbidden},
		{"wrong CSRF token", []string{"Cookie", cookie, "X-CSRF-Token", csrf + "x"}, http.StatusForbidden},
		{"another origin", []string{"Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "http://127.0.0.1:1"}, http.StatusForbidden},
		{"another site", []string{"Cookie", cookie, "X-CSRF-Token", csrf, "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"same site, another origin", []string{"Cookie", cookie, "X-CSRF-Token", csrf, "Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"tampered cookie", []string{"Cookie", strings.Replace(cookie, ".", "A.", 1), "X-CSRF-Token", csrf}, http.StatusUnauthorized},
		{"the token without the session", []string{"X-CSRF-Token", csrf}, http.StatusUnauthorized},
		{"session and token", []string{"Cookie", cookie, "X-CSRF-Token", csrf, "Origin", env.URL, "Sec-Fetch-Site", "same-origin"}, http.StatusOK},
	} {
		before := env.Clock.Now()
		r := env.Do("POST", "/_graphhook/clock/advance", "", advance, tc.headers...)
		if r.Status != tc.want {
			t.Errorf("POST clock/advance, %s = %s, want %d", tc.name, r, tc.want)
		}
		if moved := env.Clock.Now().Sub(before) >= time.Minute; moved != (tc.want == http.StatusOK) {
			t.Errorf("POST clock/advance, %s: clock moved = %v", tc.name, moved)
		}
	}
	// The bearer admin key still works alone.
	if r := env.Do("POST", "/_graphhook/clock/advance", testserver.AdminKey, advance); r.Status != http.StatusOK {
		t.Errorf("POST clock/advance with the admin key = %s, want 200", r)
	}

	// Sign-out needs the token too, then ends the session in the browser.
	form := func(v url.Values) *http.Response {
		req, _ := http.NewRequest("POST", env.URL+"/_graphhook/ui/signout", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", cookie)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := form(url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign out without the CSRF field = %d, want 403", resp.StatusCode)
	}
	resp = form(url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Errorf("sign out = %d %v, want 303 and the cookie cleared", resp.StatusCode, resp.Cookies())
	}
}

func TestSignInFromAnotherOriginRefused(t *testing.T) {
	t.Parallel()
	env := setup(t, "dev", nil)
	for _, h := range [][]string{{"Origin", "http://127.0.0.1:1"}, {"Sec-Fetch-Site", "cross-site"}} {
		if resp, c := signIn(t, env, testserver.AdminKey, h...); resp.StatusCode != http.StatusForbidden || c != nil {
			t.Errorf("sign in with %s: %s = %d, cookie %v; want 403 and none", h[0], h[1], resp.StatusCode, c)
		}
	}
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	env := setup(t, "dev", clock)
	_, c := signIn(t, env, testserver.AdminKey)
	if r := env.Do("GET", "/_graphhook/tenants", "", nil, "Cookie", c.String()); r.Status != http.StatusOK {
		t.Fatalf("GET tenants with a new session = %s", r)
	}
	now = now.Add(12*time.Hour + time.Second)
	if r := env.Do("GET", "/_graphhook/tenants", "", nil, "Cookie", c.String()); r.Status != http.StatusUnauthorized {
		t.Errorf("GET tenants with a session 12h old = %s, want 401", r)
	}
}

func TestSecureCookieOverHTTPS(t *testing.T) {
	d, err := dashboard.New(dashboard.Config{AdminKey: "k"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "https://127.0.0.1/_graphhook/ui/signin", strings.NewReader("key=k"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.TLS = &tls.ConnectionState{}
	w := httptest.NewRecorder()
	if !d.ServeUI(w, r, "ui/signin") {
		t.Fatal("ServeUI(ui/signin) = false")
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].Secure {
		t.Errorf("sign in over HTTPS: cookies %v, want one Secure", cookies)
	}
}

func TestAssets(t *testing.T) {
	t.Parallel()
	env := setup(t, "dev", nil)
	for path, want := range map[string]int{
		"/_graphhook/ui/app.js":        http.StatusOK,
		"/_graphhook/ui/style.css":     http.StatusOK,
		"/_graphhook/ui/index.html":    http.StatusNotFound,
		"/_graphhook/ui/nope.js":       http.StatusNotFound,
		"/_graphhook/ui/..%2fgo.mod":   http.StatusNotFound,
		"/_graphhook/ui/ui%2fapp.js":   http.StatusNotFound,
		"/_graphhook/tenants":          http.StatusUnauthorized,
		"/_graphhook/tenants/x/apps":   http.StatusUnauthorized,
		"/_graphhook/ui/signin":        http.StatusOK, // GET redirects to the sign-in page
		"/_graphhook":                  http.StatusOK,
		"/_graphhook/ui/signout":       http.StatusOK,
		"/_graphhook/tenants/x/users/": http.StatusUnauthorized,
	} {
		if r := env.Do("GET", path, "", nil); r.Status != want {
			t.Errorf("GET %s = %s, want %d", path, r, want)
		}
	}
}

// tokenForm reads a token command's form fields.
func tokenForm(t *testing.T, cmd string) (string, url.Values) {
	t.Helper()
	fields := strings.Fields(cmd)
	if len(fields) < 5 || fields[0] != "curl" || fields[3] != "POST" {
		t.Fatalf("token command %q, want curl -s -X POST URL -d …", cmd)
	}
	form := url.Values{}
	for i := 5; i+1 < len(fields); i += 2 {
		k, v, _ := strings.Cut(strings.Trim(fields[i+1], "'"), "=")
		form.Set(k, v)
	}
	return fields[4], form
}

func TestDevShowsCredentialsAndWorkingTokenCommands(t *testing.T) {
	t.Parallel()
	env := setup(t, "dev", nil)
	apps := env.Do("GET", "/_graphhook/tenants/"+testserver.Tenant+"/apps", testserver.AdminKey, nil)
	users := env.Do("GET", "/_graphhook/tenants/contoso.onmicrosoft.com/users", testserver.AdminKey, nil)
	if apps.Status != http.StatusOK || users.Status != http.StatusOK {
		t.Fatalf("GET apps = %s; GET users = %s", apps, users)
	}
	var cmds []string
	for _, a := range apps.JSON()["value"].([]any) {
		a := a.(map[string]any)
		if a["clientId"] == testserver.AppID {
			if a["clientSecret"] != testserver.AppSecret {
				t.Errorf("app %s clientSecret = %v, want %s", testserver.AppID, a["clientSecret"], testserver.AppSecret)
			}
			cmds = append(cmds, a["tokenCommand"].(string))
		}
	}
	for _, u := range users.JSON()["value"].([]any) {
		u := u.(map[string]any)
		if u["userPrincipalName"] == testserver.AdeleUPN {
			if u["password"] != testserver.Password {
				t.Errorf("user %s password = %v, want %s", testserver.AdeleUPN, u["password"], testserver.Password)
			}
			cmds = append(cmds, u["tokenCommand"].(string))
		}
	}
	if len(cmds) != 2 {
		t.Fatalf("token commands %q, want the demo app's and Adele's", cmds)
	}
	for _, cmd := range cmds {
		target, form := tokenForm(t, cmd)
		resp, err := http.PostForm(target, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("running %q = %d, want 200", cmd, resp.StatusCode)
		}
	}
	if r := env.Do("GET", "/_graphhook/tenants/nope/apps", testserver.AdminKey, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "ResourceNotFound" {
		t.Errorf("GET tenants/nope/apps = %s, want 404 ResourceNotFound", r)
	}
}

func TestStrictShowsNoSecret(t *testing.T) {
	t.Parallel()
	env := setup(t, "strict", nil)
	_, c := signIn(t, env, testserver.AdminKey)
	if c == nil {
		t.Fatal("sign in: no session cookie")
	}
	body, _ := page(t, env, c)
	seen := body
	for _, path := range []string{"/_graphhook/ui/app.js", "/_graphhook/tenants", "/_graphhook/tenants/" + testserver.Tenant + "/apps", "/_graphhook/tenants/" + testserver.Tenant + "/users"} {
		r := env.Do("GET", path, "", nil, "Cookie", c.String())
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s = %s", path, r)
		}
		seen += string(r.Body)
	}
	seen = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(seen)
	if !strings.Contains(seen, "client_secret=<client secret>") || !strings.Contains(seen, "password=<password>") {
		t.Errorf("strict profile: token commands without placeholders in %s", seen)
	}
	demo := identity.DemoFixture()
	secrets := []string{testserver.AdminKey}
	for _, a := range demo.Tenants[0].Apps {
		if a.ClientSecret != "" {
			secrets = append(secrets, a.ClientSecret)
		}
	}
	for _, u := range demo.Tenants[0].Users {
		secrets = append(secrets, u.Password)
	}
	for _, s := range secrets {
		if strings.Contains(seen, s) {
			t.Errorf("strict profile shows the secret %q", s)
		}
	}
}
