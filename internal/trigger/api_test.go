package trigger_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/app"
)

// TestList: GET /_graphhook/trigger lists every described type with its samples'
// change types.
func TestList(t *testing.T) {
	s := start(t)
	status, body := s.do(t, s.key, "GET", "/_graphhook/trigger", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /_graphhook/trigger = %d %v, want 200", status, body)
	}
	got := map[string][]string{}
	for _, v := range body["value"].([]any) {
		e := v.(map[string]any)
		var cts []string
		for _, ct := range e["changeTypes"].([]any) {
			cts = append(cts, ct.(string))
		}
		got[e["type"].(string)] = cts
	}
	for _, d := range app.Resources() {
		if len(d.Samples) == 0 {
			continue
		}
		for _, smp := range d.Samples {
			if !slices.Contains(got[d.Type], smp.ChangeType) {
				t.Errorf("GET /_graphhook/trigger: %s lists %v, want %s among them", d.Type, got[d.Type], smp.ChangeType)
			}
		}
	}
	if cts := got["message"]; !slices.Equal(cts, []string{"created", "updated", "deleted"}) {
		t.Errorf("message change types = %v, want created, updated, deleted", cts)
	}
}

// TestCount: count changes, each with its own notification.
func TestCount(t *testing.T) {
	s := start(t)
	r := newReceiver(t)
	subs := subscribe(t, s, descriptor(t, "message"), false, "created", map[string]string{"user": adele}, r.URL)
	status, body := s.do(t, s.key, "POST", "/_graphhook/trigger", map[string]any{"type": "message", "count": 3})
	if status != http.StatusOK {
		t.Fatalf("POST /_graphhook/trigger count 3 = %d %v, want 200", status, body)
	}
	results := decodeResults(t, body)
	if len(results) != 3 {
		t.Fatalf("results = %d, want 3", len(results))
	}
	seen := map[string]bool{}
	for _, res := range results {
		if len(res.Expected) != len(subs) || seen[res.Resource] {
			t.Errorf("result %+v: want a new message with %d notifications", res, len(subs))
		}
		seen[res.Resource] = true
	}
}

// TestBadInput: every mistake is a 400 in the Graph envelope that names it.
func TestBadInput(t *testing.T) {
	s := start(t)
	for _, c := range []struct {
		name string
		body any
		want string
	}{
		{"no type", map[string]any{}, "'type' is required"},
		{"unknown type", map[string]any{"type": "widget"}, "Unknown type 'widget'"},
		{"change type the type lacks", map[string]any{"type": "user", "changeType": "created"}, "has no 'created' change; it has updated, deleted"},
		{"unknown tenant", map[string]any{"type": "message", "tenantId": "nowhere.example"}, "Tenant 'nowhere.example' does not exist"},
		{"unknown user", map[string]any{"type": "message", "userId": "nobody@contoso.onmicrosoft.com"}, "User 'nobody@contoso.onmicrosoft.com' does not exist"},
		{"unknown parameter", map[string]any{"type": "message", "params": map[string]any{"color": "red"}}, "Unknown parameter 'color'"},
		{"empty parameter", map[string]any{"type": "message", "params": map[string]any{"chat": ""}}, "Parameter 'chat' is empty"},
		{"parameter not a string", map[string]any{"type": "message", "params": map[string]any{"chat": 3}}, "Parameter 'chat' must be a string"},
		{"unknown property", map[string]any{"type": "message", "colour": "red"}, "Unknown property 'colour'"},
		{"count zero", map[string]any{"type": "message", "count": 0}, "'count' must be a whole number between 1 and 1000"},
		{"count too large", map[string]any{"type": "message", "count": 5000}, "'count' must be a whole number"},
		{"personal change in a work tenant", map[string]any{"type": "personalDriveItem", "tenantId": "contoso.onmicrosoft.com"}, "is a personal account's change; it is made in the consumers tenant"},
		{"consumers tenant for a work change", map[string]any{"type": "message", "tenantId": "consumers"}, "does not exist"},
		{"object that does not exist", map[string]any{"type": "chatMessage", "params": map[string]any{"chat": "19:none@thread.v2"}}, "answered 404"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := s.do(t, s.key, "POST", "/_graphhook/trigger", c.body)
			e, _ := body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if status != http.StatusBadRequest || e["code"] != "BadRequest" || !strings.Contains(msg, c.want) {
				t.Errorf("POST /_graphhook/trigger %v = %d %v, want 400 BadRequest saying %q", c.body, status, body, c.want)
			}
		})
	}
	if status, _ := s.do(t, "wrong-key", "POST", "/_graphhook/trigger", map[string]any{"type": "message"}); status != http.StatusUnauthorized {
		t.Errorf("POST /_graphhook/trigger with a wrong key = %d, want 401", status)
	}
}

// TestNoAppHoldsPermission: in a tenant whose apps lack the sample's permission the
// error names the permission.
func TestNoAppHoldsPermission(t *testing.T) {
	fixture := filepath.Join(t.TempDir(), "fixture.yaml")
	os.WriteFile(fixture, []byte(`tenants:
  - id: 7a000000-0000-4000-8000-000000000001
    domain: fabrikam.onmicrosoft.com
    displayName: Fabrikam
    apps:
      - clientId: 7a000000-0000-4000-8000-0000000000a1
        clientSecret: s
        displayName: Reader
        applicationPermissions: [User.Read.All]
        delegatedPermissions: []
    users:
      - id: 7a000000-0000-4000-8000-0000000000b1
        userPrincipalName: ann@fabrikam.onmicrosoft.com
        password: Passw0rd!
        displayName: Ann
`), 0o600)
	m := app.New(app.Config{Addr: "127.0.0.1:0", HTTPSAddr: "off", Data: t.TempDir(), LogLevel: "error", Synchronous: "NORMAL", Fixture: fixture}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	s := &server{Main: m, key: m.Config.AdminKey}
	status, body := s.do(t, s.key, "POST", "/_graphhook/trigger", map[string]any{"type": "message"})
	e, _ := body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if status != http.StatusBadRequest || !strings.Contains(msg, "application permission Mail.ReadWrite") || !strings.Contains(msg, "7a000000-0000-4000-8000-000000000001") {
		t.Errorf("trigger message in a tenant without Mail.ReadWrite = %d %v, want 400 naming Mail.ReadWrite and the tenant", status, body)
	}
}

// TestCountOnOneObject: repeated updates of one long-lived object (Adele) each change
// it, so each notifies.
func TestCountOnOneObject(t *testing.T) {
	s := start(t)
	r := newReceiver(t)
	subs := subscribe(t, s, descriptor(t, "user"), false, "updated", map[string]string{"user": adele}, r.URL)
	status, body := s.do(t, s.key, "POST", "/_graphhook/trigger", map[string]any{"type": "user", "changeType": "updated", "count": 2})
	if status != http.StatusOK {
		t.Fatalf("POST /_graphhook/trigger user updated count 2 = %d %v, want 200", status, body)
	}
	for i, res := range decodeResults(t, body) {
		if len(res.Expected) != len(subs) {
			t.Errorf("change %d: expected %+v, want one notification per subscription %v", i, res.Expected, subs)
		}
		if _, ok := res.Params["unique"]; ok {
			t.Errorf("change %d: params %v show the internal {unique}", i, res.Params)
		}
	}
}
