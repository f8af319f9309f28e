package delivery_test

import (
	"net/http"
	"testing"

	"github.com/graphhook/graphhook/internal/testserver"
)

// TestResourceNotifications makes one change per resource type through the Graph
// (or admin) API and checks the exact notification a real loopback receiver gets.
func TestResourceNotifications(t *testing.T) {
	h := setup(t, testConfig())
	app := h.AppToken()
	admin := testserver.AdminKey
	type step struct {
		method, path string
		body         any
		admin        bool
	}
	cases := []struct {
		name     string
		resource string
		types    string
		prepare  []step // before subscribing
		change   step
		idOf     string // JSON key of the created object's id in the change's response
	}{
		{name: "message", resource: "/users/" + testserver.Adele + "/messages", types: "created",
			change: step{method: "POST", path: "/v1.0/users/" + testserver.Adele + "/messages", body: map[string]any{"subject": "Hello"}}, idOf: "id"},
		{name: "event", resource: "/users/" + testserver.Adele + "/events", types: "created",
			change: step{method: "POST", path: "/v1.0/users/" + testserver.Adele + "/events", body: map[string]any{"subject": "Standup",
				"start": map[string]any{"dateTime": "2026-05-01T09:00:00", "timeZone": "UTC"},
				"end":   map[string]any{"dateTime": "2026-05-01T09:15:00", "timeZone": "UTC"}}}, idOf: "id"},
		{name: "contact", resource: "/users/" + testserver.Adele + "/contacts", types: "created",
			change: step{method: "POST", path: "/v1.0/users/" + testserver.Adele + "/contacts", body: map[string]any{"givenName": "Pat"}}, idOf: "id"},
		{name: "user", resource: "/users", types: "updated,deleted",
			change: step{method: "PATCH", path: "/v1.0/users/" + testserver.Bruno, body: map[string]any{"jobTitle": "Buyer"}}},
		{name: "group", resource: "/groups/" + testserver.SalesGroup, types: "updated",
			change: step{method: "PATCH", path: "/v1.0/groups/" + testserver.SalesGroup, body: map[string]any{"description": "Sales team"}}},
		{name: "group-members", resource: "/groups/" + testserver.SalesGroup + "/members", types: "updated",
			change: step{method: "POST", path: "/v1.0/groups/" + testserver.SalesGroup + "/members/$ref",
				body: map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + testserver.Chen}}},
		{name: "alert", resource: "/security/alerts", types: "created,updated",
			change: step{method: "POST", path: "/_graphhook/tenants/" + testserver.Tenant + "/security/alerts", body: map[string]any{"id": "alert-1", "title": "Suspicious sign-in"}, admin: true}},
		{name: "callRecord", resource: "/communications/callRecords", types: "created",
			change: step{method: "POST", path: "/_graphhook/tenants/" + testserver.Tenant + "/communications/callRecords", body: map[string]any{"id": "0b1c2d3e-0000-4000-8000-0000000000c1"}, admin: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newReceiver(t)
			do := func(s step) map[string]any {
				tok := app
				if s.admin {
					tok = admin
				}
				resp := h.Do(s.method, s.path, tok, s.body)
				if resp.Status >= 300 {
					t.Fatalf("%s %s = %s", s.method, s.path, resp)
				}
				return resp.JSON()
			}
			for _, s := range c.prepare {
				do(s)
			}
			sub := h.subscribe(t, app, map[string]any{"changeType": c.types, "notificationUrl": r.URL, "resource": c.resource, "clientState": "s3cret"})
			t.Cleanup(func() { h.Do("DELETE", "/v1.0/subscriptions/"+sub, app, nil) })
			out := do(c.change)
			items := r.waitItems(t, 1)
			h.settle(t)
			if got := len(r.items(t)); got != 1 {
				t.Fatalf("received %d items, want exactly 1: %s", got, r.bodies())
			}
			id := ""
			if c.idOf != "" {
				id, _ = out[c.idOf].(string)
			}
			golden(t, c.name, normalize(t, items[0], map[string]string{sub: "{subscriptionId}", id: "{id}"}))
			if ct := r.posts[0].header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q, want application/json; charset=utf-8", ct)
			}
		})
	}
	_ = http.StatusOK
}
