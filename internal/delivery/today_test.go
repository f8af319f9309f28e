package delivery_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/certgen"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/wait"
	gh "github.com/graphhook/graphhook/receiver"
)

// End-to-end tests of the rules today's Graph applies where it accepts more than
// its early change-notification page: each subscribes through the API, makes the
// change through the workload's API and reads what a loopback receiver got.

// onlyItem waits for the receiver's first notification item and checks, after the
// queue drained, that it was the only one.
func onlyItem(t *testing.T, h *harness, r *receiver) map[string]any {
	t.Helper()
	r.waitItems(t, 1)
	h.settle(t)
	if items := r.items(t); len(items) != 1 {
		t.Fatalf("received %d items, want 1: %v", len(items), items)
	}
	return r.items(t)[0]
}

// delegatedToken signs upn in through a new app consented to the delegated
// permissions perms only.
func delegatedToken(h *harness, upn string, perms ...string) string {
	id, secret := h.AddApp(nil, perms)
	return h.DelegatedToken(id, secret, testserver.Tenant, upn)
}

// appWith is a token of a new app holding the application permissions perms only.
func appWith(h *harness, perms ...string) string {
	id, secret := h.AddApp(perms, nil)
	return h.ClientToken(id, secret)
}

// TestCallRecordUpdatedOnly: Microsoft's own call-record example subscribes to
// "updated" only, and Graph's first notification comes when the record is
// generated.
func TestCallRecordUpdatedOnly(t *testing.T) {
	h := setup(t, testConfig())
	r := newReceiver(t)
	h.subscribe(t, h.AppToken(), map[string]any{"changeType": "updated", "notificationUrl": r.URL, "resource": "/communications/callRecords"})
	rec := h.must(t, "POST", "/_graphhook/tenants/"+testserver.Tenant+"/communications/callRecords", testserver.AdminKey,
		map[string]any{"type": "groupCall", "modalities": []any{"audio"}}, http.StatusCreated)
	item := onlyItem(t, h, r)
	if item["changeType"] != "created" || !strings.HasSuffix(item["resource"].(string), rec["id"].(string)) {
		t.Errorf("notification = %v, want changeType created on call record %v", item, rec["id"])
	}
	h.must(t, "PATCH", "/_graphhook/tenants/"+testserver.Tenant+"/communications/callRecords/"+rec["id"].(string), testserver.AdminKey,
		map[string]any{"modalities": []any{"audio", "video"}}, http.StatusOK)
	items := r.waitItems(t, 2)
	if items[1]["changeType"] != "updated" {
		t.Errorf("second notification changeType = %v, want updated", items[1]["changeType"])
	}
}

// richReceiver is a loopback endpoint behind the receiver package: it validates
// the tokens and decrypts the resource data with the key of certificate "cert-1".
type richReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []gh.Notification
	accepted wait.Signal
}

func newRichReceiver(t *testing.T, h *harness, key *rsa.PrivateKey, appIDs ...string) *richReceiver {
	t.Helper()
	rr := &richReceiver{accepted: wait.NewSignal()}
	handler, err := gh.NewHandler(gh.Config{
		OnNotifications: func(ctx context.Context, batch []gh.Notification) error {
			rr.mu.Lock()
			rr.got = append(rr.got, batch...)
			rr.mu.Unlock()
			rr.accepted.Fire()
			return nil
		},
		ClientState:    "rich",
		DecryptionKeys: map[string]*rsa.PrivateKey{"cert-1": key},
		AppIDs:         appIDs,
		JWKSURL:        h.URL + "/common/discovery/v2.0/keys",
	})
	if err != nil {
		t.Fatal(err)
	}
	rr.Server = httptest.NewServer(handler)
	t.Cleanup(rr.Close)
	return rr
}

// first waits for the first decrypted notification.
func (rr *richReceiver) first(t *testing.T) gh.Notification {
	t.Helper()
	some := func() bool {
		rr.mu.Lock()
		defer rr.mu.Unlock()
		return len(rr.got) > 0
	}
	if !wait.On(rr.accepted, 10*time.Second, some) {
		t.Fatal("no rich notification accepted by the receiver package")
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.got[0]
}

// TestRichOutlook: messages, events and contacts with includeResourceData and
// $select: encrypted with the subscription's certificate like chat messages, and
// decrypting to the selected properties only.
func TestRichOutlook(t *testing.T) {
	h := setup(t, testConfig())
	cert, err := certgen.New(certgen.Options{CommonName: "app"})
	if err != nil {
		t.Fatal(err)
	}
	adele := h.UserToken(testserver.AdeleUPN)
	for _, tc := range []struct {
		name, resource, create string
		body                   map[string]any
		want                   map[string]any
	}{
		{"message", "me/messages?$select=subject,importance", "/v1.0/me/messages",
			map[string]any{"subject": "Quarterly numbers", "importance": "high", "body": map[string]any{"contentType": "text", "content": "secret body"}},
			map[string]any{"subject": "Quarterly numbers", "importance": "high"}},
		{"event", "me/events?$select=subject", "/v1.0/me/events",
			map[string]any{"subject": "Planning", "start": map[string]any{"dateTime": "2030-01-01T10:00:00", "timeZone": "UTC"}, "end": map[string]any{"dateTime": "2030-01-01T11:00:00", "timeZone": "UTC"}},
			map[string]any{"subject": "Planning"}},
		{"contact", "me/contacts?$select=givenName,surname", "/v1.0/me/contacts",
			map[string]any{"givenName": "Pat", "surname": "Lee", "companyName": "Fabrikam"},
			map[string]any{"givenName": "Pat", "surname": "Lee"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rr := newRichReceiver(t, h, cert.Key, testserver.DelegatedAppID)
			h.subscribe(t, adele, map[string]any{"changeType": "created", "notificationUrl": rr.URL, "resource": tc.resource,
				"clientState": "rich", "includeResourceData": true, "encryptionCertificate": cert.Base64(), "encryptionCertificateId": "cert-1"})
			h.must(t, "POST", tc.create, adele, tc.body, http.StatusCreated)
			n := rr.first(t)
			var got map[string]any
			if err := json.Unmarshal(n.Data, &got); err != nil {
				t.Fatalf("decrypted data %q: %v", n.Data, err)
			}
			if len(got) != len(tc.want) {
				t.Errorf("decrypted data = %v, want exactly %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("decrypted %s = %v, want %v (data %v)", k, got[k], v, got)
				}
			}
		})
	}
}

// TestMailReadBasicApp: an application holding only Mail.ReadBasic.All (the
// application form of Mail.ReadBasic) subscribes to a user's messages.
func TestMailReadBasicApp(t *testing.T) {
	h := setup(t, testConfig())
	r := newReceiver(t)
	h.subscribe(t, appWith(h, "Mail.ReadBasic.All"), map[string]any{"changeType": "created", "notificationUrl": r.URL,
		"resource": "users/" + testserver.Adele + "/messages"})
	h.must(t, "POST", "/v1.0/users/"+testserver.Adele+"/messages", h.AppToken(), map[string]any{"subject": "Hello"}, http.StatusCreated)
	if item := onlyItem(t, h, r); item["changeType"] != "created" {
		t.Errorf("notification = %v, want created", item)
	}
}

// TestDelegatedTeamsMessages: a signed-in member subscribes to a chat's and a
// channel's messages with the delegated permissions Graph documents; a user who is
// not a member is refused with the permission that would do.
func TestDelegatedTeamsMessages(t *testing.T) {
	h := setup(t, testConfig())
	adele := h.UserToken(testserver.AdeleUPN)
	c := h.must(t, "POST", "/v1.0/chats", adele, map[string]any{"chatType": "group", "topic": "Crew",
		"members": []any{chatMember(testserver.Adele), chatMember(testserver.Bruno)}}, http.StatusCreated)
	chat := c["id"].(string)
	team := h.must(t, "PUT", "/v1.0/groups/"+testserver.SalesGroup+"/team", adele, map[string]any{}, http.StatusCreated)
	channel := team["internalId"].(string)
	chatPath := "chats/" + chat + "/messages"
	channelPath := "teams/" + testserver.SalesGroup + "/channels/" + channel + "/messages"
	for _, tc := range []struct {
		name, resource, post, perm string
	}{
		{"chat with Chat.Read", chatPath, "/v1.0/" + chatPath, "Chat.Read"},
		{"chat with Chat.ReadWrite", chatPath, "/v1.0/" + chatPath, "Chat.ReadWrite"},
		{"my chats with Chat.Read", "me/chats/getAllMessages", "/v1.0/" + chatPath, "Chat.Read"},
		{"channel with ChannelMessage.Read.All", channelPath, "/v1.0/" + channelPath, "ChannelMessage.Read.All"},
	} {
		// The receivers live as long as the test: earlier subscriptions still hear of
		// later messages.
		r := newReceiver(t)
		t.Run(tc.name, func(t *testing.T) {
			id := h.subscribe(t, delegatedToken(h, testserver.BrunoUPN, tc.perm), map[string]any{"changeType": "created",
				"notificationUrl": r.URL, "resource": tc.resource})
			h.must(t, "POST", tc.post, adele, text("Hi "+tc.name), http.StatusCreated)
			if item := onlyItem(t, h, r); item["subscriptionId"] != id || item["changeType"] != "created" {
				t.Errorf("notification = %v, want created for %s", item, id)
			}
		})
	}
	for _, tc := range []struct {
		resource, perm, reason string
	}{
		{chatPath, "Chat.Read", "The signed-in user is not a member of the chat; without a signed-in user it requires one of the application permissions 'ChatMessage.Read.Chat, Chat.Read.All, Chat.ReadWrite.All'."},
		{channelPath, "ChannelMessage.Read.All", "The signed-in user is not a member of the team; without a signed-in user it requires one of the application permissions 'ChannelMessage.Read.Group, ChannelMessage.Read.All'."},
	} {
		resp := h.Do("POST", "/v1.0/subscriptions", delegatedToken(h, "chen@contoso.onmicrosoft.com", tc.perm), map[string]any{
			"changeType": "created", "notificationUrl": newReceiver(t).URL, "resource": tc.resource,
			"expirationDateTime": h.Clock.Now().Add(40 * time.Minute).UTC().Format(time.RFC3339)})
		want := "Operation: Create; Exception: [Status Code: Forbidden; Reason: Access denied. " + tc.reason + "]"
		if resp.Status != http.StatusForbidden || resp.ErrorMessage() != want {
			t.Errorf("Chen subscribes to %s = %s, want 403 %q", tc.resource, resp, want)
		}
	}
}

// TestSearchAndModel: $search narrows channel and chat message notifications to
// those containing the keyword; model=A and model=B are accepted on the
// tenant-wide paths and change nothing else.
func TestSearchAndModel(t *testing.T) {
	h := setup(t, testConfig())
	app, adele := h.AppToken(), h.UserToken(testserver.AdeleUPN)
	c := h.must(t, "POST", "/v1.0/chats", adele, map[string]any{"chatType": "group", "topic": "Crew",
		"members": []any{chatMember(testserver.Adele), chatMember(testserver.Bruno)}}, http.StatusCreated)
	chat := c["id"].(string)
	team := h.must(t, "PUT", "/v1.0/groups/"+testserver.SalesGroup+"/team", adele, map[string]any{}, http.StatusCreated)
	channel := team["internalId"].(string)
	chatPath := "chats/" + chat + "/messages"
	channelPath := "teams/" + testserver.SalesGroup + "/channels/" + channel + "/messages"
	search := map[string]*receiver{chatPath: newReceiver(t), channelPath: newReceiver(t)}
	for path, r := range search {
		h.subscribe(t, app, map[string]any{"changeType": "created", "notificationUrl": r.URL, "resource": path + "?$search=launch"})
	}
	all := map[string]*receiver{"teams/getAllMessages?model=A": newReceiver(t), "chats/getAllMessages?model=B": newReceiver(t)}
	for path, r := range all {
		h.subscribe(t, app, map[string]any{"changeType": "created", "notificationUrl": r.URL, "resource": path})
	}
	for _, path := range []string{chatPath, channelPath} {
		h.must(t, "POST", "/v1.0/"+path, adele, text("Lunch at noon"), http.StatusCreated)
		h.must(t, "POST", "/v1.0/"+path, adele, text("LAUNCH at noon"), http.StatusCreated)
	}
	h.settle(t)
	for path, r := range search {
		if n := len(r.items(t)); n != 1 {
			t.Errorf("%s?$search=launch got %d notifications, want 1 (the message with the keyword)", path, n)
		}
	}
	for path, r := range all {
		if n := len(r.items(t)); n != 2 {
			t.Errorf("%s got %d notifications, want 2", path, n)
		}
	}
}

// TestDeletedOnMembersAndAlerts: "deleted" on a group's members (the group
// purged) and on security alerts (an alert removed by its provider).
func TestDeletedOnMembersAndAlerts(t *testing.T) {
	h := setup(t, testConfig())
	app := h.AppToken()
	g := h.must(t, "POST", "/v1.0/groups", app, map[string]any{"displayName": "Temp", "mailNickname": "temp", "mailEnabled": false,
		"securityEnabled": true, "groupTypes": []any{}}, http.StatusCreated)
	gid := g["id"].(string)
	members := newReceiver(t)
	h.subscribe(t, app, map[string]any{"changeType": "updated,deleted", "notificationUrl": members.URL, "resource": "groups/" + gid + "/members"})
	h.must(t, "DELETE", "/v1.0/groups/"+gid, app, nil, http.StatusNoContent)
	h.must(t, "DELETE", "/v1.0/directory/deletedItems/"+gid, app, nil, http.StatusNoContent)
	if item := onlyItem(t, h, members); item["changeType"] != "deleted" {
		t.Errorf("members notification = %v, want deleted", item)
	}

	alerts := newReceiver(t)
	h.subscribe(t, app, map[string]any{"changeType": "deleted", "notificationUrl": alerts.URL, "resource": "security/alerts"})
	a := h.must(t, "POST", "/_graphhook/tenants/"+testserver.Tenant+"/security/alerts", testserver.AdminKey, map[string]any{"title": "Sign-in"}, http.StatusCreated)
	h.must(t, "DELETE", "/_graphhook/tenants/"+testserver.Tenant+"/security/alerts/"+a["id"].(string), testserver.AdminKey, nil, http.StatusNoContent)
	item := onlyItem(t, h, alerts)
	if item["changeType"] != "deleted" || item["resource"] != "security/alerts/"+a["id"].(string) {
		t.Errorf("alert notification = %v, want deleted on security/alerts/%s", item, a["id"])
	}
	if r := h.Do("GET", "/v1.0/security/alerts/"+a["id"].(string), app, nil); r.Status != http.StatusNotFound {
		t.Errorf("GET the deleted alert = %s, want 404", r)
	}
}
