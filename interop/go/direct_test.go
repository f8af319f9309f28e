package interop

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	auth "github.com/microsoft/kiota-authentication-azure-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
)

// In direct mode an app talks to graphhook's HTTPS port with the options Microsoft's
// libraries document for other clouds: the authority host, instance discovery turned
// off (it would ask login.microsoftonline.com about an authority it does not know), the
// SDK's base URL and the hosts its token may be sent to. The CA is trusted through
// SSL_CERT_FILE and no proxy is set.

// direct checks that the process environment has no proxy and trusts graphhook's CA.
func (s server) direct(t *testing.T) {
	t.Helper()
	for _, v := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		if p := os.Getenv(v); p != "" {
			t.Fatalf("%s = %q: direct mode runs without a proxy", v, p)
		}
	}
	if f := os.Getenv("SSL_CERT_FILE"); f != s.caFile {
		t.Fatalf("SSL_CERT_FILE = %q, want graphhook's CA %q", f, s.caFile)
	}
}

// directCredential is a ClientSecretCredential configured for graphhook's HTTPS port.
func directCredential(t *testing.T, s server, secret string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenantID, appID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: s.authorityHost()}},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("NewClientSecretCredential: %v", err)
	}
	return cred
}

// TestDirectClientSecretGraphSDK: azidentity and msgraph-sdk-go list users against
// graphhook's HTTPS port.
func TestDirectClientSecretGraphSDK(t *testing.T) {
	s := graphhook(t)
	s.direct(t)
	ctx := testContext(t, 60*time.Second)

	cred := directCredential(t, s, appSecret)
	authProvider, err := auth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{graphScope}, []string{s.hostname(t)})
	if err != nil {
		t.Fatalf("NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts: %v", err)
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapter(authProvider)
	if err != nil {
		t.Fatalf("NewGraphRequestAdapter: %v", err)
	}
	adapter.SetBaseUrl(s.httpsURL + "/v1.0")
	client := msgraphsdk.NewGraphServiceClient(adapter)

	users, err := client.Users().Get(ctx, nil)
	if err != nil {
		t.Fatalf("GET /users: %s", graphError(err))
	}
	var upns []string
	for _, u := range users.GetValue() {
		upns = append(upns, deref(u.GetUserPrincipalName()))
	}
	if !slices.Contains(upns, adeleUPN) {
		t.Fatalf("GET /users = %v, want %s among them", upns, adeleUPN)
	}
}

// TestDirectWrongSecret: a wrong client secret is AADSTS7000215 in direct mode too.
func TestDirectWrongSecret(t *testing.T) {
	s := graphhook(t)
	s.direct(t)
	ctx := testContext(t, 60*time.Second)
	_, err := directCredential(t, s, "not-the-secret").GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graphScope}})
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("GetToken with a wrong secret = %v, want an *azidentity.AuthenticationFailedError with AADSTS7000215", err)
	}
}
