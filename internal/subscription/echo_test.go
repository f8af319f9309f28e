package subscription_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/subscription"
	"github.com/graphhook/graphhook/internal/testserver"
)

// TestEcho checks what a create echoes as today's Graph does: the resource without
// its leading slash (casing kept, as the Outlook page's examples show), changeType
// as the caller wrote it, and notificationContentType (null unless sent).
func TestEcho(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{})
	adele := e.UserToken(testserver.AdeleUPN)
	body := e.body("/me/mailFolders('Inbox')/messages", "Created, Updated", "notificationContentType", "application/json")
	got := e.create(t, adele, body)
	if got["resource"] != "me/mailFolders('Inbox')/messages" || got["changeType"] != "Created, Updated" || got["notificationContentType"] != "application/json" {
		t.Errorf("create echoed resource %q changeType %q notificationContentType %v, want %q %q %q", got["resource"], got["changeType"],
			got["notificationContentType"], "me/mailFolders('Inbox')/messages", "Created, Updated", "application/json")
	}
	id := got["id"].(string)
	if sub, _ := e.stored(t, id); sub.ChangeTypes != "created,updated" {
		t.Errorf("stored change types %q, want created,updated (what the pipeline matches)", sub.ChangeTypes)
	}
	r := e.Do("GET", "/v1.0/subscriptions/"+id, adele, nil)
	if r.Status != http.StatusOK || r.JSON()["changeType"] != "Created, Updated" || r.JSON()["resource"] != "me/mailFolders('Inbox')/messages" {
		t.Errorf("GET = %s, want the create's echo", r)
	}
	// The same change types in another spelling are the same subscription.
	dup := e.Do("POST", "/v1.0/subscriptions", adele, e.body("me/mailFolders('Inbox')/messages", "updated,created"))
	if dup.Status != http.StatusConflict {
		t.Errorf("POST the same subscription again = %s, want 409", dup)
	}
	// An SDK sends the object back as it read it.
	patch := map[string]any{"expirationDateTime": e.body("", "")["expirationDateTime"], "changeType": "Created, Updated",
		"resource": "me/mailFolders('Inbox')/messages", "notificationContentType": "application/json"}
	if p := e.Do("PATCH", "/v1.0/subscriptions/"+id, adele, patch); p.Status != http.StatusOK {
		t.Errorf("PATCH with the echoed properties = %s, want 200", p)
	}
	plain := e.create(t, e.AppToken(), e.body("users", "updated"))
	if v, ok := plain["notificationContentType"]; !ok || v != nil {
		t.Errorf("notificationContentType without one sent = %v (present %v), want null", v, ok)
	}
	for _, ct := range []string{"application/json", "Application/JSON"} {
		r := e.Do("POST", "/v1.0/subscriptions", e.AppToken(), e.body("groups", "updated", "notificationContentType", ct))
		if r.Status != http.StatusCreated || r.JSON()["notificationContentType"] != "application/json" {
			t.Errorf("notificationContentType %q = %s, want 201 with application/json", ct, r)
		}
		if r.Status == http.StatusCreated {
			e.Do("DELETE", "/v1.0/subscriptions/"+r.JSON()["id"].(string), e.AppToken(), nil)
		}
	}
}

// TestRichOutlookLifetime: Outlook subscriptions with resource data live a day at
// most, at creation and at renewal; without resource data their usual maximum holds.
func TestRichOutlookLifetime(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{})
	adele := e.UserToken(testserver.AdeleUPN)
	cert := certificate(t, 2048)
	in := func(d time.Duration) string { return graph.FormatTime(e.Clock.Now().Add(d)) }
	sub := e.create(t, adele, e.body("me/events?$select=subject", "created", "includeResourceData", true,
		"encryptionCertificate", cert, "encryptionCertificateId", "k", "expirationDateTime", in(20*time.Hour)))
	r := e.Do("PATCH", "/v1.0/subscriptions/"+sub["id"].(string), adele, map[string]any{"expirationDateTime": in(30 * time.Hour)})
	if r.Status != http.StatusBadRequest || r.ErrorMessage() != "Subscription expiration can only be 1440 minutes in the future." {
		t.Errorf("PATCH a rich Outlook subscription to 30 hours = %s, want 400 limited to 1440 minutes", r)
	}
	plain := e.create(t, adele, e.body("me/events", "updated", "expirationDateTime", in(30*time.Hour)))
	if r := e.Do("PATCH", "/v1.0/subscriptions/"+plain["id"].(string), adele, map[string]any{"expirationDateTime": in(48 * time.Hour)}); r.Status != http.StatusOK {
		t.Errorf("PATCH an Outlook subscription without resource data to 48 hours = %s, want 200", r)
	}
}
