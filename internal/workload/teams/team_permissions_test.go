package teams_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/teams"
)

// permissionRow is one row of Microsoft's permission tables: a resource path and, per
// permission type, the permissions listed (nil: "Not supported.").
type permissionRow struct {
	typ, path                            string
	application, delegatedWork, personal []string
}

// teamPermissionRows are the tables of "Get change notifications for teams and
// channels", "… for chats", "… for membership changes in teams and channels" and
// "… for chat membership", copied row by row (resource-specific consent permissions,
// marked * there, included).
var teamPermissionRows = []permissionRow{
	{typ: "team", path: "teams",
		application: []string{"Team.ReadBasic.All", "TeamSettings.Read.All", "TeamSettings.ReadWrite.All"}},
	{typ: "team", path: "teams/{team}",
		application:   []string{"TeamSettings.Read.Group", "TeamSettings.ReadWrite.Group", "Team.ReadBasic.All", "TeamSettings.Read.All", "TeamSettings.ReadWrite.All"},
		delegatedWork: []string{"Team.ReadBasic.All", "TeamSettings.Read.All", "TeamSettings.ReadWrite.All"}},
	{typ: "channel", path: "teams/getAllChannels",
		application: []string{"Channel.ReadBasic.All", "ChannelSettings.Read.All", "ChannelSettings.ReadWrite.All"}},
	{typ: "channel", path: "teams/{team}/channels",
		application:   []string{"ChannelSettings.Read.Group", "ChannelSettings.ReadWrite.Group", "Channel.ReadBasic.All", "ChannelSettings.Read.All", "ChannelSettings.ReadWrite.All"},
		delegatedWork: []string{"Channel.ReadBasic.All", "ChannelSettings.Read.All", "ChannelSettings.ReadWrite.All"}},
	{typ: "chat", path: "chats",
		application: []string{"Chat.ReadBasic.All", "Chat.Read.All", "Chat.ReadWrite.All"}},
	{typ: "chat", path: "chats/{chat}",
		application:   []string{"ChatSettings.Read.Chat", "ChatSettings.ReadWrite.Chat", "Chat.Manage.Chat", "Chat.ReadBasic.All", "Chat.Read.All", "Chat.ReadWrite.All"},
		delegatedWork: []string{"Chat.ReadBasic", "Chat.Read", "Chat.ReadWrite"}},
	{typ: "conversationMember", path: "teams/getAllMembers",
		application: []string{"TeamMember.Read.All", "TeamMember.ReadWrite.All"}},
	{typ: "conversationMember", path: "chats/getAllMembers",
		application: []string{"ChatMember.Read.All", "ChatMember.ReadWrite.All", "Chat.ReadBasic.All", "Chat.Read.All", "Chat.ReadWrite.All"}},
	{typ: "conversationMember", path: "teams/{team}/members",
		application:   []string{"TeamMember.Read.Group", "TeamMember.Read.All", "TeamMember.ReadWrite.All"},
		delegatedWork: []string{"TeamMember.Read.All", "TeamMember.ReadWrite.All"}},
	{typ: "conversationMember", path: "teams/{team}/channels/getAllMembers",
		application:   []string{"ChannelMember.Read.All"},
		delegatedWork: []string{"ChannelMember.Read.All"}},
	{typ: "conversationMember", path: "chats/{chat}/members",
		application:   []string{"ChatMember.Read.Chat", "Chat.Manage.Chat", "ChatMember.Read.All", "ChatMember.ReadWrite.All", "Chat.ReadBasic.All", "Chat.Read.All", "Chat.ReadWrite.All"},
		delegatedWork: []string{"ChatMember.Read", "ChatMember.ReadWrite", "Chat.ReadBasic", "Chat.Read", "Chat.ReadWrite"}},
}

// TestTeamResourcePermissionTable compares each descriptor's table with Microsoft's,
// row by row, path by path; a path without a row, or a row without a path, fails.
func TestTeamResourcePermissionTable(t *testing.T) {
	t.Parallel()
	byType := map[string]resource.Descriptor{}
	for _, d := range teams.Resources() {
		byType[d.Type] = d
	}
	seen := map[string]bool{}
	for _, typ := range []string{"team", "channel", "chat", "conversationMember"} {
		d, ok := byType[typ]
		if !ok {
			t.Fatalf("teams.Resources() has no %s descriptor", typ)
		}
		for _, p := range d.Paths {
			i := slices.IndexFunc(teamPermissionRows, func(r permissionRow) bool { return r.typ == typ && r.path == p.Pattern })
			if i < 0 {
				t.Errorf("%s path %s: no row in Microsoft's table", typ, p.Pattern)
				continue
			}
			row := teamPermissionRows[i]
			seen[typ+" "+p.Pattern] = true
			for _, pt := range []struct {
				t    identity.PermissionType
				want []string
			}{{identity.Application, row.application}, {identity.DelegatedWork, row.delegatedWork}, {identity.DelegatedPersonal, row.personal}} {
				got, ok := d.Names(p.Variant, pt.t)
				if ok != (pt.want != nil) || !cmp.Equal(got, pt.want, cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })) {
					t.Errorf("%s %s, %s: Names = %v (ok %v), want %v", typ, p.Pattern, pt.t, got, ok, pt.want)
				}
			}
		}
	}
	for _, r := range teamPermissionRows {
		if !seen[r.typ+" "+r.path] {
			t.Errorf("row %s %s: no such path in the descriptor", r.typ, r.path)
		}
	}
}

// TestTeamResourcePermissionsSubscribe walks the same rows through the subscriptions
// API: each listed permission alone lets its permission type subscribe; a caller
// holding none of them, or of a type the row does not support, is refused 403.
func TestTeamResourcePermissionsSubscribe(t *testing.T) {
	t.Parallel()
	env := notifySetup(t)
	h := newHook(t)
	adele := env.UserToken(testserver.AdeleUPN)
	team := env.Do("PUT", "/v1.0/groups/"+testserver.SalesGroup+"/team", adele, map[string]any{}).JSON()["id"].(string)
	chat := env.Do("POST", "/v1.0/chats", adele, map[string]any{"chatType": "group", "members": members(testserver.Adele, testserver.Bruno)}).JSON()["id"].(string)
	subscribe := func(token, path string) *testserver.Response {
		t.Helper()
		res := strings.NewReplacer("{team}", team, "{chat}", chat).Replace(path)
		return env.Do("POST", "/v1.0/subscriptions", token, map[string]any{"changeType": "created", "notificationUrl": h.URL,
			"resource": res, "expirationDateTime": graph.FormatTime(env.Clock.Now().Add(30 * time.Minute))})
	}
	// One app per permission name and type, holding that permission alone.
	tokens := map[string]string{}
	token := func(name string, delegated bool) string {
		t.Helper()
		key := "app " + name
		if delegated {
			key = "delegated " + name
		}
		if tk, ok := tokens[key]; ok {
			return tk
		}
		if delegated {
			id, secret := env.AddApp(nil, []string{name})
			tokens[key] = env.DelegatedToken(id, secret, testserver.Tenant, testserver.AdeleUPN)
		} else {
			tokens[key] = env.ClientToken(env.AddApp([]string{name}, nil))
		}
		return tokens[key]
	}
	none := env.ClientToken(env.AddApp([]string{"User.Read.All"}, nil))
	for _, row := range teamPermissionRows {
		for _, name := range row.application {
			if r := subscribe(token(name, false), row.path); r.Status != http.StatusCreated {
				t.Errorf("%s %s as an application with %s = %s, want 201", row.typ, row.path, name, r)
			}
		}
		if r := subscribe(none, row.path); r.Status != http.StatusForbidden {
			t.Errorf("%s %s as an application with User.Read.All = %s, want 403", row.typ, row.path, r)
		}
		for _, name := range row.delegatedWork {
			if r := subscribe(token(name, true), row.path); r.Status != http.StatusCreated {
				t.Errorf("%s %s delegated with %s = %s, want 201", row.typ, row.path, name, r)
			}
		}
		if row.delegatedWork == nil {
			if r := subscribe(env.UserToken(testserver.AdeleUPN), row.path); r.Status != http.StatusForbidden {
				t.Errorf("%s %s delegated = %s, want 403 (Not supported)", row.typ, row.path, r)
			}
		}
		if r := subscribe(env.PersonalToken(), row.path); r.Status != http.StatusForbidden {
			t.Errorf("%s %s with a personal account = %s, want 403 (Not supported)", row.typ, row.path, r)
		}
	}
	// A signed-in user watches only the teams and chats they belong to: Chen is in
	// neither.
	id, secret := env.AddApp(nil, []string{"TeamMember.Read.All", "Team.ReadBasic.All", "Chat.Read"})
	chen := env.DelegatedToken(id, secret, testserver.Tenant, chenUPN)
	for _, path := range []string{"teams/{team}", "teams/{team}/members", "chats/{chat}", "chats/{chat}/members"} {
		if r := subscribe(chen, path); r.Status != http.StatusForbidden {
			t.Errorf("%s delegated for a user outside it = %s, want 403", path, r)
		}
	}
}

// TestTeamResourceModel: the licensing parameter model=A|B is accepted where Microsoft
// documents it for members (chats/getAllMembers, teams/{id}/channels/getAllMembers)
// and refused as an unsupported query option elsewhere.
func TestTeamResourceModel(t *testing.T) {
	t.Parallel()
	env := notifySetup(t)
	h := newHook(t)
	team := env.Do("PUT", "/v1.0/groups/"+testserver.SalesGroup+"/team", env.UserToken(testserver.AdeleUPN), map[string]any{}).JSON()["id"].(string)
	app := env.ClientToken(env.AddApp([]string{"ChatMember.Read.All", "ChannelMember.Read.All", "TeamMember.Read.All", "Team.ReadBasic.All", "Chat.ReadBasic.All"}, nil))
	for _, tt := range []struct {
		resource string
		status   int
	}{
		{"chats/getAllMembers?model=A", http.StatusCreated},
		{"teams/" + team + "/channels/getAllMembers?model=B", http.StatusCreated},
		{"chats/getAllMembers?model=C", http.StatusBadRequest},
		{"teams/getAllMembers?model=A", http.StatusBadRequest},
		{"teams?model=A", http.StatusBadRequest},
		{"chats?model=B", http.StatusBadRequest},
	} {
		r := env.Do("POST", "/v1.0/subscriptions", app, map[string]any{"changeType": "created", "notificationUrl": h.URL,
			"resource": tt.resource, "expirationDateTime": graph.FormatTime(env.Clock.Now().Add(30 * time.Minute))})
		if r.Status != tt.status {
			t.Errorf("POST subscription on %s = %s, want %d", tt.resource, r, tt.status)
		}
	}
}

// TestTeamResourceQuota: one app holds one subscription on a team's or a chat's path;
// another app, or another path of the same team, still may.
func TestTeamResourceQuota(t *testing.T) {
	t.Parallel()
	env := notifySetup(t)
	h := newHook(t)
	team := env.Do("PUT", "/v1.0/groups/"+testserver.SalesGroup+"/team", env.UserToken(testserver.AdeleUPN), map[string]any{}).JSON()["id"].(string)
	perms := []string{"TeamMember.Read.All", "Team.ReadBasic.All"}
	first, second := env.ClientToken(env.AddApp(perms, nil)), env.ClientToken(env.AddApp(perms, nil))
	subscribe := func(token, res, changeType string) *testserver.Response {
		return env.Do("POST", "/v1.0/subscriptions", token, map[string]any{"changeType": changeType, "notificationUrl": h.URL,
			"resource": res, "expirationDateTime": graph.FormatTime(env.Clock.Now().Add(30 * time.Minute))})
	}
	for _, tt := range []struct {
		name, token, resource, changeType string
		status                            int
	}{
		{"first on the members", first, "teams/" + team + "/members", "created", http.StatusCreated},
		{"again on the members", first, "teams/" + team + "/members", "deleted", http.StatusForbidden},
		{"first on the team", first, "teams/" + team, "updated", http.StatusCreated},
		{"another app on the members", second, "teams/" + team + "/members", "created", http.StatusCreated},
		{"tenant-wide, twice", first, "teams/getAllMembers", "created", http.StatusCreated},
		{"tenant-wide, again", first, "teams/getAllMembers", "deleted", http.StatusCreated},
	} {
		if r := subscribe(tt.token, tt.resource, tt.changeType); r.Status != tt.status {
			t.Errorf("%s: POST subscription on %s = %s, want %d", tt.name, tt.resource, r, tt.status)
		}
	}
}
