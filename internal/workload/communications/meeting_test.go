package communications_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/testserver"
)

const adminBase = "/_graphhook/tenants/" + testserver.Tenant + "/onlineMeetings/"

func createMeeting(t *testing.T, e *env, token, user string) map[string]any {
	t.Helper()
	path := "/v1.0/users/" + user + "/onlineMeetings"
	if user == "me" {
		path = "/v1.0/me/onlineMeetings"
	}
	return e.must(t, "POST", path, token, map[string]any{
		"subject": "Launch review", "startDateTime": "2026-12-07T10:00:00Z", "endDateTime": "2026-12-07T11:00:00Z",
		"participants": map[string]any{"attendees": []any{map[string]any{"upn": testserver.BrunoUPN, "role": "attendee",
			"identity": map[string]any{"user": map[string]any{"id": testserver.Bruno}}}}},
	}, http.StatusCreated)
}

func TestOnlineMeetingAPI(t *testing.T) {
	t.Parallel()
	e := setup(t)
	app := e.AppToken()
	adele := e.UserToken(testserver.AdeleUPN)
	m := createMeeting(t, e, adele, "me")
	id, _ := m["id"].(string)
	link, _ := m["joinWebUrl"].(string)
	if id == "" || !strings.HasPrefix(link, "https://teams.microsoft.com/l/meetup-join/19%3ameeting_") ||
		!strings.Contains(link, "%22Oid%22%3a%22"+testserver.Adele+"%22") {
		t.Fatalf("created meeting id %q joinWebUrl %q, want an id and a Teams join link naming the organizer", id, link)
	}
	organizer := m["participants"].(map[string]any)["organizer"].(map[string]any)
	if organizer["upn"] != testserver.AdeleUPN || m["subject"] != "Launch review" || m["endDateTime"] != "2026-12-07T11:00:00Z" {
		t.Errorf("created meeting = %v", m)
	}
	self := "/v1.0/users/" + testserver.Adele + "/onlineMeetings/" + id
	if got := withoutContext(e.must(t, "GET", self, app, nil, http.StatusOK)); !cmp.Equal(got, withoutContext(m)) {
		t.Errorf("GET meeting differs from the created one:\n%s", cmp.Diff(withoutContext(m), got))
	}
	list := e.must(t, "GET", "/v1.0/me/onlineMeetings?$filter="+url.QueryEscape("JoinWebUrl eq '"+link+"'"), adele, nil, http.StatusOK)
	if v := list["value"].([]any); len(v) != 1 || v[0].(map[string]any)["id"] != id {
		t.Errorf("GET onlineMeetings by JoinWebUrl = %v, want the meeting", list)
	}
	p := e.must(t, "PATCH", self, adele, map[string]any{"subject": "Launch review (moved)", "startDateTime": "2026-12-07T12:00:00Z"}, http.StatusOK)
	if p["subject"] != "Launch review (moved)" || p["joinWebUrl"] != link || p["id"] != id {
		t.Errorf("PATCH meeting = %v", p)
	}

	bad := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
	}{
		{"unknown property", "POST", "/v1.0/me/onlineMeetings", adele, map[string]any{"topic": "x"}, 400, "BadRequest"},
		{"bad time", "POST", "/v1.0/me/onlineMeetings", adele, map[string]any{"startDateTime": "tomorrow"}, 400, "InvalidArgument"},
		{"delegated, another user", "GET", "/v1.0/users/" + testserver.Bruno + "/onlineMeetings/" + id, adele, nil, 403, "Forbidden"},
		{"another organizer's meeting", "GET", "/v1.0/users/" + testserver.Bruno + "/onlineMeetings/" + id, app, nil, 404, "NotFound"},
		{"participants null", "PATCH", self, adele, map[string]any{"participants": nil, "subject": nil}, 200, ""},
		{"list without filter", "GET", "/v1.0/me/onlineMeetings", adele, nil, 400, "InvalidArgument"},
		{"no permission", "GET", self, e.UserToken(testserver.AdeleUPN, "User.Read"), nil, 403, "Forbidden"},
		{"admin: unknown call event", "POST", adminBase + id + "/callEvents", testserver.AdminKey, map[string]any{"callEventType": "callPaused"}, 400, "BadRequest"},
		{"admin: participants not an array", "POST", adminBase + id + "/callEvents", testserver.AdminKey, map[string]any{"callEventType": "callStarted", "participants": "x"}, 400, "BadRequest"},
		{"admin: participant not an object", "POST", adminBase + id + "/callEvents", testserver.AdminKey, map[string]any{"callEventType": "callStarted", "participants": []any{1}}, 400, "BadRequest"},
		{"admin: eventDateTime a number", "POST", adminBase + id + "/callEvents", testserver.AdminKey, map[string]any{"callEventType": "callEnded", "eventDateTime": 5}, 400, "BadRequest"},
		{"admin: content a number", "POST", adminBase + id + "/transcripts", testserver.AdminKey, map[string]any{"content": 5}, 400, "BadRequest"},
		{"admin: bad createdDateTime", "POST", adminBase + id + "/recordings", testserver.AdminKey, map[string]any{"createdDateTime": "yesterday"}, 400, "BadRequest"},
		{"admin: not an object", "POST", adminBase + id + "/callEvents", testserver.AdminKey, []any{}, 400, "BadRequest"},
		{"participants not an object", "PATCH", self, adele, map[string]any{"participants": []any{}}, 400, "InvalidArgument"},
		{"attendees not an array", "PATCH", self, adele, map[string]any{"participants": map[string]any{"attendees": "x"}}, 400, "InvalidArgument"},
		{"admin: unknown meeting", "POST", adminBase + "nope/transcripts", testserver.AdminKey, map[string]any{}, 404, "NotFound"},
		{"admin: unknown property", "POST", adminBase + id + "/recordings", testserver.AdminKey, map[string]any{"size": "1"}, 400, "BadRequest"},
		{"admin: bad key", "POST", adminBase + id + "/transcripts", "nope", map[string]any{}, 401, ""},
	}
	for _, tt := range bad {
		r := e.Do(tt.method, tt.path, tt.token, tt.body)
		if r.Status != tt.status || (tt.code != "" && r.ErrorCode() != tt.code) {
			t.Errorf("%s: %s %s = %s, want %d %s", tt.name, tt.method, tt.path, r, tt.status, tt.code)
		}
	}

	// Transcripts and recordings made through the admin API are served under the
	// meeting, with their content.
	vtt := "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<v Adele Vance>Hi</v>\n"
	tr := e.must(t, "POST", adminBase+id+"/transcripts", testserver.AdminKey, map[string]any{"content": vtt}, http.StatusCreated)
	trPath := self + "/transcripts/" + tr["id"].(string)
	if got := withoutContext(e.must(t, "GET", trPath, app, nil, http.StatusOK)); !cmp.Equal(got, tr) {
		t.Errorf("GET transcript differs from the created one:\n%s", cmp.Diff(tr, got))
	}
	if r := e.Do("GET", trPath+"/content", app, nil); r.Status != 200 || string(r.Body) != vtt {
		t.Errorf("GET transcript content = %s, want the VTT", r)
	}
	if l := e.must(t, "GET", self+"/recordings", app, nil, http.StatusOK); len(l["value"].([]any)) != 0 {
		t.Errorf("GET recordings before any = %v, want none", l)
	}
	if r := e.Do("GET", self+"/transcripts", e.UserToken(testserver.AdeleUPN, "OnlineMeetings.ReadWrite"), nil); r.Status != 403 {
		t.Errorf("GET transcripts without OnlineMeetingTranscript.Read.All = %s, want 403", r)
	}

	e.must(t, "DELETE", self, adele, nil, http.StatusNoContent)
	if r := e.Do("GET", self, app, nil); r.Status != 404 {
		t.Errorf("GET deleted meeting = %s, want 404", r)
	}
}

// TestMeetingNotifications: call events, transcripts and recordings of a meeting
// reach the subscriptions on them (rich, decrypting to what GET returns); deleting
// the meeting removes the subscriptions scoped to it, each told with
// subscriptionRemoved, and leaves the tenant-wide ones.
func TestMeetingNotifications(t *testing.T) {
	t.Parallel()
	e := setup(t)
	app := e.AppToken()
	h := newHook(t)
	c := newCert(t)
	m := createMeeting(t, e, app, testserver.Adele)
	id := m["id"].(string)
	link := m["joinWebUrl"].(string)
	self := "/v1.0/users/" + testserver.Adele + "/onlineMeetings/" + id

	events := e.subscribe(t, app, h, "communications/onlineMeetings(joinWebUrl='"+url.PathEscape(link)+"')/meetingCallEvents", "updated", &c, true)
	meetingTranscripts := e.subscribe(t, app, h, "communications/onlineMeetings/"+id+"/transcripts", "created", &c, true)
	allTranscripts := e.subscribe(t, app, h, "communications/onlineMeetings/getAllTranscripts", "created", nil, true)
	userRecordings := e.subscribe(t, app, h, "users/"+testserver.Adele+"/onlineMeetings/getAllRecordings", "created", &c, true)
	meetingRecordings := e.subscribe(t, app, h, "communications/onlineMeetings/"+id+"/recordings", "created", nil, true)

	ev := e.must(t, "POST", adminBase+id+"/callEvents", testserver.AdminKey, map[string]any{"callEventType": "callStarted", "eventDateTime": "2026-12-07T10:00:05Z"}, http.StatusCreated)
	it := h.next(t, "callStarted", bySub(events))
	golden(t, "onlineMeeting_updated", it, map[string]string{id: "{meeting}", ev["id"].(string): "{id}"})
	if got := decrypt(t, it, c); !cmp.Equal(got, ev) {
		t.Errorf("decrypted call event = %v, want %v", got, ev)
	}

	tr := e.must(t, "POST", adminBase+id+"/transcripts", testserver.AdminKey, map[string]any{"content": "WEBVTT\n"}, http.StatusCreated)
	it = h.next(t, "transcript on the meeting", bySub(meetingTranscripts))
	golden(t, "callTranscript_created", it, map[string]string{id: "{meeting}", tr["id"].(string): "{id}"})
	want := withoutContext(e.must(t, "GET", self+"/transcripts/"+tr["id"].(string), app, nil, http.StatusOK))
	if diff := cmp.Diff(want, decrypt(t, it, c)); diff != "" {
		t.Errorf("decrypted transcript differs from GET:\n%s", diff)
	}
	if it := h.next(t, "transcript tenant-wide", bySub(allTranscripts)); it.EncryptedContent != nil || it.ResourceData == nil || it.ResourceData.ID != tr["id"] {
		t.Errorf("tenant-wide transcript notification = %s, want a basic one about %s", it.raw, tr["id"])
	}

	rec := e.must(t, "POST", adminBase+id+"/recordings", testserver.AdminKey, map[string]any{}, http.StatusCreated)
	it = h.next(t, "recording of the organizer", bySub(userRecordings))
	golden(t, "callRecording_created", it, map[string]string{id: "{meeting}", rec["id"].(string): "{id}"})
	want = withoutContext(e.must(t, "GET", self+"/recordings/"+rec["id"].(string), app, nil, http.StatusOK))
	if diff := cmp.Diff(want, decrypt(t, it, c)); diff != "" {
		t.Errorf("decrypted recording differs from GET:\n%s", diff)
	}
	h.next(t, "recording on the meeting", bySub(meetingRecordings))

	e.must(t, "DELETE", self, app, nil, http.StatusNoContent)
	for _, sub := range []string{events, meetingTranscripts, meetingRecordings} {
		h.next(t, "subscriptionRemoved of "+sub, func(it item) bool {
			return it.SubscriptionID == sub && it.LifecycleEvent == "subscriptionRemoved"
		})
		if r := e.Do("GET", "/v1.0/subscriptions/"+sub, app, nil); r.Status != 404 {
			t.Errorf("GET subscription %s after the meeting's deletion = %s, want 404", sub, r)
		}
	}
	for _, sub := range []string{allTranscripts, userRecordings} {
		if r := e.Do("GET", "/v1.0/subscriptions/"+sub, app, nil); r.Status != 200 {
			t.Errorf("GET tenant or user subscription %s after the meeting's deletion = %s, want 200", sub, r)
		}
	}
}

func TestMeetingSubscriptionRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	h := newHook(t)
	app := e.AppToken()
	m := createMeeting(t, e, app, testserver.Adele)
	id := m["id"].(string)
	tests := []struct {
		name, token, resource, changeType string
		status                            int
	}{
		{"delegated call events", e.UserToken(testserver.AdeleUPN), "communications/onlineMeetings(joinWebUrl='" + url.PathEscape(m["joinWebUrl"].(string)) + "')/meetingCallEvents", "updated", 403},
		{"unknown join link", app, "communications/onlineMeetings(joinWebUrl='" + url.PathEscape("https://teams.microsoft.com/l/meetup-join/nope") + "')/meetingCallEvents", "updated", 404},
		{"deleted transcripts", app, "communications/onlineMeetings/getAllTranscripts", "deleted", 400},
		{"unknown meeting", app, "communications/onlineMeetings/nope/recordings", "created", 404},
		{"delegated transcripts", e.UserToken(testserver.AdeleUPN), "communications/onlineMeetings/" + id + "/transcripts", "created", 403},
	}
	for _, tt := range tests {
		r := e.Do("POST", "/v1.0/subscriptions", tt.token, map[string]any{
			"changeType": tt.changeType, "notificationUrl": h.URL, "resource": tt.resource,
			"expirationDateTime": e.Clock.Now().Add(timeMinutes(50)).UTC().Format("2006-01-02T15:04:05Z"),
		})
		if r.Status != tt.status {
			t.Errorf("%s: POST subscription on %s = %s, want %d", tt.name, tt.resource, r, tt.status)
		}
	}
}
