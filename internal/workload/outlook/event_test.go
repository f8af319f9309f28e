package outlook_test

import (
	"net/http"
	"testing"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/testserver"
)

func at(dt, tz string) map[string]any { return map[string]any{"dateTime": dt, "timeZone": tz} }

func TestEventCRUD(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, cl := range callers(env) {
		t.Run(cl.name, func(t *testing.T) {
			r := env.Do("POST", cl.base+"/events", cl.token, map[string]any{
				"subject":   "Standup",
				"start":     at("2026-03-02T09:00:00", "Pacific Standard Time"),
				"end":       at("2026-03-02T09:30:00", "Pacific Standard Time"),
				"location":  map[string]any{"displayName": "Room 1"},
				"attendees": []any{map[string]any{"emailAddress": map[string]any{"address": "chen@contoso.onmicrosoft.com"}, "type": "Optional"}},
			})
			if r.Status != http.StatusCreated {
				t.Fatalf("POST events = %s", r)
			}
			e := r.JSON()
			id, etag := str(e, "id"), str(e, "@odata.etag")
			if start := e["start"].(map[string]any); start["dateTime"] != "2026-03-02T17:00:00.0000000" || start["timeZone"] != "UTC" || e["originalStartTimeZone"] != "Pacific Standard Time" {
				t.Errorf("start = %v, original zone %v", start, e["originalStartTimeZone"])
			}
			if r := env.Do("GET", cl.base+"/calendar/events/"+id, cl.token, nil); r.Status != http.StatusOK || r.JSON()["subject"] != "Standup" {
				t.Errorf("GET = %s", r)
			}
			r = env.Do("PATCH", cl.base+"/events/"+id, cl.token, map[string]any{"showAs": "tentative"}, "If-Match", etag)
			if r.Status != http.StatusOK || r.JSON()["showAs"] != "tentative" || str(r.JSON(), "@odata.etag") == etag {
				t.Fatalf("PATCH = %s", r)
			}
			if r := env.Do("DELETE", cl.base+"/events/"+id, cl.token, nil, "If-Match", etag); r.Status != http.StatusPreconditionFailed || r.ErrorCode() != "ErrorIrresolvableConflict" {
				t.Errorf("DELETE with stale etag = %s, want 412", r)
			}
			if r := env.Do("DELETE", cl.base+"/events/"+id, cl.token, nil); r.Status != http.StatusNoContent {
				t.Fatalf("DELETE = %s", r)
			}
			if r := env.Do("GET", cl.base+"/events/"+id, cl.token, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "ErrorItemNotFound" {
				t.Errorf("GET deleted = %s", r)
			}
			recs := wantChanges(t, env, cl.tenant, change.UserEvents(cl.user), "created", "updated", "deleted")
			n, _ := change.NoticeOf(&recs[0])
			if n.Resource != "Users/"+cl.user+"/Events/"+id || n.ODataType != "#Microsoft.Graph.Event" || n.ETag == "" {
				t.Errorf("notice = %+v", n)
			}
		})
	}
}

func TestEventGoldenAndValidation(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	base := "/v1.0/users/" + testserver.Adele + "/events"
	r := env.Do("POST", base, app, map[string]any{
		"subject":  "Offsite",
		"body":     map[string]any{"contentType": "text", "content": "Agenda"},
		"start":    at("2026-04-01T00:00:00", "UTC"),
		"end":      at("2026-04-02T00:00:00", "UTC"),
		"isAllDay": true,
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("POST = %s", r)
	}
	golden(t, env, "event", r.Body)
	tests := []struct {
		name string
		body map[string]any
		code string
	}{
		{"no end", map[string]any{"start": at("2026-04-01T10:00:00", "UTC")}, "ErrorInvalidRequest"},
		{"end before start", map[string]any{"start": at("2026-04-01T10:00:00", "UTC"), "end": at("2026-04-01T09:00:00", "UTC")}, "ErrorInvalidProperty"},
		{"unknown zone", map[string]any{"start": at("2026-04-01T10:00:00", "Mars/Olympus"), "end": at("2026-04-01T11:00:00", "UTC")}, "ErrorInvalidProperty"},
		{"all day not at midnight", map[string]any{"isAllDay": true, "start": at("2026-04-01T10:00:00", "UTC"), "end": at("2026-04-02T10:00:00", "UTC")}, "ErrorInvalidProperty"},
		{"read-only organizer", map[string]any{"organizer": map[string]any{}}, "ErrorInvalidProperty"},
		{"bad showAs", map[string]any{"showAs": "maybe", "start": at("2026-04-01T10:00:00", "UTC"), "end": at("2026-04-01T11:00:00", "UTC")}, "ErrorInvalidProperty"},
	}
	for _, tc := range tests {
		if r := env.Do("POST", base, app, tc.body); r.Status != http.StatusBadRequest || r.ErrorCode() != tc.code {
			t.Errorf("%s: POST = %s, want 400 %s", tc.name, r, tc.code)
		}
	}
	calOnly, secret := env.AddApp([]string{"Calendars.Read"}, nil)
	if r := env.Do("POST", base, env.ClientToken(calOnly, secret), map[string]any{"subject": "x"}); r.Status != http.StatusForbidden || r.ErrorCode() != "ErrorAccessDenied" {
		t.Errorf("POST with Calendars.Read = %s, want 403", r)
	}
	mailOnly, secret2 := env.AddApp([]string{"Mail.Read"}, nil)
	if r := env.Do("GET", base, env.ClientToken(mailOnly, secret2), nil); r.Status != http.StatusForbidden {
		t.Errorf("GET events without Calendars.* = %s, want 403", r)
	}
}

func TestCalendarViewAndDelta(t *testing.T) {
	t.Parallel()
	env := setup(t)
	tok := env.UserToken(testserver.AdeleUPN)
	create := func(subject, start, end string) string {
		r := env.Do("POST", "/v1.0/me/events", tok, map[string]any{"subject": subject, "start": at(start, "UTC"), "end": at(end, "UTC")})
		if r.Status != http.StatusCreated {
			t.Fatalf("POST = %s", r)
		}
		return str(r.JSON(), "id")
	}
	inside := create("inside", "2026-05-04T10:00:00", "2026-05-04T11:00:00")
	create("edge", "2026-05-04T08:00:00", "2026-05-04T09:00:00") // ends where the window starts
	create("later", "2026-06-01T10:00:00", "2026-06-01T11:00:00")
	window := "startDateTime=2026-05-04T09:00:00Z&endDateTime=2026-05-05T00:00:00Z"
	r := env.Do("GET", "/v1.0/me/calendarView?"+window, tok, nil)
	if v := values(t, r); r.Status != http.StatusOK || len(v) != 1 || v[0]["id"] != inside {
		t.Fatalf("calendarView = %s, want only %q", r, inside)
	}
	for _, q := range []string{"", "startDateTime=2026-05-04T09:00:00Z", "startDateTime=x&endDateTime=y", "startDateTime=2026-05-05T00:00:00Z&endDateTime=2026-05-04T00:00:00Z"} {
		if r := env.Do("GET", "/v1.0/me/calendarView?"+q, tok, nil); r.Status != http.StatusBadRequest || r.ErrorCode() != "ErrorInvalidParameter" {
			t.Errorf("calendarView?%s = %s, want 400 ErrorInvalidParameter", q, r)
		}
	}
	r = env.Do("GET", "/v1.0/me/calendarView/delta?"+window, tok, nil)
	if v := values(t, r); len(v) != 1 || v[0]["id"] != inside {
		t.Fatalf("initial delta = %s", r)
	}
	deltaLink := str(r.JSON(), "@odata.deltaLink")
	env.Do("PATCH", "/v1.0/me/events/"+inside, tok, map[string]any{"subject": "renamed"})
	r = env.Do("GET", deltaLink, tok, nil)
	if v := values(t, r); len(v) != 1 || v[0]["subject"] != "renamed" {
		t.Fatalf("delta after update = %s", r)
	}
	deltaLink = str(r.JSON(), "@odata.deltaLink")
	// Moving the event out of the window removes it from the view.
	env.Do("PATCH", "/v1.0/me/events/"+inside, tok, map[string]any{"start": at("2026-07-01T10:00:00", "UTC"), "end": at("2026-07-01T11:00:00", "UTC")})
	r = env.Do("GET", deltaLink, tok, nil)
	if v := values(t, r); len(v) != 1 || v[0]["@removed"] == nil || v[0]["id"] != inside {
		t.Fatalf("delta after moving out = %s, want @removed", r)
	}
	deltaLink = str(r.JSON(), "@odata.deltaLink")
	env.Do("DELETE", "/v1.0/me/events/"+inside, tok, nil)
	r = env.Do("GET", deltaLink, tok, nil)
	if v := values(t, r); len(v) != 1 || v[0]["@removed"].(map[string]any)["reason"] != "deleted" {
		t.Fatalf("delta after delete = %s", r)
	}
}
