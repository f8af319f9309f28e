package communications_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/testserver"
)

const session = "0d7e4f6a-1b2c-4d3e-8f9a-0b1c2d3e4f5a"

func setPresenceBody(availability, activity string) map[string]any {
	return map[string]any{"sessionId": session, "availability": availability, "activity": activity}
}

func TestPresenceAPI(t *testing.T) {
	t.Parallel()
	e := setup(t)
	app := e.AppToken()
	adele := e.UserToken(testserver.AdeleUPN)
	bruno := "/v1.0/users/" + testserver.Bruno + "/presence"

	// Never set: Offline.
	got := e.must(t, "GET", bruno, adele, nil, http.StatusOK)
	if got["availability"] != "Offline" || got["activity"] != "Offline" || got["id"] != testserver.Bruno {
		t.Errorf("GET presence never set = %v, want Offline/Offline", got)
	}
	e.must(t, "POST", bruno+"/setPresence", app, setPresenceBody("Busy", "InACall"), http.StatusOK)
	for _, path := range []string{bruno, "/v1.0/communications/presences/" + testserver.Bruno} {
		got := e.must(t, "GET", path, adele, nil, http.StatusOK)
		if got["availability"] != "Busy" || got["activity"] != "InACall" {
			t.Errorf("GET %s = %v, want Busy/InACall", path, got)
		}
	}
	// A second session ranks below Busy; clearing Busy's session leaves it.
	other := map[string]any{"sessionId": "9a9a9a9a-1b2c-4d3e-8f9a-0b1c2d3e4f5a", "availability": "Available", "activity": "Available", "expirationDuration": "PT1H"}
	e.must(t, "POST", bruno+"/setPresence", app, other, http.StatusOK)
	if got := e.must(t, "GET", bruno, app, nil, http.StatusOK); got["availability"] != "Busy" {
		t.Errorf("presence with Busy and Available sessions = %v, want Busy", got)
	}
	e.must(t, "POST", bruno+"/clearPresence", app, map[string]any{"sessionId": session}, http.StatusOK)
	if got := e.must(t, "GET", bruno, app, nil, http.StatusOK); got["availability"] != "Available" {
		t.Errorf("presence after clearPresence = %v, want Available", got)
	}

	bulk := e.must(t, "POST", "/v1.0/communications/getPresencesByUserId", app,
		map[string]any{"ids": []any{testserver.Bruno, testserver.Adele, "00000000-0000-4000-8000-00000000dead"}}, http.StatusOK)
	var got2 [][2]any
	for _, v := range bulk["value"].([]any) {
		p := v.(map[string]any)
		got2 = append(got2, [2]any{p["id"], p["availability"]})
	}
	if want := [][2]any{{testserver.Bruno, "Available"}, {testserver.Adele, "Offline"}}; !cmp.Equal(got2, want) {
		t.Errorf("getPresencesByUserId = %v, want %v", got2, want)
	}

	bad := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
	}{
		{"bad pair", "POST", bruno + "/setPresence", app, setPresenceBody("Busy", "Away"), 400, "BadRequest"},
		{"no session", "POST", bruno + "/setPresence", app, map[string]any{"availability": "Away", "activity": "Away"}, 400, "BadRequest"},
		{"session not a GUID", "POST", bruno + "/setPresence", app, map[string]any{"sessionId": "x", "availability": "Away", "activity": "Away"}, 400, "BadRequest"},
		{"duration too long", "POST", bruno + "/setPresence", app, map[string]any{"sessionId": session, "availability": "Away", "activity": "Away", "expirationDuration": "PT5H"}, 400, "BadRequest"},
		{"duration malformed", "POST", bruno + "/setPresence", app, map[string]any{"sessionId": session, "availability": "Away", "activity": "Away", "expirationDuration": "5 minutes"}, 400, "BadRequest"},
		{"unknown property", "POST", bruno + "/setPresence", app, map[string]any{"sessionId": session, "availability": "Away", "activity": "Away", "mood": "x"}, 400, "BadRequest"},
		{"clear unknown session", "POST", bruno + "/clearPresence", app, map[string]any{"sessionId": session}, 404, "ResourceNotFound"},
		{"delegated sets another's", "POST", bruno + "/setPresence", adele, setPresenceBody("Away", "Away"), 403, "Forbidden"},
		{"unknown user", "GET", "/v1.0/users/00000000-0000-4000-8000-00000000dead/presence", app, nil, 404, "Request_ResourceNotFound"},
		{"bulk empty", "POST", "/v1.0/communications/getPresencesByUserId", app, map[string]any{"ids": []any{}}, 400, "BadRequest"},
		{"bulk not GUIDs", "POST", "/v1.0/communications/getPresencesByUserId", app, map[string]any{"ids": []any{"adele"}}, 400, "BadRequest"},
		{"personal account", "GET", "/v1.0/me/presence", e.PersonalToken(), nil, 403, "Forbidden"},
	}
	for _, tt := range bad {
		r := e.Do(tt.method, tt.path, tt.token, tt.body)
		if r.Status != tt.status || r.ErrorCode() != tt.code {
			t.Errorf("%s: %s %s = %s, want %d %s", tt.name, tt.method, tt.path, r, tt.status, tt.code)
		}
	}
	// Presence.Read reads one's own presence only.
	own := e.UserToken(testserver.AdeleUPN, "Presence.Read")
	if r := e.Do("GET", "/v1.0/me/presence", own, nil); r.Status != 200 {
		t.Errorf("GET /me/presence with Presence.Read = %s, want 200", r)
	}
	if r := e.Do("GET", bruno, own, nil); r.Status != 403 {
		t.Errorf("GET another's presence with Presence.Read = %s, want 403", r)
	}
}

// TestPresenceNotifications: setPresence changes a user's presence, and Adele's
// subscriptions on it (one user, rich; several users by $filter, basic) are told.
func TestPresenceNotifications(t *testing.T) {
	t.Parallel()
	e := setup(t)
	app := e.AppToken()
	adele := e.UserToken(testserver.AdeleUPN)
	h := newHook(t)
	c := newCert(t)
	rich := e.subscribe(t, adele, h, "communications/presences/"+testserver.Bruno, "updated", &c, false)
	filter := "communications/presences?$filter=" + url.PathEscape("id in ('"+testserver.Bruno+"','"+testserver.Chen+"')")
	filtered := e.subscribe(t, adele, h, filter, "updated", nil, false)

	e.must(t, "POST", "/v1.0/users/"+testserver.Adele+"/presence/setPresence", app, setPresenceBody("Away", "Away"), http.StatusOK)
	e.must(t, "POST", "/v1.0/users/"+testserver.Bruno+"/presence/setPresence", app, setPresenceBody("DoNotDisturb", "Presenting"), http.StatusOK)
	it := h.next(t, "Bruno's presence (rich)", bySub(rich))
	golden(t, "presence_updated", it, map[string]string{testserver.Bruno: "{user}"})
	want := withoutContext(e.must(t, "GET", "/v1.0/communications/presences/"+testserver.Bruno, adele, nil, http.StatusOK))
	if diff := cmp.Diff(want, decrypt(t, it, c)); diff != "" {
		t.Errorf("decrypted presence differs from GET (-get +decrypted):\n%s", diff)
	}
	if it := h.next(t, "Bruno's presence (filtered)", bySub(filtered)); it.Resource != "communications/presences/"+testserver.Bruno {
		t.Errorf("filtered subscription told about %s, want Bruno's presence", it.Resource)
	}
	// Chen is in the filter; Adele, changed first, is not: the next item is Chen's.
	e.must(t, "POST", "/v1.0/users/"+testserver.Chen+"/presence/setPresence", app, setPresenceBody("Available", "Available"), http.StatusOK)
	if it := h.next(t, "Chen's presence", bySub(filtered)); it.Resource != "communications/presences/"+testserver.Chen {
		t.Errorf("filtered subscription told about %s, want Chen's presence (Adele is not in its filter)", it.Resource)
	}
	h.none(t, "Adele's presence", func(it item) bool { return it.Resource == "communications/presences/"+testserver.Adele })
}

func TestPresenceSubscriptionRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	h := newHook(t)
	adele := e.UserToken(testserver.AdeleUPN)
	many := "id in ("
	for i := range 651 {
		if i > 0 {
			many += ","
		}
		many += "'" + testserver.Bruno + "'"
	}
	many += ")"
	tests := []struct {
		name, token, resource, changeType string
		minutes                           int
		status                            int
	}{
		{"application", e.AppToken(), "communications/presences/" + testserver.Bruno, "updated", 50, 403},
		{"created", adele, "communications/presences/" + testserver.Bruno, "created", 50, 400},
		{"over an hour", adele, "communications/presences/" + testserver.Bruno, "updated", 65, 400},
		{"no filter", adele, "communications/presences", "updated", 50, 400},
		{"filter on another property", adele, "communications/presences?$filter=" + url.PathEscape("availability eq 'Busy'"), "updated", 50, 400},
		{"651 ids", adele, "communications/presences?$filter=" + url.PathEscape(many), "updated", 50, 400},
		{"unknown user", adele, "communications/presences/00000000-0000-4000-8000-00000000dead", "updated", 50, 404},
		{"UPN", adele, "communications/presences/" + testserver.BrunoUPN, "updated", 50, 400},
		{"Presence.Read only", e.UserToken(testserver.AdeleUPN, "Presence.Read"), "communications/presences/" + testserver.Adele, "updated", 50, 403},
	}
	for _, tt := range tests {
		r := e.Do("POST", "/v1.0/subscriptions", tt.token, map[string]any{
			"changeType": tt.changeType, "notificationUrl": h.URL, "resource": tt.resource,
			"expirationDateTime": e.Clock.Now().Add(timeMinutes(tt.minutes)).UTC().Format("2006-01-02T15:04:05Z"),
		})
		if r.Status != tt.status {
			t.Errorf("%s: POST subscription on %.80s = %s, want %d", tt.name, tt.resource, r, tt.status)
		}
	}
}
