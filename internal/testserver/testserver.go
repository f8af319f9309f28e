// Package testserver runs graphhook's HTTP API for tests, with whichever parts a test
// wires in: an app.Main on a loopback port with a real SQLite store in a temporary
// folder, the demo tenant and the identity service, built by app's RunParts rather
// than by a second copy of the wiring. It also gets real tokens from the server's own
// token endpoint.
//
// testserver imports app, and app imports every workload, the subscriptions API and
// the delivery pipeline; so the tests of those packages that use testserver are
// external test packages (package directory_test, not package directory), which Go
// builds after the package itself and without an import cycle.
package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/graphclient"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

// Demo tenant facts, from the built-in fixture.
const (
	Tenant          = "6f1c2d3e-0000-4000-8000-000000000001"
	AppID           = "11111111-0000-4000-8000-000000000001"
	AppSecret       = "demo-app-secret"
	DelegatedAppID  = "11111111-0000-4000-8000-000000000002"
	DelegatedSecret = "demo-delegated-secret"
	Adele           = "22222222-0000-4000-8000-000000000001"
	AdeleUPN        = "adele@contoso.onmicrosoft.com"
	Bruno           = "22222222-0000-4000-8000-000000000002"
	BrunoUPN        = "bruno@contoso.onmicrosoft.com"
	Chen            = "22222222-0000-4000-8000-000000000003"
	SalesGroup      = "33333333-0000-4000-8000-000000000001"
	EngGroup        = "33333333-0000-4000-8000-000000000002"
	Sam             = "44444444-0000-4000-8000-000000000001"
	SamUPN          = "sam@outlook.com"
	Password        = "Passw0rd!"
	AdminKey        = "test-admin-key"
)

// Env is one running test server.
type Env struct {
	T        testing.TB
	URL      string
	Store    store.Store
	Identity *identity.Service
	HTTP     *httpapi.Server
	Clock    *clock.Offset
	// Main is the server; a wire may add services to it with Main.AddService.
	Main *app.Main
}

// Wire connects a part of graphhook (a workload, the subscriptions API, …) to env.
type Wire func(env *Env)

// New starts a server with the demo tenant and the given parts wired in. It is closed
// when the test ends.
func New(t testing.TB, wires ...Wire) *Env {
	t.Helper()
	return NewOnDatabase(t, "", wires...)
}

// NewOnDatabase is New on a database of its own (a postgres:// URL, as pgtest.URL
// gives), or on the embedded store when database is "".
func NewOnDatabase(t testing.TB, database string, wires ...Wire) *Env {
	t.Helper()
	env := &Env{T: t}
	m := app.New(app.Config{Addr: "127.0.0.1:0", Data: t.TempDir(), Database: database, Synchronous: "NORMAL", RerunWrites: true, AdminKey: AdminKey, LogLevel: "error"}, io.Discard, io.Discard)
	// Registered first, so that it also runs when a wire stops the test.
	t.Cleanup(func() { m.Close() })
	err := m.RunParts(context.Background(), func(m *app.Main) error {
		env.URL, env.Store, env.Identity, env.HTTP, env.Clock, env.Main = m.URL, m.Store, m.Identity, m.HTTP, m.Clock, m
		for _, w := range wires {
			w(env)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	return env
}

// AddApp registers an extra app in the demo tenant with the given permissions and
// returns its client id and secret.
func (e *Env) AddApp(applicationPermissions, delegatedPermissions []string) (clientID, secret string) {
	e.T.Helper()
	clientID, secret = uuid.NewString(), "secret-"+uuid.NewString()[:8]
	f := identity.DemoFixture()
	tenant := f.Tenants[0]
	tenant.Apps = []identity.FixtureApp{{ClientID: clientID, ClientSecret: secret, DisplayName: "test app",
		ApplicationPermissions: applicationPermissions, DelegatedPermissions: delegatedPermissions}}
	f.Tenants = []identity.FixtureTenant{tenant}
	if err := e.Identity.ApplyFixture(context.Background(), f); err != nil {
		e.T.Fatalf("add app: %v", err)
	}
	return clientID, secret
}

// AppToken returns an application token of the demo app (every application
// permission the subscription tests need).
func (e *Env) AppToken() string { return e.ClientToken(AppID, AppSecret) }

// ClientToken returns an application token for an app.
func (e *Env) ClientToken(clientID, secret string) string {
	e.T.Helper()
	return e.token(Tenant, graphclient.ClientCredentials(clientID, secret))
}

// UserToken returns a delegated token of the demo delegated app for a work user
// (by UPN) with the given scopes (default: every consented scope).
func (e *Env) UserToken(upn string, scopes ...string) string {
	e.T.Helper()
	return e.DelegatedToken(DelegatedAppID, DelegatedSecret, Tenant, upn, scopes...)
}

// PersonalToken returns a delegated token for the demo personal account (signed in
// with the device code flow, as Entra allows for personal accounts).
func (e *Env) PersonalToken(scopes ...string) string {
	e.T.Helper()
	return e.DelegatedToken(DelegatedAppID, DelegatedSecret, "consumers", SamUPN, scopes...)
}

// DelegatedToken signs a user in through an app: with the password grant on a
// tenant, and where Entra refuses that grant (/consumers, /common: personal accounts)
// with the device code flow, driving the sign-in page over HTTP as a user would.
func (e *Env) DelegatedToken(clientID, secret, tenant, upn string, scopes ...string) string {
	e.T.Helper()
	scope := "https://graph.microsoft.com/.default"
	if len(scopes) > 0 {
		var full []string
		for _, s := range scopes {
			full = append(full, "https://graph.microsoft.com/"+s)
		}
		scope = strings.Join(full, " ")
	}
	if strings.EqualFold(tenant, "consumers") || strings.EqualFold(tenant, "common") {
		return e.deviceCodeToken(clientID, secret, tenant, upn, scope)
	}
	return e.token(tenant, url.Values{"grant_type": {"password"}, "client_id": {clientID}, "client_secret": {secret},
		"username": {upn}, "password": {Password}, "scope": {scope}})
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// deviceCodeToken runs the device code flow: start it, enter the code and sign in on
// /devicelogin, then redeem the device code.
func (e *Env) deviceCodeToken(clientID, secret, tenant, upn, scope string) string {
	e.T.Helper()
	resp, err := http.PostForm(e.URL+"/"+tenant+"/oauth2/v2.0/devicecode", url.Values{"client_id": {clientID}, "scope": {scope}})
	if err != nil {
		e.T.Fatalf("devicecode: %v", err)
	}
	var dc struct {
		DeviceCode      string `json:"device_code"`
		UserCode        string `json:"user_code"`
		VerificationURI string `json:"verification_uri"`
		Error           string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&dc)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.T.Fatalf("devicecode: %d %s", resp.StatusCode, dc.Error)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	page, err := browser.Get(dc.VerificationURI)
	if err != nil {
		e.T.Fatalf("devicelogin: %v", err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		e.T.Fatalf("devicelogin page has no form: %s", body)
	}
	page, err = browser.PostForm(dc.VerificationURI, url.Values{"csrf": {string(m[1])}, "otc": {dc.UserCode}, "username": {upn}, "password": {Password}})
	if err != nil {
		e.T.Fatalf("devicelogin: %v", err)
	}
	body, _ = io.ReadAll(page.Body)
	page.Body.Close()
	if !bytes.Contains(body, []byte(`id="done"`)) {
		e.T.Fatalf("devicelogin sign-in of %s failed: %s", upn, body)
	}
	return e.token(tenant, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {clientID}, "client_secret": {secret}, "device_code": {dc.DeviceCode}})
}

func (e *Env) token(tenant string, form url.Values) string {
	e.T.Helper()
	tok, err := graphclient.FetchToken(context.Background(), nil, graphclient.TokenEndpoint(e.URL, tenant), form)
	if err != nil {
		e.T.Fatalf("token: %v", err)
	}
	return tok.AccessToken
}

// Response is a test response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object (nil when it is not one).
func (r *Response) JSON() map[string]any {
	var m map[string]any
	json.Unmarshal(r.Body, &m)
	return m
}

// ErrorCode returns error.code of a Graph error body.
func (r *Response) ErrorCode() string {
	if e, ok := r.JSON()["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// ErrorMessage returns error.message of a Graph error body.
func (r *Response) ErrorMessage() string {
	if e, ok := r.JSON()["error"].(map[string]any); ok {
		s, _ := e["message"].(string)
		return s
	}
	return ""
}

func (r *Response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// Do sends a request. path is relative to the server (e.g. "/v1.0/users"); body is
// JSON-encoded unless it is a []byte or string (sent as is) or nil.
func (e *Env) Do(method, path, token string, body any, headers ...string) *Response {
	e.T.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(data)
		ctype = "application/json"
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = e.URL + path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// Changes returns the change records of a topic in a tenant.
func (e *Env) Changes(tenant, topic string) []store.Change {
	e.T.Helper()
	var out []store.Change
	err := e.Store.View(context.Background(), func(tx store.Tx) error {
		var err error
		out, err = tx.ListChanges(context.Background(), tenant, topic, 0, 0)
		return err
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return out
}
