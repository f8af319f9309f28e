package teams_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/goldenfile"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/teams"
)

func setup(t *testing.T) *testserver.Env {
	t.Helper()
	return testserver.New(t, func(e *testserver.Env) {
		teams.New(e.Store, e.Identity).Routes(e.HTTP.Graph())
		directory.NewWithGroupHook(e.Store, e.Identity, teams.DeleteTeamOf).Routes(e.HTTP.Graph())
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

var channelIDPattern = regexp.MustCompile(`^19:[0-9a-f]{32}@thread\.tacv2$`)

// volatile keys of Teams documents: generated ids and times.
var volatile = []string{"id", "internalId", "webUrl", "createdDateTime", "lastModifiedDateTime", "lastUpdatedDateTime", "etag", "replyToId", "channelId", "chatId", "@odata.context", "@odata.id"}

// makeTeam turns the Sales group (Adele owner; Adele and Bruno members) into a team
// and returns its General channel's id.
func makeTeam(t *testing.T, env *testserver.Env) string {
	t.Helper()
	r := env.Do("PUT", "/v1.0/groups/"+testserver.SalesGroup+"/team", env.UserToken(testserver.AdeleUPN), map[string]any{})
	if r.Status != http.StatusCreated {
		t.Fatalf("PUT /groups/{id}/team = %s, want 201", r)
	}
	return r.JSON()["internalId"].(string)
}

func TestTeams(t *testing.T) {
	t.Parallel()
	env := setup(t)
	adele := env.UserToken(testserver.AdeleUPN)
	r := env.Do("PUT", "/v1.0/groups/"+testserver.SalesGroup+"/team", adele, map[string]any{"funSettings": map[string]any{"allowGiphy": false}})
	if r.Status != http.StatusCreated {
		t.Fatalf("PUT team = %s", r)
	}
	golden(t, env, "team", r.Body, volatile...)
	if r.JSON()["id"] != testserver.SalesGroup || !channelIDPattern.MatchString(r.JSON()["internalId"].(string)) {
		t.Errorf("team id/internalId = %v/%v", r.JSON()["id"], r.JSON()["internalId"])
	}
	app := env.AppToken()
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
	}{
		{"again", "PUT", "/v1.0/groups/" + testserver.SalesGroup + "/team", adele, map[string]any{}, 409, "Conflict"},
		{"unknown group", "PUT", "/v1.0/groups/33333333-0000-4000-8000-00000000ffff/team", app, map[string]any{}, 404, "NotFound"},
		{"non-member", "PUT", "/v1.0/groups/" + testserver.EngGroup + "/team", adele, map[string]any{}, 403, "Forbidden"},
		{"bad settings", "PUT", "/v1.0/groups/" + testserver.EngGroup + "/team", app, map[string]any{"funSettings": map[string]any{"allowMemes": true}}, 400, "BadRequest"},
		{"no permission", "PUT", "/v1.0/groups/" + testserver.EngGroup + "/team", env.UserToken(chenUPN, "User.Read"), map[string]any{}, 403, "Forbidden"},
		{"personal", "GET", "/v1.0/teams/" + testserver.SalesGroup, env.PersonalToken(), nil, 403, "Forbidden"},
		{"get as app", "GET", "/v1.0/teams/" + testserver.SalesGroup, app, nil, 200, ""},
		{"get as member", "GET", "/v1.0/groups/" + testserver.SalesGroup + "/team", adele, nil, 200, ""},
		{"get as non-member", "GET", "/v1.0/teams/" + testserver.SalesGroup, env.UserToken(chenUPN), nil, 403, "Forbidden"},
		{"get unknown", "GET", "/v1.0/teams/" + testserver.EngGroup, app, nil, 404, "NotFound"},
		{"post without template", "POST", "/v1.0/teams", app, map[string]any{"group@odata.bind": "https://graph.microsoft.com/v1.0/groups('" + testserver.EngGroup + "')"}, 400, "BadRequest"},
		{"new team by an app without an owner", "POST", "/v1.0/teams", app, map[string]any{"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')", "displayName": "New"}, 400, "BadRequest"},
		{"new team without a name", "POST", "/v1.0/teams", adele, map[string]any{"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')"}, 400, "BadRequest"},
		{"new team with an unknown owner", "POST", "/v1.0/teams", app, map[string]any{"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')", "displayName": "New",
			"members": []any{map[string]any{"roles": []any{"owner"}, "user@odata.bind": "https://graph.microsoft.com/v1.0/users('nobody@contoso.onmicrosoft.com')"}}}, 404, "Request_ResourceNotFound"},
		{"bad group bind", "POST", "/v1.0/teams", app, map[string]any{"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')", "group@odata.bind": "groups"}, 400, "BadRequest"},
	}
	for _, tt := range tests {
		r := env.Do(tt.method, tt.path, tt.token, tt.body)
		if r.Status != tt.status || r.ErrorCode() != tt.code {
			t.Errorf("%s: %s %s = %s, want %d %s", tt.name, tt.method, tt.path, r, tt.status, tt.code)
		}
	}
	r = env.Do("POST", "/v1.0/teams", app, map[string]any{
		"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
		"group@odata.bind":    "https://graph.microsoft.com/v1.0/groups('" + testserver.EngGroup + "')",
	})
	if r.Status != http.StatusAccepted || r.Header.Get("Content-Location") != "/teams('"+testserver.EngGroup+"')" || !strings.HasPrefix(r.Header.Get("Location"), "/teams('"+testserver.EngGroup+"')/operations('") {
		t.Fatalf("POST /teams = %s %v, want 202 with Location and Content-Location", r, r.Header)
	}
	if r := env.Do("GET", "/v1.0"+r.Header.Get("Location"), app, nil); r.Status != 200 || r.JSON()["status"] != "succeeded" {
		t.Errorf("GET operation = %s, want succeeded", r)
	}
	// A new team with a new Microsoft 365 group: the app names the owner; a delegated
	// caller owns it.
	r = env.Do("POST", "/v1.0/teams", app, map[string]any{
		"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
		"displayName":         "Launch Crew", "description": "Spring launch",
		"members": []any{map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": []any{"owner"},
			"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + testserver.Adele + "')"}},
	})
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST /teams (new group) = %s", r)
	}
	newTeam := strings.TrimSuffix(strings.TrimPrefix(r.Header.Get("Content-Location"), "/teams('"), "')")
	if r := env.Do("GET", "/v1.0/teams/"+newTeam, adele, nil); r.Status != 200 || r.JSON()["displayName"] != "Launch Crew" {
		t.Errorf("GET the new team as its owner = %s", r)
	}
	if g := env.Do("GET", "/v1.0/groups/"+newTeam, app, nil); g.Status != 200 || g.JSON()["groupTypes"].([]any)[0] != "Unified" {
		t.Errorf("the new team's group = %s", g)
	}
	if ch := env.Changes(testserver.Tenant, "groups/"+newTeam); len(ch) != 1 || ch[0].ChangeType != "created" {
		t.Errorf("change records of the new group = %d, want 1 created", len(ch))
	}
	r = env.Do("POST", "/v1.0/teams", env.UserToken(chenUPN), map[string]any{
		"template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')", "displayName": "Chen's team"})
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST /teams (delegated, new group) = %s", r)
	}
	r = env.Do("GET", "/v1.0/me/joinedTeams", env.UserToken(chenUPN), nil)
	if r.Status != 200 || len(r.JSON()["value"].([]any)) != 2 {
		t.Errorf("Chen's joinedTeams after creating one = %s, want Engineering and Chen's team", r)
	}
	r = env.Do("GET", "/v1.0/me/joinedTeams", env.UserToken(testserver.BrunoUPN), nil)
	if r.Status != 200 || len(r.JSON()["value"].([]any)) != 1 {
		t.Errorf("Bruno's joinedTeams = %s, want Sales only", r)
	}
}

func TestChannels(t *testing.T) {
	t.Parallel()
	env := setup(t)
	general := makeTeam(t, env)
	adele := env.UserToken(testserver.AdeleUPN)
	base := "/v1.0/teams/" + testserver.SalesGroup + "/channels"
	r := env.Do("POST", base, adele, map[string]any{"displayName": "Launch", "description": "Spring launch"})
	if r.Status != http.StatusCreated || !channelIDPattern.MatchString(r.JSON()["id"].(string)) {
		t.Fatalf("POST channel = %s", r)
	}
	golden(t, env, "channel", r.Body, volatile...)
	launch := r.JSON()["id"].(string)
	long := strings.Repeat("x", 50)
	for _, tt := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"duplicate", map[string]any{"displayName": "launch"}, 400, "NameAlreadyExists"},
		{"general", map[string]any{"displayName": "General"}, 400, "NameAlreadyExists"},
		{"no name", map[string]any{"description": "x"}, 400, "BadRequest"},
		{"name too long", map[string]any{"displayName": long + "y"}, 400, "BadRequest"},
		{"bad character", map[string]any{"displayName": "a/b"}, 400, "BadRequest"},
		{"private", map[string]any{"displayName": "Secret", "membershipType": "private"}, 400, "notSupported"},
		{"name at the limit", map[string]any{"displayName": long}, 201, ""},
	} {
		if r := env.Do("POST", base, adele, tt.body); r.Status != tt.status || r.ErrorCode() != tt.code {
			t.Errorf("%s: POST channel = %s, want %d %s", tt.name, r, tt.status, tt.code)
		}
	}
	app := env.AppToken()
	r = env.Do("GET", base, app, nil)
	if r.Status != 200 || len(r.JSON()["value"].([]any)) != 3 {
		t.Fatalf("GET channels = %s, want 3", r)
	}
	if r := env.Do("GET", base+"/"+launch, adele, nil); r.Status != 200 || r.JSON()["displayName"] != "Launch" {
		t.Errorf("GET channel = %s", r)
	}
	if r := env.Do("GET", "/v1.0/teams/"+testserver.SalesGroup+"/primaryChannel", app, nil); r.Status != 200 || r.JSON()["id"] != general || r.JSON()["displayName"] != "General" {
		t.Errorf("GET primaryChannel = %s, want General %s", r, general)
	}
	for _, tt := range []struct {
		name, method, path, token string
		status                    int
	}{
		{"unknown channel", "GET", base + "/19:00000000000000000000000000000000@thread.tacv2", app, 404},
		{"non-member list", "GET", base, env.UserToken(chenUPN), 403},
		{"non-member create", "POST", base, env.UserToken(chenUPN), 403},
		{"no scope", "GET", base, env.UserToken(testserver.AdeleUPN, "User.Read"), 403},
		{"personal", "GET", base, env.PersonalToken(), 403},
	} {
		var body any
		if tt.method == "POST" {
			body = map[string]any{"displayName": "Other"}
		}
		if r := env.Do(tt.method, tt.path, tt.token, body); r.Status != tt.status {
			t.Errorf("%s: %s = %s, want %d", tt.name, tt.method, r, tt.status)
		}
	}
}

// asMap decodes JSON for comparisons that ignore key order.
func asMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return m
}

func sameJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if diff := cmp.Diff(asMap(t, want), asMap(t, got)); diff != "" {
		t.Errorf("%s differs from the GET JSON (-get +change):\n%s", what, diff)
	}
}

// Demo users the harness has no constants for.
const (
	chenUPN = "chen@contoso.onmicrosoft.com"
	danaUPN = "dana@contoso.onmicrosoft.com"
	dana    = "22222222-0000-4000-8000-000000000004"
)
