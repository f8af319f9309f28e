package callrecords_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/goldenfile"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/callrecords"
)

func setup(t *testing.T) *testserver.Env {
	t.Helper()
	return testserver.New(t, func(e *testserver.Env) {
		w := callrecords.New(e.Store, e.Identity)
		w.Routes(e.HTTP.Graph())
		w.AdminRoutes(e.HTTP.Admin())
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

const (
	recordsPath = "/_graphhook/tenants/" + testserver.Tenant + "/communications/callRecords"
	recordID    = "e523d2ed-2966-4b6b-925b-754a88034cc5"
)

func identity(id, name string) map[string]any {
	return map[string]any{"user": map[string]any{"id": id, "displayName": name, "tenantId": testserver.Tenant}}
}

func sampleRecord() map[string]any {
	return map[string]any{
		"id": recordID, "type": "peerToPeer", "modalities": []any{"audio"},
		"startDateTime": "2026-03-01T10:00:00Z", "endDateTime": "2026-03-01T10:12:00Z",
		"organizer":    identity(testserver.Adele, "Adele Vance"),
		"participants": []any{identity(testserver.Adele, "Adele Vance"), identity(testserver.Bruno, "Bruno Costa")},
		"sessions": []any{map[string]any{
			"id": "s1", "modalities": []any{"audio"},
			"startDateTime": "2026-03-01T10:00:00Z", "endDateTime": "2026-03-01T10:12:00Z",
			"caller":   map[string]any{"@odata.type": "#microsoft.graph.callRecords.participantEndpoint", "identity": identity(testserver.Adele, "Adele Vance")},
			"callee":   map[string]any{"@odata.type": "#microsoft.graph.callRecords.participantEndpoint", "identity": identity(testserver.Bruno, "Bruno Costa")},
			"segments": []any{map[string]any{"id": "g1", "startDateTime": "2026-03-01T10:00:00Z", "endDateTime": "2026-03-01T10:12:00Z"}},
		}},
		"version":              7, // server-managed: ignored
		"lastModifiedDateTime": "2020-01-01T00:00:00Z",
	}
}

func TestCallRecordVersions(t *testing.T) {
	t.Parallel()
	env := setup(t)
	r := env.Do("POST", recordsPath, testserver.AdminKey, sampleRecord())
	if r.Status != http.StatusCreated || r.JSON()["version"] != 1.0 {
		t.Fatalf("POST admin callRecord = %s, want 201 with version 1", r)
	}
	app := env.AppToken()
	for _, tt := range []struct{ name, query string }{
		{"callrecord", ""},
		{"callrecord_sessions", "?$expand=sessions"},
		{"callrecord_segments", "?$expand=sessions($expand=segments)"},
	} {
		r := env.Do("GET", "/v1.0/communications/callRecords/"+recordID+tt.query, app, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s = %s", tt.query, r)
		}
		golden(t, env, tt.name, r.Body, "lastModifiedDateTime")
	}
	r = env.Do("PATCH", recordsPath+"/"+recordID, testserver.AdminKey, map[string]any{"modalities": []any{"audio", "video"}, "endDateTime": "2026-03-01T10:20:00Z"})
	if r.Status != http.StatusOK || r.JSON()["version"] != 2.0 || len(r.JSON()["modalities"].([]any)) != 2 {
		t.Fatalf("PATCH admin callRecord = %s, want 200 with version 2", r)
	}
	if r := env.Do("PATCH", recordsPath+"/"+recordID, testserver.AdminKey, map[string]any{"joinWebUrl": "https://teams.example/l/meetup-join/1"}); r.JSON()["version"] != 3.0 {
		t.Fatalf("second PATCH = %s, want version 3", r)
	}
	r = env.Do("GET", "/v1.0/communications/callRecords/"+recordID, app, nil)
	if r.JSON()["version"] != 3.0 || r.JSON()["endDateTime"] != "2026-03-01T10:20:00Z" || r.JSON()["sessions"] != nil {
		t.Errorf("GET after PATCH = %s", r)
	}

	changes := env.Changes(testserver.Tenant, change.CallRecords())
	if len(changes) != 3 {
		t.Fatalf("changes = %d, want 3", len(changes))
	}
	for i, want := range []string{store.Created, store.Updated, store.Updated} {
		c := changes[i]
		if c.ChangeType != want || c.Kind != callrecords.Kind || c.ID != recordID {
			t.Errorf("change %d = %s %s %s, want %s callRecord %s", i, c.ChangeType, c.Kind, c.ID, want, recordID)
		}
		if (c.Before == nil) != (i == 0) {
			t.Errorf("change %d before = %s", i, c.Before)
		}
		var after map[string]any
		json.Unmarshal(c.After, &after)
		if after["version"] != float64(i+1) {
			t.Errorf("change %d after.version = %v, want %d", i, after["version"], i+1)
		}
		if !cmp.Equal(c.Topics, []string{change.CallRecords()}) {
			t.Errorf("change %d topics = %v", i, c.Topics)
		}
		n, _ := change.NoticeOf(&c)
		res := "communications/callRecords/" + recordID
		if want := (change.Notice{Resource: res, ODataType: "#Microsoft.Graph.callRecord", ODataID: res, ID: recordID}); !cmp.Equal(n, want) {
			t.Errorf("change %d notice = %+v, want %+v", i, n, want)
		}
	}
}

func TestCallRecordAdminErrors(t *testing.T) {
	t.Parallel()
	env := setup(t)
	if r := env.Do("POST", recordsPath, testserver.AdminKey, sampleRecord()); r.Status != 201 {
		t.Fatal(r)
	}
	tests := []struct {
		name, method, path, key string
		body                    any
		status                  int
	}{
		{"bad key", "POST", recordsPath, "nope", map[string]any{}, 401},
		{"not json", "POST", recordsPath, testserver.AdminKey, "{", 400},
		{"unknown property", "POST", recordsPath, testserver.AdminKey, map[string]any{"callType": "x"}, 400},
		{"bad type", "POST", recordsPath, testserver.AdminKey, map[string]any{"type": "conference"}, 400},
		{"bad modality", "POST", recordsPath, testserver.AdminKey, map[string]any{"modalities": []any{"smell"}}, 400},
		{"bad time", "POST", recordsPath, testserver.AdminKey, map[string]any{"startDateTime": "noon"}, 400},
		{"bad id", "POST", recordsPath, testserver.AdminKey, map[string]any{"id": "not-a-guid"}, 400},
		{"sessions not array", "POST", recordsPath, testserver.AdminKey, map[string]any{"sessions": map[string]any{}}, 400},
		{"bad session property", "POST", recordsPath, testserver.AdminKey, map[string]any{"sessions": []any{map[string]any{"x": 1}}}, 400},
		{"bad segment", "POST", recordsPath, testserver.AdminKey, map[string]any{"sessions": []any{map[string]any{"segments": []any{1}}}}, 400},
		{"duplicate", "POST", recordsPath, testserver.AdminKey, map[string]any{"id": recordID}, 409},
		{"unknown tenant", "POST", "/_graphhook/tenants/00000000-0000-0000-0000-000000000000/communications/callRecords", testserver.AdminKey, map[string]any{}, 404},
		{"patch unknown", "PATCH", recordsPath + "/00000000-0000-0000-0000-000000000000", testserver.AdminKey, map[string]any{}, 404},
		{"patch other id", "PATCH", recordsPath + "/" + recordID, testserver.AdminKey, map[string]any{"id": "00000000-0000-0000-0000-000000000000"}, 400},
		{"patch bad type", "PATCH", recordsPath + "/" + recordID, testserver.AdminKey, map[string]any{"type": 1}, 400},
	}
	for _, tt := range tests {
		r := env.Do(tt.method, tt.path, tt.key, tt.body, "Content-Type", "application/json")
		if r.Status != tt.status || r.ErrorCode() == "" {
			t.Errorf("%s: %s = %s, want %d with an error code", tt.name, tt.method, r, tt.status)
		}
	}
	if n := len(env.Changes(testserver.Tenant, change.CallRecords())); n != 1 {
		t.Errorf("changes after refused writes = %d, want 1", n)
	}
	// A minimal body gets Graph's defaults.
	r := env.Do("POST", recordsPath, testserver.AdminKey, map[string]any{})
	if r.Status != 201 || r.JSON()["type"] != "unknown" || r.JSON()["version"] != 1.0 || r.JSON()["startDateTime"] == nil {
		t.Errorf("POST {} = %s", r)
	}
}

func TestCallRecordReadPermissionsAndList(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for i := 0; i < 3; i++ {
		if r := env.Do("POST", recordsPath, testserver.AdminKey, map[string]any{"type": "groupCall"}); r.Status != 201 {
			t.Fatal(r)
		}
	}
	otherID, otherSecret := env.AddApp([]string{"User.Read.All"}, nil)
	for _, tt := range []struct {
		name, token string
		status      int
	}{
		{"app", env.AppToken(), 200},
		{"app without permission", env.ClientToken(otherID, otherSecret), 403},
		{"delegated", env.UserToken(testserver.AdeleUPN), 403},
		{"personal", env.PersonalToken(), 403},
	} {
		if r := env.Do("GET", "/v1.0/communications/callRecords", tt.token, nil); r.Status != tt.status {
			t.Errorf("%s: GET list = %s, want %d", tt.name, r, tt.status)
		}
	}
	app := env.AppToken()
	r := env.Do("GET", "/v1.0/communications/callRecords?$top=2", app, nil)
	next, _ := r.JSON()["@odata.nextLink"].(string)
	if r.Status != 200 || len(r.JSON()["value"].([]any)) != 2 || next == "" {
		t.Fatalf("GET $top=2 = %s", r)
	}
	r = env.Do("GET", next, app, nil)
	if len(r.JSON()["value"].([]any)) != 1 || r.JSON()["@odata.nextLink"] != nil {
		t.Errorf("page 2 = %s, want 1 record and no nextLink", r)
	}
	for _, q := range []string{"$top=0", "$top=61", "$expand=participants", "$filter=type%20eqq"} {
		path := "/v1.0/communications/callRecords?" + q
		if q == "$expand=participants" {
			path = "/v1.0/communications/callRecords/" + recordID + "?" + q
		}
		if r := env.Do("GET", path, app, nil); r.Status != 400 {
			t.Errorf("GET ?%s = %s, want 400", q, r)
		}
	}
	if r := env.Do("GET", "/v1.0/communications/callRecords?$top=60", app, nil); r.Status != 200 {
		t.Errorf("GET $top=60 = %s, want 200", r)
	}
	if r := env.Do("GET", "/v1.0/communications/callRecords/"+recordID, app, nil); r.Status != 404 || r.ErrorCode() != "NotFound" {
		t.Errorf("GET unknown = %s, want 404 NotFound", r)
	}
}
