package subscription_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/subscription"
	"github.com/graphhook/graphhook/internal/testserver"
)

// fuzzEnv is a test server with only the subscriptions API, an app token, and a
// loopback webhook that passes every validation handshake.
type fuzzEnv struct {
	*testserver.Env
	token string
	hook  string
}

func setupFuzz(f *testing.F) *fuzzEnv {
	f.Helper()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, tok)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	f.Cleanup(hook.Close)
	env := testserver.New(f, func(ts *testserver.Env) {
		svc, err := subscription.New(ts.Store, subscription.Config{Clock: ts.Clock})
		if err != nil {
			f.Fatalf("subscription.New: %v", err)
		}
		svc.Routes(ts.HTTP.Graph())
	})
	return &fuzzEnv{Env: env, token: env.AppToken(), hook: hook.URL + "/hook"}
}

// create posts a subscription body and checks the answer: 201, or a 4xx Graph error
// with a code and a message; never a 5xx. A created subscription is deleted again so
// that the fuzzer never runs into the quotas.
func (e *fuzzEnv) create(t *testing.T, body []byte) {
	// The server's helpers report through the test they run in, here the fuzz input's.
	env := *e.Env
	env.T = t
	r := env.Do(http.MethodPost, "/v1.0/subscriptions", e.token, body, "Content-Type", "application/json")
	switch {
	case r.Status == http.StatusCreated:
		id, _ := r.JSON()["id"].(string)
		if id == "" {
			t.Fatalf("POST /subscriptions %s = 201 without an id: %s", body, r.Body)
		}
		if d := env.Do(http.MethodDelete, "/v1.0/subscriptions/"+id, e.token, nil); d.Status != http.StatusNoContent {
			t.Fatalf("DELETE /subscriptions/%s = %v, want 204", id, d)
		}
	case r.Status >= 400 && r.Status < 500:
		if r.ErrorCode() == "" || r.ErrorMessage() == "" {
			t.Fatalf("POST /subscriptions %s = %v, want a Graph error with a code and a message", body, r)
		}
	default:
		t.Fatalf("POST /subscriptions %s = %v, want 201 or a 4xx", body, r)
	}
}

// FuzzSubscriptionBody posts arbitrary bodies to /v1.0/subscriptions: the JSON body
// decoder and every property's parser answer with 201 or a Graph error, never a 5xx
// or a panic. "{hook}" in the input stands for the loopback webhook's URL; bodies
// whose notification URLs name anything else are not sent, so that the fuzzer never
// makes the server call out of the machine.
func FuzzSubscriptionBody(f *testing.F) {
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, s := range []string{
		`{"changeType":"created","notificationUrl":"{hook}","resource":"/users/` + testserver.Adele + `/messages","expirationDateTime":"` + exp + `","clientState":"s"}`,
		`{"changeType":"created,updated,deleted","notificationUrl":"{hook}","lifecycleNotificationUrl":"{hook}","resource":"users/` + testserver.Adele + `/events","expirationDateTime":"` + exp + `"}`,
		`{"changeType":"updated","notificationUrl":"{hook}","resource":"/users","expirationDateTime":"2026-01-01T00:00:00.0000000Z","latestSupportedTlsVersion":"v1_3"}`,
		`{"changeType":"created","notificationUrl":"{hook}","resource":"/users/` + testserver.Adele + `/messages?$select=subject&$filter=isRead eq false","expirationDateTime":"` + exp + `","includeResourceData":true}`,
		`{"changeType":"created","notificationUrl":"{hook}","resource":"/groups/` + testserver.SalesGroup + `/conversations","expirationDateTime":"` + exp + `","@odata.type":"#microsoft.graph.subscription"}`,
		`{"changeType":"created","notificationUrl":"{hook}","resource":"/chats/getAllMessages","expirationDateTime":"` + exp + `","encryptionCertificate":"AAAA","encryptionCertificateId":"c"}`,
		`{"changeType":"created","notificationUrl":"{hook}","resource":"/users/` + testserver.Adele + `/messages","expirationDateTime":"` + exp + `","notificationUrlAppId":"x","id":"y"}`,
		`{"notificationUrl":"{hook}","notificationUrl":"{hook}"}`,
		`{"changeType":1,"notificationUrl":null,"resource":[],"expirationDateTime":{}}`,
		`{"deliveryChannel":"webpush"}`, `{"x":1}`, `{}`, `[]`, `null`, `"`, `{"a":1}{"b":2}`, ``,
	} {
		f.Add([]byte(s))
	}
	e := setupFuzz(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		body = bytes.ReplaceAll(body, []byte("{hook}"), []byte(e.hook))
		var raw map[string]json.RawMessage
		if json.Unmarshal(body, &raw) == nil {
			for k, v := range raw {
				var s string
				if strings.Contains(strings.ToLower(k), "url") && json.Unmarshal(v, &s) == nil && s != e.hook {
					return // would send a validation request off loopback
				}
			}
		}
		e.create(t, body)
	})
}

// FuzzSubscriptionResource posts subscriptions to arbitrary resource paths (with
// query options) and change types: the resource parser answers with 201 or a Graph
// error, never a 5xx or a panic.
func FuzzSubscriptionResource(f *testing.F) {
	for _, s := range [][2]string{
		{"/users/" + testserver.Adele + "/messages", "created"},
		{"users/" + testserver.AdeleUPN + "/mailFolders('inbox')/messages", "created,updated"},
		{"/users/" + testserver.Adele + "/mailFolders/inbox/messages?$select=subject,from&$filter=isRead eq false", "created"},
		{"/users/" + testserver.Adele + "/events", "deleted"},
		{"/users/" + testserver.Adele + "/contacts", "updated"},
		{"/users", "updated"},
		{"/users/" + testserver.Bruno, "updated,deleted"},
		{"/groups", "updated"},
		{"/groups/" + testserver.SalesGroup + "/conversations", "created"},
		{"/groups/" + testserver.SalesGroup + "/members", "updated"},
		{"/teams/" + testserver.SalesGroup + "/channels/19:x@thread.tacv2/messages", "created"},
		{"/chats/getAllMessages", "created"},
		{"/users/" + testserver.Adele + "/chats/getAllMessages", "created"},
		{"/communications/callRecords", "created"},
		{"/security/alerts?$filter=status eq 'newAlert'", "updated"},
		{"/drives/b!x/root", "updated"},
		{"/users/" + testserver.Adele + "/drive/root", "updated"},
		{"/sites/contoso.sharepoint.com:/lists/x", "updated"},
		{"/me/messages", "created"},
		{"/users('" + testserver.Adele + "')/messages", "created"},
		{"/users/%zz/messages", "created"},
		{"", ""}, {"/", "created"}, {"?", "created"}, {"/users/x/messages?$filter=", "created"}, {"//", ","},
	} {
		f.Add(s[0], s[1])
	}
	e := setupFuzz(f)
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	f.Fuzz(func(t *testing.T, resource, changeType string) {
		body, err := json.Marshal(map[string]any{"changeType": changeType, "notificationUrl": e.hook, "resource": resource, "expirationDateTime": exp})
		if err != nil {
			t.Fatal(err)
		}
		e.create(t, body)
	})
}
