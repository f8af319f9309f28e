package security_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/goldenfile"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/security"
)

func setup(t *testing.T) *testserver.Env {
	t.Helper()
	return testserver.New(t, func(e *testserver.Env) {
		w := security.New(e.Store, e.Identity)
		w.Routes(e.HTTP.Graph())
		w.AdminRoutes(e.HTTP.Admin())
		a, err := admin.New(admin.Config{}, e.Identity, e.Clock)
		if err != nil {
			t.Fatal(err)
		}
		a.Routes(e.HTTP.Admin())
	})
}

// golden compares a response body with testdata/name.golden.json after replacing the
// server URL and the values of the volatile keys.
func golden(t *testing.T, env *testserver.Env, name string, body []byte, volatile ...string) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(bytes.ReplaceAll(body, []byte(env.URL), []byte("{url}")), &doc); err != nil {
		t.Fatalf("%s: body is not JSON: %v", name, err)
	}
	goldenfile.Scrub(doc, volatile...)
	goldenfile.Compare(t, name, goldenfile.Indent(t, doc))
}

const alertsPath = "/_graphhook/tenants/" + testserver.Tenant + "/security/alerts"

func sampleAlert(id, status, severity, category, provider string) map[string]any {
	return map[string]any{
		"id": id, "title": "Suspicious sign-in " + id, "description": "Sign-in from an unfamiliar location.",
		"category": category, "severity": severity, "status": status,
		"createdDateTime": "2026-03-01T10:00:00Z", "eventDateTime": "2026-03-01T09:58:00Z",
		"vendorInformation": map[string]any{"provider": provider, "vendor": "Microsoft", "providerVersion": "1.0", "subProvider": nil},
		"userStates":        []any{map[string]any{"userPrincipalName": testserver.AdeleUPN, "aadUserId": testserver.Adele}},
		"hostStates":        []any{map[string]any{"fqdn": "laptop-7.contoso.com"}},
	}
}

func TestAdminCreateAlert(t *testing.T) {
	t.Parallel()
	env := setup(t)
	r := env.Do("POST", alertsPath, testserver.AdminKey, sampleAlert("alert-1", "newAlert", "high", "UnfamiliarLocation", "IPC"))
	if r.Status != http.StatusCreated {
		t.Fatalf("POST admin alert = %s, want 201", r)
	}
	golden(t, env, "admin_alert", r.Body, "lastModifiedDateTime")

	changes := env.Changes(testserver.Tenant, change.Alerts())
	if len(changes) != 1 {
		t.Fatalf("changes on %s = %d, want 1", change.Alerts(), len(changes))
	}
	c := changes[0]
	if c.Kind != security.Kind || c.ID != "alert-1" || c.ChangeType != store.Created || c.Before != nil {
		t.Errorf("change = %s %s %s before=%s, want alert alert-1 created before=nil", c.Kind, c.ID, c.ChangeType, c.Before)
	}
	if want := []string{change.Alerts(), change.Alert("alert-1")}; !cmp.Equal(c.Topics, want) {
		t.Errorf("topics = %v, want %v", c.Topics, want)
	}
	n, _ := change.NoticeOf(&c)
	if want := (change.Notice{Resource: "security/alerts/alert-1", ODataType: "#Microsoft.Graph.alert", ODataID: "security/alerts/alert-1", ID: "alert-1"}); !cmp.Equal(n, want) {
		t.Errorf("notice = %+v, want %+v", n, want)
	}
	var after map[string]any
	json.Unmarshal(c.After, &after)
	if after["title"] != "Suspicious sign-in alert-1" || after["azureTenantId"] != testserver.Tenant {
		t.Errorf("after = %s", c.After)
	}

	// Without an id the server picks one; without vendorInformation graphhook stands in.
	r = env.Do("POST", alertsPath, testserver.AdminKey, map[string]any{"title": "minimal"})
	if r.Status != http.StatusCreated || r.JSON()["id"] == "" || r.JSON()["status"] != "newAlert" {
		t.Fatalf("POST minimal alert = %s", r)
	}
	if vi := r.JSON()["vendorInformation"].(map[string]any); vi["provider"] != "graphhook" || vi["vendor"] != "graphhook" {
		t.Errorf("default vendorInformation = %v", vi)
	}
}

func TestAdminAlertErrors(t *testing.T) {
	t.Parallel()
	env := setup(t)
	if r := env.Do("POST", alertsPath, testserver.AdminKey, sampleAlert("dup", "newAlert", "low", "x", "IPC")); r.Status != http.StatusCreated {
		t.Fatalf("POST = %s", r)
	}
	tests := []struct {
		name, path, key string
		body            any
		status          int
		code            string
	}{
		{"bad key", alertsPath, "wrong", map[string]any{"title": "x"}, 401, "InvalidAuthenticationToken"},
		{"no key", alertsPath, "", map[string]any{"title": "x"}, 401, "InvalidAuthenticationToken"},
		{"not json", alertsPath, testserver.AdminKey, "{not json", 400, "BadRequest"},
		{"array", alertsPath, testserver.AdminKey, "[]", 400, "BadRequest"},
		{"empty", alertsPath, testserver.AdminKey, "", 400, "BadRequest"},
		{"unknown property", alertsPath, testserver.AdminKey, map[string]any{"titel": "x"}, 400, "BadRequest"},
		{"bad severity", alertsPath, testserver.AdminKey, map[string]any{"severity": "severe"}, 400, "BadRequest"},
		{"bad status", alertsPath, testserver.AdminKey, map[string]any{"status": "New"}, 400, "BadRequest"},
		{"bad time", alertsPath, testserver.AdminKey, map[string]any{"createdDateTime": "yesterday"}, 400, "BadRequest"},
		{"bad tags", alertsPath, testserver.AdminKey, map[string]any{"tags": []any{1}}, 400, "BadRequest"},
		{"id not string", alertsPath, testserver.AdminKey, map[string]any{"id": 7}, 400, "BadRequest"},
		{"id with slash", alertsPath, testserver.AdminKey, map[string]any{"id": "a/b"}, 400, "BadRequest"},
		{"duplicate id", alertsPath, testserver.AdminKey, map[string]any{"id": "dup"}, 409, "Conflict"},
		{"unknown tenant", "/_graphhook/tenants/nobody.example/security/alerts", testserver.AdminKey, map[string]any{"title": "x"}, 404, "ResourceNotFound"},
		{"consumers tenant", "/_graphhook/tenants/consumers/security/alerts", testserver.AdminKey, map[string]any{"title": "x"}, 404, "ResourceNotFound"},
	}
	for _, tt := range tests {
		r := env.Do("POST", tt.path, tt.key, tt.body, "Content-Type", "application/json")
		if r.Status != tt.status || r.ErrorCode() != tt.code {
			t.Errorf("%s: POST = %s, want %d %s", tt.name, r, tt.status, tt.code)
		}
	}
	if n := len(env.Changes(testserver.Tenant, change.Alerts())); n != 1 {
		t.Errorf("changes after failed creates = %d, want 1", n)
	}
}

func TestListAlertsFilterAndTop(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, a := range []map[string]any{
		sampleAlert("a1", "newAlert", "high", "Malware", "IPC"),
		sampleAlert("a2", "inProgress", "high", "Malware", "MCAS"),
		sampleAlert("a3", "newAlert", "low", "Phishing", "IPC"),
	} {
		if r := env.Do("POST", alertsPath, testserver.AdminKey, a); r.Status != http.StatusCreated {
			t.Fatalf("POST = %s", r)
		}
	}
	app := env.AppToken()
	tests := []struct {
		filter string
		want   int
	}{
		{"", 3},
		{"status eq 'newAlert'", 2},
		{"severity eq 'high'", 2},
		{"category eq 'Phishing'", 1},
		{"vendorInformation/provider eq 'IPC'", 2},
		{"status eq 'newAlert' and severity eq 'high' and vendorInformation/provider eq 'IPC'", 1},
		{"status eq 'resolved'", 0},
	}
	for _, tt := range tests {
		path := "/v1.0/security/alerts"
		if tt.filter != "" {
			path += "?$filter=" + strings.ReplaceAll(tt.filter, " ", "%20")
		}
		r := env.Do("GET", path, app, nil)
		if r.Status != http.StatusOK {
			t.Errorf("GET %s = %s", path, r)
			continue
		}
		if got := len(r.JSON()["value"].([]any)); got != tt.want {
			t.Errorf("GET ?$filter=%s: %d alerts, want %d", tt.filter, got, tt.want)
		}
	}
	r := env.Do("GET", "/v1.0/security/alerts?$top=2", app, nil)
	if got := len(r.JSON()["value"].([]any)); r.Status != 200 || got != 2 {
		t.Fatalf("GET $top=2 = %d items (%d), want 2", got, r.Status)
	}
	next, _ := r.JSON()["@odata.nextLink"].(string)
	if next == "" {
		t.Fatal("GET $top=2 of 3: no @odata.nextLink")
	}
	r = env.Do("GET", next, app, nil)
	if got := len(r.JSON()["value"].([]any)); got != 1 || r.JSON()["@odata.nextLink"] != nil {
		t.Errorf("second page = %d items, nextLink %v; want 1, none", got, r.JSON()["@odata.nextLink"])
	}
	for _, bad := range []string{"$top=0", "$top=1001", "$top=x", "$filter=title%20eqq%20'x'", "$filter=description%20eq%20'x'", "$skiptoken=!!"} {
		if r := env.Do("GET", "/v1.0/security/alerts?"+bad, app, nil); r.Status != http.StatusBadRequest {
			t.Errorf("GET ?%s = %s, want 400", bad, r)
		}
	}
	if r := env.Do("GET", "/v1.0/security/alerts?$top=1000", app, nil); r.Status != http.StatusOK {
		t.Errorf("GET $top=1000 = %s, want 200", r)
	}
}

func TestAlertPermissions(t *testing.T) {
	t.Parallel()
	env := setup(t)
	if r := env.Do("POST", alertsPath, testserver.AdminKey, sampleAlert("p1", "newAlert", "high", "x", "IPC")); r.Status != 201 {
		t.Fatal(r)
	}
	readID, readSecret := env.AddApp([]string{"SecurityEvents.Read.All"}, []string{"SecurityEvents.Read.All"})
	noneID, noneSecret := env.AddApp([]string{"User.Read.All"}, nil)
	readApp := env.ClientToken(readID, readSecret)
	readUser := env.DelegatedToken(readID, readSecret, testserver.Tenant, testserver.AdeleUPN, "SecurityEvents.Read.All")
	patch := map[string]any{"status": "inProgress", "vendorInformation": map[string]any{"provider": "IPC", "vendor": "Microsoft"}}
	tests := []struct {
		name, method, token string
		status              int
	}{
		{"app ReadWrite get", "GET", env.AppToken(), 200},
		{"app Read get", "GET", readApp, 200},
		{"app Read patch", "PATCH", readApp, 403},
		{"app none get", "GET", env.ClientToken(noneID, noneSecret), 403},
		{"delegated Read get", "GET", readUser, 200},
		{"delegated Read patch", "PATCH", readUser, 403},
		{"delegated ReadWrite patch", "PATCH", env.UserToken(testserver.AdeleUPN, "SecurityEvents.ReadWrite.All"), 204},
		{"delegated without scope", "GET", env.UserToken(testserver.AdeleUPN, "User.Read"), 403},
		{"personal", "GET", env.PersonalToken("User.Read"), 403},
		{"app ReadWrite patch", "PATCH", env.AppToken(), 204},
	}
	for _, tt := range tests {
		var body any
		if tt.method == "PATCH" {
			body = patch
		}
		r := env.Do(tt.method, "/v1.0/security/alerts/p1", tt.token, body)
		if r.Status != tt.status {
			t.Errorf("%s: %s = %s, want %d", tt.name, tt.method, r, tt.status)
		}
		if tt.status == 403 && r.ErrorCode() != "Forbidden" {
			t.Errorf("%s: code %q, want Forbidden", tt.name, r.ErrorCode())
		}
	}
	if r := env.Do("GET", "/v1.0/security/alerts/nope", env.AppToken(), nil); r.Status != 404 || r.ErrorCode() != "NotFound" {
		t.Errorf("GET unknown alert = %s, want 404 NotFound", r)
	}
}

func TestPatchAlert(t *testing.T) {
	t.Parallel()
	env := setup(t)
	if r := env.Do("POST", alertsPath, testserver.AdminKey, sampleAlert("x1", "newAlert", "high", "Malware", "IPC")); r.Status != 201 {
		t.Fatal(r)
	}
	app := env.AppToken()
	vi := map[string]any{"provider": "IPC", "vendor": "Microsoft"}
	bad := []struct {
		name string
		body map[string]any
	}{
		{"no vendorInformation", map[string]any{"status": "resolved"}},
		{"no vendor", map[string]any{"status": "resolved", "vendorInformation": map[string]any{"provider": "IPC"}}},
		{"other provider", map[string]any{"status": "resolved", "vendorInformation": map[string]any{"provider": "MCAS", "vendor": "Microsoft"}}},
		{"read-only property", map[string]any{"title": "x", "vendorInformation": vi}},
		{"unknown property", map[string]any{"colour": "x", "vendorInformation": vi}},
		{"bad status", map[string]any{"status": "done", "vendorInformation": vi}},
		{"bad feedback", map[string]any{"feedback": "yes", "vendorInformation": vi}},
		{"bad closedDateTime", map[string]any{"closedDateTime": "soon", "vendorInformation": vi}},
	}
	for _, tt := range bad {
		if r := env.Do("PATCH", "/v1.0/security/alerts/x1", app, tt.body); r.Status != 400 || r.ErrorCode() != "BadRequest" {
			t.Errorf("%s: PATCH = %s, want 400 BadRequest", tt.name, r)
		}
	}
	body := map[string]any{
		"status": "resolved", "feedback": "truePositive", "assignedTo": "emil@contoso.onmicrosoft.com",
		"comments": []any{"Closed in IR-17"}, "tags": []any{"ir"}, "closedDateTime": "2026-03-02T08:00:00Z",
		"vendorInformation": vi,
	}
	if r := env.Do("PATCH", "/v1.0/security/alerts/x1", app, body); r.Status != http.StatusNoContent {
		t.Fatalf("PATCH = %s, want 204", r)
	}
	r := env.Do("GET", "/v1.0/security/alerts/x1", app, nil)
	if r.Status != 200 {
		t.Fatal(r)
	}
	golden(t, env, "alert_patched", r.Body, "lastModifiedDateTime")

	changes := env.Changes(testserver.Tenant, change.Alert("x1"))
	if len(changes) != 2 || changes[1].ChangeType != store.Updated {
		t.Fatalf("changes on alert = %d (last %v), want created then updated", len(changes), changes)
	}
	var before, after map[string]any
	json.Unmarshal(changes[1].Before, &before)
	json.Unmarshal(changes[1].After, &after)
	if before["status"] != "newAlert" || after["status"] != "resolved" || after["feedback"] != "truePositive" {
		t.Errorf("before/after status = %v/%v feedback %v", before["status"], after["status"], after["feedback"])
	}

	r = env.Do("PATCH", "/v1.0/security/alerts/x1", app, map[string]any{"tags": nil, "vendorInformation": vi}, "Prefer", "return=representation")
	if r.Status != 200 || len(r.JSON()["tags"].([]any)) != 0 {
		t.Errorf("PATCH with Prefer: return=representation = %s, want 200 with tags []", r)
	}
	if r := env.Do("PATCH", "/v1.0/security/alerts/none", app, body); r.Status != 404 {
		t.Errorf("PATCH unknown = %s, want 404", r)
	}
}
