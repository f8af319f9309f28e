package teams_test

import (
	"encoding/base64"
	"testing"

	"github.com/graphhook/graphhook/internal/testserver"
)

// TestTeamAndChatChangesRefused: the members API and the team, channel and chat
// updates answer bad requests with Graph's errors.
func TestTeamAndChatChangesRefused(t *testing.T) {
	t.Parallel()
	env := setup(t)
	adele := env.UserToken(testserver.AdeleUPN)
	general := makeTeam(t, env)
	team := testserver.SalesGroup
	app := env.ClientToken(env.AddApp([]string{"TeamMember.ReadWrite.All", "TeamSettings.ReadWrite.All", "ChannelSettings.ReadWrite.All",
		"Channel.Delete.All", "Chat.ReadWrite.All", "ChatMember.ReadWrite.All", "Chat.Create"}, nil))
	reader := env.ClientToken(env.AddApp([]string{"TeamMember.Read.All"}, nil))
	oneOnOne := env.Do("POST", "/v1.0/chats", adele, map[string]any{"chatType": "oneOnOne", "members": members(testserver.Adele, testserver.Bruno)}).JSON()["id"].(string)
	adeleInTeam := base64.StdEncoding.EncodeToString([]byte(team + "##" + testserver.Adele))
	bind := func(user string) string { return "https://graph.microsoft.com/v1.0/users('" + user + "')" }
	for _, tt := range []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
	}{
		{"list members", "GET", "/v1.0/teams/" + team + "/members", reader, nil, 200, ""},
		{"read-only app adds a member", "POST", "/v1.0/teams/" + team + "/members", reader, map[string]any{"user@odata.bind": bind(testserver.Chen)}, 403, "Forbidden"},
		{"member without a user", "POST", "/v1.0/teams/" + team + "/members", app, map[string]any{"roles": []any{}}, 400, "BadRequest"},
		{"member of another type", "POST", "/v1.0/teams/" + team + "/members", app, map[string]any{"@odata.type": "#microsoft.graph.skypeUserConversationMember", "user@odata.bind": bind(testserver.Chen)}, 400, "BadRequest"},
		{"bad role", "POST", "/v1.0/teams/" + team + "/members", app, map[string]any{"roles": []any{"admin"}, "user@odata.bind": bind(testserver.Chen)}, 400, "BadRequest"},
		{"roles not an array", "POST", "/v1.0/teams/" + team + "/members", app, map[string]any{"roles": "owner", "user@odata.bind": bind(testserver.Chen)}, 400, "BadRequest"},
		{"unknown user", "POST", "/v1.0/teams/" + team + "/members", app, map[string]any{"user@odata.bind": bind("22222222-0000-4000-8000-0000000000ff")}, 404, "NotFound"},
		{"already a member", "POST", "/v1.0/teams/" + team + "/members", app, map[string]any{"user@odata.bind": bind(testserver.Bruno)}, 409, "Conflict"},
		{"unknown team", "POST", "/v1.0/teams/33333333-0000-4000-8000-00000000ffff/members", app, map[string]any{"user@odata.bind": bind(testserver.Chen)}, 404, "NotFound"},
		{"membership id of nothing", "GET", "/v1.0/teams/" + team + "/members/bm90aGluZw==", reader, nil, 404, "NotFound"},
		{"membership id not base64", "DELETE", "/v1.0/teams/" + team + "/members/%25%25", app, nil, 404, "NotFound"},
		{"PATCH roles missing", "PATCH", "/v1.0/teams/" + team + "/members/" + adeleInTeam, app, map[string]any{}, 400, "BadRequest"},
		{"last owner removed", "DELETE", "/v1.0/teams/" + team + "/members/" + adeleInTeam, app, nil, 400, "BadRequest"},
		{"team: unknown property", "PATCH", "/v1.0/teams/" + team, app, map[string]any{"color": "red"}, 400, "BadRequest"},
		{"team: unknown setting", "PATCH", "/v1.0/teams/" + team, app, map[string]any{"funSettings": map[string]any{"allowMemes": true}}, 400, "BadRequest"},
		{"team: settings not an object", "PATCH", "/v1.0/teams/" + team, app, map[string]any{"funSettings": true}, 400, "BadRequest"},
		{"team: personal account", "PATCH", "/v1.0/teams/" + team, env.PersonalToken(), map[string]any{"description": "x"}, 403, "Forbidden"},
		{"General renamed", "PATCH", "/v1.0/teams/" + team + "/channels/" + general, app, map[string]any{"displayName": "Main"}, 400, "BadRequest"},
		{"channel: unknown property", "PATCH", "/v1.0/teams/" + team + "/channels/" + general, app, map[string]any{"membershipType": "private"}, 400, "BadRequest"},
		{"General deleted", "DELETE", "/v1.0/teams/" + team + "/channels/" + general, app, nil, 400, "BadRequest"},
		{"unknown channel deleted", "DELETE", "/v1.0/teams/" + team + "/channels/19:nothing@thread.tacv2", app, nil, 404, "NotFound"},
		{"oneOnOne topic", "PATCH", "/v1.0/chats/" + oneOnOne, app, map[string]any{"topic": "x"}, 400, "BadRequest"},
		{"chat: unknown property", "PATCH", "/v1.0/chats/" + oneOnOne, app, map[string]any{"chatType": "group"}, 400, "BadRequest"},
		{"member added to a oneOnOne chat", "POST", "/v1.0/chats/" + oneOnOne + "/members", app, map[string]any{"user@odata.bind": bind(testserver.Chen)}, 400, "BadRequest"},
		{"member removed from a oneOnOne chat", "DELETE", "/v1.0/chats/" + oneOnOne + "/members/bm90aGluZw==", app, nil, 400, "BadRequest"},
		{"chat deleted by a user", "DELETE", "/v1.0/chats/" + oneOnOne, adele, nil, 403, "Forbidden"},
		{"chat deleted without Chat.ManageDeletion.All", "DELETE", "/v1.0/chats/" + oneOnOne, app, nil, 403, "Forbidden"},
	} {
		r := env.Do(tt.method, tt.path, tt.token, tt.body)
		if r.Status != tt.status || (tt.code != "" && r.ErrorCode() != tt.code) {
			t.Errorf("%s: %s %s = %s, want %d %s", tt.name, tt.method, tt.path, r, tt.status, tt.code)
		}
	}
}
