package identity_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/testserver"
)

// FuzzParseFixture reads arbitrary YAML as a tenant fixture: never a panic, and a
// refusal names the file, as an operator reading the error needs.
func FuzzParseFixture(f *testing.F) {
	demo, err := os.ReadFile("demo.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(demo)
	for _, s := range []string{
		"tenants:\n- id: 6f1c2d3e-0000-4000-8000-000000000009\n  domain: x.onmicrosoft.com\n  users:\n  - userPrincipalName: a@x.onmicrosoft.com\n    password: p\n",
		"tenants: []\n", "tenants:\n- {}\n", "tenants: 1\n", "apps: []\n", "---\n", "---\n...\n", "# only a comment\n", "&a [*a]\n",
		"tenants:\n- id: x\n  groups:\n  - id: y\n    members: [z]\n", "tenants:\n- &t {id: a}\n- *t\n", "\t", "{", "",
	} {
		f.Add([]byte(s))
	}
	const name = "fuzz.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		type result struct {
			fx  *identity.Fixture
			err error
		}
		done := make(chan result, 1)
		go func() {
			fx, err := identity.ParseFixture(bytes.NewReader(data), name)
			done <- result{fx, err}
		}()
		// The fuzzer has no timeout of its own: a parse that never ends would only
		// stall it, so it is a failure here, with the input that caused it.
		timer := time.NewTimer(5 * time.Second)
		defer timer.Stop()
		var fx *identity.Fixture
		var err error
		select {
		case r := <-done:
			fx, err = r.fx, r.err
		case <-timer.C:
			t.Fatalf("ParseFixture(%q) did not return within 5s", data)
		}
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("ParseFixture(%q) error = %q, want it to name %s", data, err, name)
			}
			return
		}
		if fx == nil {
			t.Fatalf("ParseFixture(%q) = nil, nil", data)
		}
	})
}

// FuzzTokenForm posts arbitrary form bodies to a tenant's token endpoint: never a 5xx
// or a panic; a 200 carries a token, and a 4xx is an Entra-style JSON error.
func FuzzTokenForm(f *testing.F) {
	forms := []url.Values{
		{"grant_type": {"client_credentials"}, "client_id": {testserver.AppID}, "client_secret": {testserver.AppSecret}, "scope": {"https://graph.microsoft.com/.default"}},
		{"grant_type": {"password"}, "client_id": {testserver.DelegatedAppID}, "client_secret": {testserver.DelegatedSecret},
			"username": {testserver.AdeleUPN}, "password": {testserver.Password}, "scope": {"https://graph.microsoft.com/Mail.Read offline_access"}},
		{"grant_type": {"refresh_token"}, "client_id": {testserver.DelegatedAppID}, "refresh_token": {"x.y.z"}, "scope": {"openid"}},
		{"grant_type": {"authorization_code"}, "client_id": {testserver.DelegatedAppID}, "code": {"c"}, "redirect_uri": {"http://localhost"}, "code_verifier": {"v"}},
		{"grant_type": {"client_credentials"}, "client_id": {testserver.AppID, testserver.AppID}, "client_secret": {""}, "scope": {""}},
		{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"a"}},
		{},
	}
	for _, tenant := range []string{testserver.Tenant, "contoso.onmicrosoft.com", "common", "organizations", "consumers", "nope"} {
		for _, form := range forms {
			f.Add(tenant, []byte(form.Encode()))
		}
	}
	f.Add(testserver.Tenant, []byte("%zz=1&grant_type=%"))
	f.Add(testserver.Tenant, []byte(";;&&=="))
	f.Add("%2F", []byte("grant_type=client_credentials"))
	f.Add("..", []byte(""))
	env := testserver.New(f)
	client := &http.Client{}
	f.Fuzz(func(t *testing.T, tenant string, body []byte) {
		if tenant == "" {
			return // "//oauth2/v2.0/token" is the home page's path, not a token endpoint
		}
		req, err := http.NewRequest(http.MethodPost, env.URL+"/"+url.PathEscape(tenant)+"/oauth2/v2.0/token", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("POST token: %v", err)
		}
		defer resp.Body.Close()
		var out struct {
			AccessToken string `json:"access_token"`
			Error       string `json:"error"`
			Description string `json:"error_description"`
			ErrorCodes  []int  `json:"error_codes"`
		}
		decodeErr := json.NewDecoder(resp.Body).Decode(&out)
		switch {
		case resp.StatusCode == http.StatusOK:
			if decodeErr != nil || out.AccessToken == "" {
				t.Fatalf("POST /%s/oauth2/v2.0/token %q = 200 without an access_token (%v)", tenant, body, decodeErr)
			}
		case resp.StatusCode == http.StatusNotFound && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"):
			// A tenant segment that does not route to the token endpoint at all
			// ("..", an empty one) meets the router's plain 404, not Entra.
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
			if decodeErr != nil || out.Error == "" || out.Description == "" || len(out.ErrorCodes) == 0 {
				t.Fatalf("POST /%s/oauth2/v2.0/token %q = %d, want an Entra error (error, error_description, error_codes); decode: %v %+v",
					tenant, body, resp.StatusCode, decodeErr, out)
			}
		default:
			t.Fatalf("POST /%s/oauth2/v2.0/token %q = %d, want 200 or a 4xx", tenant, body, resp.StatusCode)
		}
	})
}
