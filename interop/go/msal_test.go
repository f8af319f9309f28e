package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

// MSAL for Go's public client signs Adele in with the device code flow and with the
// authorization code flow (PKCE, loopback redirect URI), the test acting as the person
// at the browser.

// delegatedScopes is what a CLI asks for; MSAL adds openid, profile and offline_access.
var delegatedScopes = []string{"User.Read"}

// signInByDeviceCode runs the device code flow of app as Adele and returns her access
// token.
func signInByDeviceCode(t *testing.T, ctx context.Context, app public.Client) string {
	t.Helper()
	dc, err := app.AcquireTokenByDeviceCode(ctx, delegatedScopes)
	if err != nil {
		t.Fatalf("AcquireTokenByDeviceCode: %v", err)
	}
	if dc.Result.UserCode == "" || dc.Result.VerificationURL == "" {
		t.Fatalf("device code result = %+v, want a user code and a verification URL", dc.Result)
	}
	t.Logf("device code message: %s", dc.Result.Message)
	p := newPerson(adeleUPN, password, dc.Result.UserCode)
	if _, err := p.signIn(ctx, dc.Result.VerificationURL); err != nil {
		t.Fatal(err)
	}
	res, err := dc.AuthenticationResult(ctx)
	if err != nil {
		t.Fatalf("device code AuthenticationResult after signing in: %v (sign-in steps: %s)", err, strings.Join(p.steps, " → "))
	}
	checkAdele(t, res)
	return res.AccessToken
}

// signInByAuthCode runs the interactive (authorization code with PKCE) flow of app as
// Adele, the test driving the sign-in page where MSAL would open a browser.
func signInByAuthCode(t *testing.T, ctx context.Context, app public.Client) string {
	t.Helper()
	var p *person
	openURL := func(authURL string) error {
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		if q := u.Query(); q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
			return fmt.Errorf("authorization URL %s: no PKCE challenge", authURL)
		}
		// The browser ends on MSAL's loopback listener, which takes the code.
		p = newPerson(adeleUPN, password, "")
		p.deliver = true
		back, err := p.signIn(ctx, authURL)
		if err != nil {
			return err
		}
		if back == nil {
			return p.fail("the sign-in ended without reaching the app's redirect URI")
		}
		return nil
	}
	res, err := app.AcquireTokenInteractive(ctx, delegatedScopes, public.WithOpenURL(openURL), public.WithRedirectURI("http://localhost"))
	if err != nil {
		t.Fatalf("AcquireTokenInteractive: %v", err)
	}
	checkAdele(t, res)
	return res.AccessToken
}

func checkAdele(t *testing.T, res public.AuthResult) {
	t.Helper()
	if res.AccessToken == "" {
		t.Errorf("AuthResult has no access token")
	}
	if !strings.EqualFold(res.Account.PreferredUsername, adeleUPN) {
		t.Errorf("AuthResult.Account.PreferredUsername = %q, want %q", res.Account.PreferredUsername, adeleUPN)
	}
	if !strings.EqualFold(res.IDToken.TenantID, tenantID) {
		t.Errorf("AuthResult.IDToken.TenantID = %q, want the tenant %s", res.IDToken.TenantID, tenantID)
	}
	if res.IDToken.Oid == "" || !strings.EqualFold(res.IDToken.Oid, adeleID) {
		t.Errorf("AuthResult.IDToken.Oid = %q, want Adele's id %s", res.IDToken.Oid, adeleID)
	}
}

// getMe calls GET {base}/me with token and checks it is Adele.
func getMe(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s/me: %v", base, err)
	}
	defer resp.Body.Close()
	var me struct {
		ID                string `json:"id"`
		UserPrincipalName string `json:"userPrincipalName"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/me = %s (%v), want 200 with Adele", base, resp.Status, err)
	}
	if !strings.EqualFold(me.UserPrincipalName, adeleUPN) {
		t.Errorf("GET %s/me: userPrincipalName %q, want %q", base, me.UserPrincipalName, adeleUPN)
	}
}

func TestProxyMSALDeviceCode(t *testing.T) {
	s := graphhook(t)
	s.proxied(t)
	ctx := testContext(t, 90*time.Second)
	app, err := public.New(publicAppID, public.WithAuthority(entraAuthority+tenantDomain))
	if err != nil {
		t.Fatalf("public.New: %v", err)
	}
	getMe(t, ctx, graphV1BaseURL, signInByDeviceCode(t, ctx, app))
}

func TestProxyMSALAuthCode(t *testing.T) {
	s := graphhook(t)
	s.proxied(t)
	ctx := testContext(t, 90*time.Second)
	app, err := public.New(publicAppID, public.WithAuthority(entraAuthority+tenantDomain))
	if err != nil {
		t.Fatalf("public.New: %v", err)
	}
	getMe(t, ctx, graphV1BaseURL, signInByAuthCode(t, ctx, app))
}

// directPublicClient is MSAL's public client configured for graphhook's HTTPS port:
// the authority and instance discovery turned off.
func directPublicClient(t *testing.T, s server) public.Client {
	t.Helper()
	app, err := public.New(publicAppID, public.WithAuthority(s.authorityHost()+tenantDomain), public.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatalf("public.New: %v", err)
	}
	return app
}

func TestDirectMSALDeviceCode(t *testing.T) {
	s := graphhook(t)
	s.direct(t)
	ctx := testContext(t, 90*time.Second)
	getMe(t, ctx, s.httpsURL+"/v1.0", signInByDeviceCode(t, ctx, directPublicClient(t, s)))
}

func TestDirectMSALAuthCode(t *testing.T) {
	s := graphhook(t)
	s.direct(t)
	ctx := testContext(t, 90*time.Second)
	getMe(t, ctx, s.httpsURL+"/v1.0", signInByAuthCode(t, ctx, directPublicClient(t, s)))
}
