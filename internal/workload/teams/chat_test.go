package teams_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/teams"
)

var groupChatPattern = regexp.MustCompile(`^19:[0-9a-f]{32}@thread\.v2$`)

func member(id string) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": []any{"owner"},
		"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + id + "')"}
}

func members(ids ...string) []any {
	var out []any
	for _, id := range ids {
		out = append(out, member(id))
	}
	return out
}

func TestChats(t *testing.T) {
	t.Parallel()
	env := setup(t)
	adele := env.UserToken(testserver.AdeleUPN)
	r := env.Do("POST", "/v1.0/chats", adele, map[string]any{"chatType": "oneOnOne", "members": members(testserver.Bruno, testserver.Adele)})
	want := "19:" + testserver.Adele + "_" + testserver.Bruno + "@unq.gbl.spaces"
	if r.Status != http.StatusCreated || r.JSON()["id"] != want {
		t.Fatalf("POST oneOnOne = %s, want 201 id %s", r, want)
	}
	// Creating it again, from the other side, returns the same chat.
	if r := env.Do("POST", "/v1.0/chats", env.UserToken(testserver.BrunoUPN), map[string]any{"chatType": "oneOnOne", "members": members(testserver.Adele, testserver.Bruno)}); r.Status != 201 || r.JSON()["id"] != want {
		t.Errorf("POST oneOnOne again = %s, want the same chat", r)
	}
	r = env.Do("POST", "/v1.0/chats", adele, map[string]any{"chatType": "group", "topic": "Launch crew", "members": members(testserver.Adele, testserver.Bruno, testserver.Chen)})
	if r.Status != 201 || !groupChatPattern.MatchString(r.JSON()["id"].(string)) {
		t.Fatalf("POST group chat = %s", r)
	}
	golden(t, env, "group_chat", r.Body, volatile...)
	group := r.JSON()["id"].(string)

	many := make([]any, 251)
	for i := range many {
		many[i] = member(testserver.Adele)
	}
	for _, tt := range []struct {
		name   string
		token  string
		body   map[string]any
		status int
	}{
		{"oneOnOne with 3", adele, map[string]any{"chatType": "oneOnOne", "members": members(testserver.Adele, testserver.Bruno, testserver.Chen)}, 400},
		{"oneOnOne with topic", adele, map[string]any{"chatType": "oneOnOne", "topic": "x", "members": members(testserver.Adele, testserver.Chen)}, 400},
		{"group of 1", adele, map[string]any{"chatType": "group", "members": members(testserver.Adele)}, 400},
		{"no chatType", adele, map[string]any{"members": members(testserver.Adele, testserver.Bruno)}, 400},
		{"no members", adele, map[string]any{"chatType": "group"}, 400},
		{"too many members", adele, map[string]any{"chatType": "group", "members": many}, 400},
		{"creator not a member", adele, map[string]any{"chatType": "group", "members": members(testserver.Bruno, testserver.Chen)}, 400},
		{"unknown user", adele, map[string]any{"chatType": "group", "members": members(testserver.Adele, "22222222-0000-4000-8000-0000000000ff")}, 400},
		{"duplicate member", adele, map[string]any{"chatType": "group", "members": members(testserver.Adele, testserver.Adele)}, 400},
		{"bad bind", adele, map[string]any{"chatType": "group", "members": []any{map[string]any{"user@odata.bind": "nonsense"}}}, 400},
		{"bad role", adele, map[string]any{"chatType": "group", "members": []any{map[string]any{"roles": []any{"admin"}, "user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + testserver.Adele + "')"}}}, 400},
		{"personal", env.PersonalToken(), map[string]any{"chatType": "group", "members": members(testserver.Adele, testserver.Bruno)}, 403},
		{"no scope", env.UserToken(testserver.AdeleUPN, "User.Read"), map[string]any{"chatType": "group", "members": members(testserver.Adele, testserver.Bruno)}, 403},
		{"app group chat", env.AppToken(), map[string]any{"chatType": "group", "members": members(testserver.Chen, dana)}, 201},
	} {
		if r := env.Do("POST", "/v1.0/chats", tt.token, tt.body); r.Status != tt.status {
			t.Errorf("%s: POST /chats = %s, want %d", tt.name, r, tt.status)
		}
	}

	app := env.AppToken()
	for _, tt := range []struct {
		name, path, token string
		status, count     int
	}{
		{"me/chats", "/v1.0/me/chats", adele, 200, 2},
		{"chats", "/v1.0/chats", adele, 200, 2},
		{"chats as app", "/v1.0/chats", app, 403, 0},
		{"Bruno's chats as app", "/v1.0/users/" + testserver.Bruno + "/chats", app, 200, 2},
		{"Chen's chats by UPN", "/v1.0/users/" + chenUPN + "/chats", app, 200, 2},
		{"another user's chats", "/v1.0/users/" + testserver.Bruno + "/chats", adele, 403, 0},
		{"members", "/v1.0/chats/" + group + "/members", adele, 200, 3},
		{"members as non-member", "/v1.0/chats/" + group + "/members", env.UserToken(danaUPN), 403, 0},
	} {
		r := env.Do("GET", tt.path, tt.token, nil)
		if r.Status != tt.status {
			t.Errorf("%s: GET = %s, want %d", tt.name, r, tt.status)
			continue
		}
		if tt.status == 200 && len(r.JSON()["value"].([]any)) != tt.count {
			t.Errorf("%s: %d items, want %d", tt.name, len(r.JSON()["value"].([]any)), tt.count)
		}
	}
	for _, tt := range []struct {
		name, path, token string
		status            int
	}{
		{"get as member", "/v1.0/chats/" + group, adele, 200},
		{"get under me", "/v1.0/me/chats/" + want, adele, 200},
		{"get as non-member", "/v1.0/chats/" + group, env.UserToken(danaUPN), 403},
		{"get as app", "/v1.0/chats/" + group, app, 200},
		{"get unknown", "/v1.0/chats/19:00000000000000000000000000000000@thread.v2", app, 404},
	} {
		if r := env.Do("GET", tt.path, tt.token, nil); r.Status != tt.status {
			t.Errorf("%s: GET = %s, want %d", tt.name, r, tt.status)
		}
	}
}

func TestChatMessages(t *testing.T) {
	t.Parallel()
	env := setup(t)
	adele, bruno := env.UserToken(testserver.AdeleUPN), env.UserToken(testserver.BrunoUPN)
	chat := env.Do("POST", "/v1.0/chats", adele, map[string]any{"chatType": "group", "topic": "Crew", "members": members(testserver.Adele, testserver.Bruno, testserver.Chen)}).JSON()["id"].(string)
	base := "/v1.0/chats/" + chat + "/messages"
	r := env.Do("POST", base, adele, text("Hi all"))
	if r.Status != http.StatusCreated || r.JSON()["chatId"] != chat || r.JSON()["channelIdentity"] != nil {
		t.Fatalf("POST chat message = %s", r)
	}
	id := r.JSON()["id"].(string)
	get := env.Do("GET", base+"/"+id, bruno, nil)
	if get.Status != 200 {
		t.Fatal(get)
	}
	golden(t, env, "chat_message", get.Body, volatile...)

	changes := env.Changes(testserver.Tenant, change.ChatMessages(chat))
	if len(changes) != 1 {
		t.Fatalf("changes = %d, want 1", len(changes))
	}
	c := changes[0]
	if c.Kind != teams.KindChatMessage || c.ChangeType != store.Created || c.Before != nil {
		t.Errorf("change = %s %s before=%s", c.Kind, c.ChangeType, c.Before)
	}
	wantTopics := []string{change.ChatMessages(chat), change.AllChatMessages(), change.UserChatMessages(testserver.Adele), change.UserChatMessages(testserver.Bruno), change.UserChatMessages(testserver.Chen)}
	if !cmp.Equal(c.Topics, wantTopics) {
		t.Errorf("topics = %v, want %v", c.Topics, wantTopics)
	}
	sameJSON(t, "chat change After", c.After, get.Body)
	res := "chats('" + chat + "')/messages('" + id + "')"
	n, _ := change.NoticeOf(&c)
	if want := (change.Notice{Resource: res, ODataType: "#Microsoft.Graph.chatMessage", ODataID: res, ID: id, Rich: true}); !cmp.Equal(n, want) {
		t.Errorf("notice = %+v, want %+v", n, want)
	}
	if got := len(env.Changes(testserver.Tenant, change.UserChatMessages(testserver.Chen))); got != 1 {
		t.Errorf("changes on Chen's chats topic = %d, want 1", got)
	}
	if got := len(env.Changes(testserver.Tenant, change.UserChatMessages(dana))); got != 0 {
		t.Errorf("changes on Dana's chats topic = %d, want 0", got)
	}

	readID, readSecret := env.AddApp([]string{"Chat.Read.All"}, nil)
	readApp := env.ClientToken(readID, readSecret)
	sendID, sendSecret := env.AddApp(nil, []string{"ChatMessage.Send"})
	sendOnly := env.DelegatedToken(sendID, sendSecret, testserver.Tenant, testserver.BrunoUPN, "ChatMessage.Send")
	for _, tt := range []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"edit by another member", "PATCH", base + "/" + id, bruno, text("x"), 403},
		{"edit by an app", "PATCH", base + "/" + id, env.AppToken(), text("x"), 403},
		{"edit by the sender", "PATCH", base + "/" + id, adele, text("Hi everyone"), 204},
		{"read as non-member", "GET", base + "/" + id, env.UserToken(danaUPN), nil, 403},
		{"post as non-member", "POST", base, env.UserToken(danaUPN), text("x"), 403},
		{"read app", "GET", base, readApp, nil, 200},
		{"read app posts", "POST", base, readApp, text("x"), 403},
		{"app posts as Bruno", "POST", base, env.AppToken(), map[string]any{"body": map[string]any{"content": "migrated"}, "from": map[string]any{"user": map[string]any{"id": testserver.Bruno}}}, 201},
		{"app posts as a non-member", "POST", base, env.AppToken(), map[string]any{"body": map[string]any{"content": "x"}, "from": map[string]any{"user": map[string]any{"id": dana}}}, 400},
		{"ChatMessage.Send posts", "POST", base, sendOnly, text("x"), 201},
		{"ChatMessage.Send cannot read", "GET", base, sendOnly, nil, 403},
		{"personal", "GET", base, env.PersonalToken(), nil, 403},
		{"softDelete by another member", "POST", "/v1.0/users/" + testserver.Bruno + "/chats/" + chat + "/messages/" + id + "/softDelete", bruno, nil, 403},
		{"softDelete under another user", "POST", "/v1.0/users/" + testserver.Bruno + "/chats/" + chat + "/messages/" + id + "/softDelete", adele, nil, 403},
		{"softDelete under me", "POST", "/v1.0/me/chats/" + chat + "/messages/" + id + "/softDelete", adele, nil, 204},
		{"edit after delete", "PATCH", base + "/" + id, adele, text("x"), 400},
		{"undoSoftDelete", "POST", base + "/" + id + "/undoSoftDelete", adele, nil, 204},
		{"unknown message", "GET", base + "/1234567890123", adele, nil, 404},
	} {
		if r := env.Do(tt.method, tt.path, tt.token, tt.body); r.Status != tt.status {
			t.Errorf("%s: %s = %s, want %d", tt.name, tt.method, r, tt.status)
		}
	}
	changes = env.Changes(testserver.Tenant, change.ChatMessages(chat))
	var types []string
	for _, c := range changes {
		types = append(types, c.ChangeType)
	}
	want := []string{"created", "updated", "created", "created", "updated", "updated"}
	if !cmp.Equal(types, want) {
		t.Errorf("change types = %v, want %v", types, want)
	}
	final := env.Do("GET", base+"/"+id, adele, nil)
	sameJSON(t, "last After", changes[len(changes)-1].After, final.Body)
	if final.JSON()["deletedDateTime"] != nil || final.JSON()["lastEditedDateTime"] == nil {
		t.Errorf("final message = %s", final)
	}
	r = env.Do("GET", base+"?$top=2", adele, nil)
	next, _ := r.JSON()["@odata.nextLink"].(string)
	if len(r.JSON()["value"].([]any)) != 2 || next == "" {
		t.Fatalf("GET $top=2 = %s", r)
	}
	if r := env.Do("GET", next, adele, nil); len(r.JSON()["value"].([]any)) != 1 {
		t.Errorf("page 2 = %s, want 1", r)
	}
}
