package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/graph"
)

// userToken signs Adele in to the demo delegated app with the given scopes.
func userToken(t *testing.T, m *app.Main, scopes ...string) string {
	t.Helper()
	for i, s := range scopes {
		scopes[i] = "https://graph.microsoft.com/" + s
	}
	status, out := tokenForm(t, m, url.Values{"grant_type": {"password"}, "client_id": {demoDelegatedAppID}, "client_secret": {demoDelegatedSecret},
		"username": {"adele@contoso.onmicrosoft.com"}, "password": {"Passw0rd!"}, "scope": {strings.Join(scopes, " ")}})
	tok, _ := out["access_token"].(string)
	if status != http.StatusOK || tok == "" {
		t.Fatalf("password grant with %v = %d %v", scopes, status, out)
	}
	return tok
}

// status sends a request and returns its status and body.
func status(t *testing.T, m *app.Main, token, method, path string, body any) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = strings.NewReader(string(data))
	}
	req, _ := http.NewRequest(method, m.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// TestSubscribeNeedsWhatReadingNeeds walks the subscribable resource types with a
// delegated caller that may not read the resource: where GET refuses, so does
// subscription creation (a subscription must never notify of what its caller could
// not read). Each row is one reading rule: another user's mailbox, calendar,
// contacts or OneDrive; a group the caller is not in; a permission the token lacks.
func TestSubscribeNeedsWhatReadingNeeds(t *testing.T) {
	t.Parallel()
	m := start(t, app.Config{})
	const bruno, eng = "22222222-0000-4000-8000-000000000002", "33333333-0000-4000-8000-000000000002"
	mail := userToken(t, m, "Mail.Read")
	tests := []struct {
		name, token, get, resource string
	}{
		{"message: another user's mailbox", mail, "/v1.0/users/" + bruno + "/messages", "users/" + bruno + "/messages"},
		{"message folder: another user's inbox", mail, "/v1.0/users/" + bruno + "/mailFolders/inbox/messages", "users/" + bruno + "/mailFolders('inbox')/messages"},
		{"event: another user's calendar", userToken(t, m, "Calendars.Read"), "/v1.0/users/" + bruno + "/events", "users/" + bruno + "/events"},
		{"contact: another user's contacts", userToken(t, m, "Contacts.Read"), "/v1.0/users/" + bruno + "/contacts", "users/" + bruno + "/contacts"},
		{"driveItem: another user's OneDrive", userToken(t, m, "Files.Read"), "/v1.0/users/" + bruno + "/drive/root", "users/" + bruno + "/drive/root"},
		{"conversation: a group the caller is not in", userToken(t, m, "Group.Read.All"), "/v1.0/groups/" + eng + "/conversations", "groups/" + eng + "/conversations"},
		{"user: without User.Read.All", mail, "/v1.0/users", "users"},
		{"group: without Group.Read.All", mail, "/v1.0/groups", "groups"},
		{"alert: without SecurityEvents.ReadWrite.All", mail, "/v1.0/security/alerts", "security/alerts"},
	}
	for _, tt := range tests {
		if got, body := status(t, m, tt.token, "GET", tt.get, nil); got != http.StatusForbidden && got != http.StatusNotFound {
			t.Errorf("%s: GET %s = %d %s, want it refused (403 or 404)", tt.name, tt.get, got, body)
		}
		got, body := status(t, m, tt.token, "POST", "/v1.0/subscriptions", map[string]any{"changeType": "updated", "notificationUrl": "http://127.0.0.1:1/never",
			"resource": tt.resource, "expirationDateTime": graph.FormatTime(m.Clock.Now().Add(time.Hour))})
		if got != http.StatusForbidden {
			t.Errorf("%s: subscribe to %s = %d %s, want 403", tt.name, tt.resource, got, body)
		}
	}
}
