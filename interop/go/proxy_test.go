package interop

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// In proxy mode an app changes nothing: the process has HTTPS_PROXY=graphhook's plain
// HTTP port and trusts graphhook's CA through SSL_CERT_FILE; every client below is built
// with Microsoft's defaults.

func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// graphError spells out an msgraph-sdk-go error with Graph's code and message.
func graphError(err error) string {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) && oe.GetErrorEscaped() != nil {
		e := oe.GetErrorEscaped()
		return fmt.Sprintf("%d %s: %s", oe.ResponseStatusCode, deref(e.GetCode()), deref(e.GetMessage()))
	}
	return err.Error()
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func ptr[T any](v T) *T { return &v }

func randomSuffix() string { return rand.Text()[:10] }

// TestProxyClientSecretGraphSDK: azidentity's ClientSecretCredential and msgraph-sdk-go
// with default settings list users, subscribe to Adele's messages, create a message and
// receive its notification.
func TestProxyClientSecretGraphSDK(t *testing.T) {
	s := graphhook(t)
	s.proxied(t)
	ctx := testContext(t, 90*time.Second)

	cred, err := azidentity.NewClientSecretCredential(tenantID, appID, appSecret, nil)
	if err != nil {
		t.Fatalf("NewClientSecretCredential: %v", err)
	}
	client, err := msgraphsdk.NewGraphServiceClientWithCredentials(cred, []string{graphScope})
	if err != nil {
		t.Fatalf("NewGraphServiceClientWithCredentials: %v", err)
	}

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

	hook := newReceiver(t)
	clientState := "interop-" + randomSuffix()
	sub := models.NewSubscription()
	sub.SetChangeType(ptr("created"))
	sub.SetNotificationUrl(ptr(hook.url))
	sub.SetResource(ptr("users/" + adeleID + "/messages"))
	sub.SetExpirationDateTime(ptr(time.Now().Add(time.Hour)))
	sub.SetClientState(ptr(clientState))
	created, err := client.Subscriptions().Post(ctx, sub, nil)
	if err != nil {
		t.Fatalf("POST /subscriptions: %s", graphError(err))
	}
	if got := hook.validations.Load(); got < 1 {
		t.Errorf("validation handshakes before the subscription was created = %d, want at least 1", got)
	}
	subID := deref(created.GetId())
	t.Cleanup(func() {
		// Leave no subscription behind on the shared server.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Subscriptions().BySubscriptionId(subID).Delete(ctx, nil); err != nil {
			t.Errorf("DELETE /subscriptions/%s: %s", subID, graphError(err))
		}
	})

	msg := models.NewMessage()
	msg.SetSubject(ptr("interop " + clientState))
	body := models.NewItemBody()
	body.SetContentType(ptr(models.TEXT_BODYTYPE))
	body.SetContent(ptr("sent through graphhook's proxy by msgraph-sdk-go"))
	msg.SetBody(body)
	m, err := client.Users().ByUserId(adeleID).Messages().Post(ctx, msg, nil)
	if err != nil {
		t.Fatalf("POST /users/%s/messages: %s", adeleID, graphError(err))
	}

	n := hook.wait(t, subID, 60*time.Second)
	if n.ChangeType != "created" || n.ClientState != clientState || n.ResourceData.ID != deref(m.GetId()) || !strings.EqualFold(n.TenantID, tenantID) {
		t.Errorf("notification = %+v, want changeType created, clientState %q, resourceData.id %q, tenantId %s", n, clientState, deref(m.GetId()), tenantID)
	}
}

// TestProxyWrongSecret: Entra's error for a wrong client secret reaches the app through
// azidentity, and through msgraph-sdk-go, as AADSTS7000215.
func TestProxyWrongSecret(t *testing.T) {
	s := graphhook(t)
	s.proxied(t)
	ctx := testContext(t, 60*time.Second)

	cred, err := azidentity.NewClientSecretCredential(tenantID, appID, "not-the-secret", nil)
	if err != nil {
		t.Fatalf("NewClientSecretCredential: %v", err)
	}
	_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graphScope}})
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) {
		t.Fatalf("GetToken with a wrong secret = %v, want an *azidentity.AuthenticationFailedError", err)
	}
	if !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("GetToken with a wrong secret = %v, want AADSTS7000215 in it", err)
	}
	if afe.RawResponse == nil || afe.RawResponse.StatusCode != 401 {
		t.Errorf("GetToken with a wrong secret: response %v, want 401", afe.RawResponse)
	}

	client, err := msgraphsdk.NewGraphServiceClientWithCredentials(cred, []string{graphScope})
	if err != nil {
		t.Fatalf("NewGraphServiceClientWithCredentials: %v", err)
	}
	if _, err := client.Users().Get(ctx, nil); err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("GET /users with a wrong secret: error %v, want AADSTS7000215 in it", err)
	}
}
