package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/identity"
)

const (
	demoDelegatedAppID  = "11111111-0000-4000-8000-000000000002"
	demoDelegatedSecret = "demo-delegated-secret"
)

// tokenForm posts a token request and returns the status and the decoded body.
func tokenForm(t *testing.T, m *app.Main, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(m.URL+"/"+demoTenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// signIn signs a demo user in with the password grant and returns its refresh token.
func signIn(t *testing.T, m *app.Main, upn, password string) string {
	t.Helper()
	status, out := tokenForm(t, m, url.Values{"grant_type": {"password"}, "client_id": {demoDelegatedAppID}, "client_secret": {demoDelegatedSecret},
		"username": {upn}, "password": {password}, "scope": {"https://graph.microsoft.com/Mail.Read offline_access"}})
	rt, _ := out["refresh_token"].(string)
	if status != http.StatusOK || rt == "" {
		t.Fatalf("password grant for %s = %d %v, want 200 with a refresh token", upn, status, out)
	}
	return rt
}

// refresh redeems a refresh token and returns the status and the AADSTS code of an error.
func refresh(t *testing.T, m *app.Main, rt string) (int, float64) {
	t.Helper()
	status, out := tokenForm(t, m, url.Values{"grant_type": {"refresh_token"}, "client_id": {demoDelegatedAppID}, "client_secret": {demoDelegatedSecret},
		"refresh_token": {rt}})
	var code float64
	if codes, ok := out["error_codes"].([]any); ok && len(codes) > 0 {
		code, _ = codes[0].(float64)
	}
	return status, code
}

// TestRefreshFollowsTheAccount: a refresh token stops working when its user is
// disabled or deleted, or changes password through the API or the fixture; re-applying
// an unchanged fixture keeps it working.
func TestRefreshFollowsTheAccount(t *testing.T) {
	t.Parallel()
	m := start(t, app.Config{})
	admin := appToken(t, m.URL)
	const (
		bruno = "22222222-0000-4000-8000-000000000002"
		chen  = "22222222-0000-4000-8000-000000000003"
	)
	// Disabled through the API.
	rt := signIn(t, m, "bruno@contoso.onmicrosoft.com", "Passw0rd!")
	if status, code := refresh(t, m, rt); status != 200 {
		t.Fatalf("refresh before any change = %d (AADSTS%v), want 200", status, code)
	}
	call(t, m.URL, admin, "PATCH", "/v1.0/users/"+bruno, map[string]any{"accountEnabled": false}, http.StatusNoContent)
	if status, code := refresh(t, m, rt); status != 400 || code != 50057 {
		t.Errorf("refresh for a disabled user = %d AADSTS%v, want 400 AADSTS50057", status, code)
	}

	// Password changed through the API.
	rt = signIn(t, m, "chen@contoso.onmicrosoft.com", "Passw0rd!")
	call(t, m.URL, admin, "PATCH", "/v1.0/users/"+chen, map[string]any{"passwordProfile": map[string]any{"password": "N3w-Passw0rd!"}}, http.StatusNoContent)
	if status, code := refresh(t, m, rt); status != 400 || code != 50173 {
		t.Errorf("refresh after a password change through the API = %d AADSTS%v, want 400 AADSTS50173", status, code)
	}
	if rt2 := signIn(t, m, "chen@contoso.onmicrosoft.com", "N3w-Passw0rd!"); true {
		if status, code := refresh(t, m, rt2); status != 200 {
			t.Errorf("refresh of a token issued after the change = %d AADSTS%v, want 200", status, code)
		}
	}

	// The fixture: unchanged keeps tokens, a new password revokes them.
	rt = signIn(t, m, "adele@contoso.onmicrosoft.com", "Passw0rd!")
	fixture := identity.DemoFixture()
	if err := m.Identity.ApplyFixture(context.Background(), fixture); err != nil {
		t.Fatal(err)
	}
	if status, code := refresh(t, m, rt); status != 200 {
		t.Errorf("refresh after re-applying an unchanged fixture = %d AADSTS%v, want 200", status, code)
	}
	for i := range fixture.Tenants[0].Users {
		if fixture.Tenants[0].Users[i].UserPrincipalName == "adele@contoso.onmicrosoft.com" {
			fixture.Tenants[0].Users[i].Password = "Fixture-Passw0rd!"
		}
	}
	if err := m.Identity.ApplyFixture(context.Background(), fixture); err != nil {
		t.Fatal(err)
	}
	if status, code := refresh(t, m, rt); status != 400 || code != 50173 {
		t.Errorf("refresh after the fixture changed the password = %d AADSTS%v, want 400 AADSTS50173", status, code)
	}

	// Deleted.
	rt = signIn(t, m, "dana@contoso.onmicrosoft.com", "Passw0rd!")
	call(t, m.URL, admin, "DELETE", "/v1.0/users/dana@contoso.onmicrosoft.com", nil, http.StatusNoContent)
	if status, code := refresh(t, m, rt); status != 400 || code != 50034 {
		t.Errorf("refresh for a deleted user = %d AADSTS%v, want 400 AADSTS50034", status, code)
	}
}
