package teams_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/certgen"
	"github.com/graphhook/graphhook/internal/goldenfile"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/teams"
	"github.com/graphhook/graphhook/receiver"
)

// notifySetup is setup with the subscriptions API and the delivery pipeline wired
// in, so that changes reach receivers.
func notifySetup(t *testing.T) *testserver.Env {
	t.Helper()
	return testserver.New(t, testserver.Notifications(nil), func(env *testserver.Env) {
		teams.New(env.Store, env.Identity).Routes(env.HTTP.Graph())
		directory.NewWithGroupHook(env.Store, env.Identity, teams.DeleteTeamOf).Routes(env.HTTP.Graph())
	})
}

// item is one notification item as received: decoded, and raw for golden files.
type item struct {
	n   receiver.ChangeNotification
	raw map[string]any
}

// hook is a loopback receiver keeping every item it gets.
type hook struct{ *testserver.Webhook }

func newHook(t *testing.T) *hook { return &hook{testserver.NewWebhook(t)} }

// decoded returns the items received so far, each with exactly one of changeType
// and lifecycleEvent (as the receiver package requires of a collection).
func (h *hook) decoded(t *testing.T, raws []json.RawMessage) []item {
	t.Helper()
	items := make([]item, len(raws))
	for i, raw := range raws {
		if json.Unmarshal(raw, &items[i].n) != nil || json.Unmarshal(raw, &items[i].raw) != nil ||
			(items[i].n.ChangeType == "") == (items[i].n.LifecycleEvent == "") {
			t.Fatalf("not a notification item: %s", raw)
		}
	}
	return items
}

// waitFor returns the first item of subscription sub whose changeType or
// lifecycleEvent is event and whose resource ends with suffix ("" for lifecycle
// items), failing after 10 s.
func (h *hook) waitFor(t *testing.T, sub, event, suffix string) item {
	t.Helper()
	var got item
	h.Await(t, 10*time.Second, fmt.Sprintf("%s notification for subscription %s about …%s", event, sub, suffix), func(raws []json.RawMessage) bool {
		for _, it := range h.decoded(t, raws) {
			if it.n.SubscriptionID == sub && (it.n.ChangeType == event || it.n.LifecycleEvent == event) &&
				strings.HasSuffix(strings.ToLower(it.n.Resource), strings.ToLower(suffix)) {
				got = it
				return true
			}
		}
		return false
	})
	return got
}

// count is the number of items of subscription sub with event.
func (h *hook) count(t *testing.T, sub, event string) int {
	t.Helper()
	n := 0
	for _, it := range h.decoded(t, h.Items()) {
		if it.n.SubscriptionID == sub && (it.n.ChangeType == event || it.n.LifecycleEvent == event) {
			n++
		}
	}
	return n
}

// TestTeamResourceNotifications makes every change of teams, channels, chats and
// members through the API and checks, on loopback receivers, the notification
// each subscription path gets: its resource, its golden form, and its decrypted
// data, equal to what GET returns (or returned, for a deletion); then deletes a chat
// and the team's group and checks the subscriptionRemoved notifications.
func TestTeamResourceNotifications(t *testing.T) {
	t.Parallel()
	env := notifySetup(t)
	appID, secret := env.AddApp([]string{"Team.Create", "Team.ReadBasic.All", "TeamSettings.ReadWrite.All", "Channel.Create",
		"Channel.ReadBasic.All", "ChannelSettings.ReadWrite.All", "Channel.Delete.All", "Chat.Create", "Chat.ReadWrite.All",
		"Chat.ManageDeletion.All", "TeamMember.ReadWrite.All", "ChatMember.ReadWrite.All", "ChannelMember.Read.All", "Group.ReadWrite.All"}, nil)
	app := env.ClientToken(appID, secret)
	cert, err := certgen.New(certgen.Options{CommonName: "teams-test"})
	if err != nil {
		t.Fatal(err)
	}
	h := newHook(t)
	subscribe := func(res, changeType string) string {
		t.Helper()
		r := env.Do("POST", "/v1.0/subscriptions", app, map[string]any{
			"changeType": changeType, "notificationUrl": h.URL, "lifecycleNotificationUrl": h.URL, "resource": res,
			"expirationDateTime": graph.FormatTime(env.Clock.Now().Add(50 * time.Minute)), "clientState": "teams",
			"includeResourceData": true, "encryptionCertificate": cert.Base64(), "encryptionCertificateId": "teams-cert",
		})
		if r.Status != http.StatusCreated {
			t.Fatalf("POST subscription on %s = %s, want 201", res, r)
		}
		return r.JSON()["id"].(string)
	}
	// check asserts a rich item: its envelope, and that it decrypts to want (the
	// resource as GET serves it, without @odata.context).
	check := func(name string, it item, want map[string]any) {
		t.Helper()
		if it.n.ClientState != "teams" || it.n.TenantID != testserver.Tenant || it.n.ResourceData == nil || it.n.EncryptedContent == nil {
			t.Fatalf("%s: item %+v, want a rich item of the tenant with the clientState", name, it.n)
		}
		data, err := receiver.Decrypt(*it.n.EncryptedContent, cert.Key)
		if err != nil {
			t.Fatalf("%s: decrypt: %v", name, err)
		}
		var got map[string]any
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("%s: decrypted data %q: %v", name, data, err)
		}
		delete(want, "@odata.context")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: decrypted data differs from GET (-GET +decrypted):\n%s", name, diff)
		}
	}
	get := func(path string) map[string]any {
		t.Helper()
		r := env.Do("GET", "/v1.0/"+path, app, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s = %s", path, r)
		}
		return r.JSON()
	}
	do := func(method, path string, body any, want int) *testserver.Response {
		t.Helper()
		r := env.Do(method, "/v1.0/"+path, app, body)
		if r.Status != want {
			t.Fatalf("%s %s = %s, want %d", method, path, r, want)
		}
		return r
	}
	ids := map[string]string{}
	goldenItem := func(name string, it item) {
		t.Helper()
		data, _ := json.Marshal(it.raw)
		for id, placeholder := range ids {
			data = bytes.ReplaceAll(data, []byte(id), []byte(placeholder))
		}
		var doc any
		json.Unmarshal(data, &doc)
		goldenfile.Scrub(doc, "subscriptionId", "subscriptionExpirationDateTime", "encryptedContent")
		goldenfile.Compare(t, "notification_"+name, goldenfile.Indent(t, doc))
	}

	allTeams := subscribe("/teams", "created,updated,deleted")
	allChannels := subscribe("/teams/getAllChannels", "created,updated,deleted")
	allTeamMembers := subscribe("/teams/getAllMembers", "created,updated,deleted")
	allChats := subscribe("/chats", "created,updated")
	allChatMembers := subscribe("/chats/getAllMembers", "created,deleted")

	// A team: created, then updated.
	team := do("PUT", "groups/"+testserver.SalesGroup+"/team", map[string]any{}, http.StatusCreated).JSON()
	teamID, general := team["id"].(string), team["internalId"].(string)
	ids[general] = "{general}"
	it := h.waitFor(t, allTeams, "created", "teams('"+teamID+"')")
	check("team created", it, get("teams/"+teamID))
	goldenItem("team_created", it)
	check("General channel created", h.waitFor(t, allChannels, "created", "channels('"+general+"')"), get("teams/"+teamID+"/channels/"+general))

	oneTeam := subscribe("teams/"+teamID, "updated,deleted")
	teamChannels := subscribe("teams/"+teamID+"/channels", "created,updated,deleted")
	teamMembers := subscribe("teams/"+teamID+"/members", "created,updated,deleted")
	channelMembers := subscribe("teams/"+teamID+"/channels/getAllMembers", "created,updated,deleted")

	do("PATCH", "teams/"+teamID, map[string]any{"funSettings": map[string]any{"allowGiphy": false}, "description": "Sales team"}, http.StatusNoContent)
	it = h.waitFor(t, oneTeam, "updated", "teams('"+teamID+"')")
	check("team updated", it, get("teams/"+teamID))
	goldenItem("team_updated", it)
	h.waitFor(t, allTeams, "updated", "teams('"+teamID+"')")

	// A channel: created, updated, deleted.
	ch := do("POST", "teams/"+teamID+"/channels", map[string]any{"displayName": "Launch"}, http.StatusCreated).JSON()
	chID := ch["id"].(string)
	ids[chID] = "{channel}"
	it = h.waitFor(t, teamChannels, "created", "channels('"+chID+"')")
	check("channel created", it, get("teams/"+teamID+"/channels/"+chID))
	goldenItem("channel_created", it)
	do("PATCH", "teams/"+teamID+"/channels/"+chID, map[string]any{"description": "Launch plans"}, http.StatusNoContent)
	before := get("teams/" + teamID + "/channels/" + chID)
	it = h.waitFor(t, teamChannels, "updated", "channels('"+chID+"')")
	check("channel updated", it, before)
	goldenItem("channel_updated", it)
	do("DELETE", "teams/"+teamID+"/channels/"+chID, nil, http.StatusNoContent)
	it = h.waitFor(t, allChannels, "deleted", "channels('"+chID+"')")
	check("channel deleted", it, before)
	goldenItem("channel_deleted", it)
	do("DELETE", "teams/"+teamID+"/channels/"+general, nil, http.StatusBadRequest)

	// A team member: added, made an owner, removed.
	m := do("POST", "teams/"+teamID+"/members", map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember",
		"roles": []any{}, "user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + testserver.Chen + "')"}, http.StatusCreated).JSON()
	mID := m["id"].(string)
	if want := base64.StdEncoding.EncodeToString([]byte(teamID + "##" + testserver.Chen)); mID != want {
		t.Errorf("team member id = %s, want %s (base64 of team##user)", mID, want)
	}
	it = h.waitFor(t, teamMembers, "created", "members('"+mID+"')")
	check("team member created", it, get("teams/"+teamID+"/members/"+mID))
	goldenItem("team_member_created", it)
	do("POST", "teams/"+teamID+"/members", map[string]any{"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + testserver.Chen + "')"}, http.StatusConflict)
	do("PATCH", "teams/"+teamID+"/members/"+mID, map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": []any{"owner"}}, http.StatusOK)
	owner := get("teams/" + teamID + "/members/" + mID)
	if !cmp.Equal(owner["roles"], []any{"owner"}) {
		t.Errorf("roles after PATCH = %v, want [owner]", owner["roles"])
	}
	it = h.waitFor(t, allTeamMembers, "updated", "members('"+mID+"')")
	check("team member updated", it, owner)
	goldenItem("team_member_updated", it)
	do("DELETE", "teams/"+teamID+"/members/"+mID, nil, http.StatusNoContent)
	it = h.waitFor(t, teamMembers, "deleted", "members('"+mID+"')")
	check("team member deleted", it, owner)
	goldenItem("team_member_deleted", it)
	do("GET", "teams/"+teamID+"/members/"+mID, nil, http.StatusNotFound)
	if n := len(get("teams/" + teamID + "/members")["value"].([]any)); n != 2 {
		t.Errorf("team members after the removal = %d, want 2 (Adele and Bruno)", n)
	}

	// A chat: created with its members, renamed, a member added and removed, deleted.
	chat := do("POST", "chats", map[string]any{"chatType": "group", "topic": "Launch", "members": members(testserver.Adele, testserver.Bruno)}, http.StatusCreated).JSON()
	chatID := chat["id"].(string)
	ids[chatID] = "{chat}"
	it = h.waitFor(t, allChats, "created", "chats('"+chatID+"')")
	check("chat created", it, get("chats/"+chatID))
	goldenItem("chat_created", it)
	adeleMember := base64.StdEncoding.EncodeToString([]byte("1#" + chatID + "#" + testserver.Adele))
	ids[adeleMember] = "{adeleInChat}"
	check("chat member created with the chat", h.waitFor(t, allChatMembers, "created", "members('"+adeleMember+"')"), get("chats/"+chatID+"/members/"+adeleMember))

	oneChat := subscribe("chats/"+chatID, "updated")
	chatMembers := subscribe("chats/"+chatID+"/members", "created,deleted")
	if r := env.Do("POST", "/v1.0/subscriptions", app, map[string]any{"changeType": "updated", "notificationUrl": h.URL, "resource": "chats/" + chatID + "/members",
		"expirationDateTime": graph.FormatTime(env.Clock.Now().Add(50 * time.Minute))}); r.Status != http.StatusBadRequest {
		t.Errorf("POST subscription on chat members for updated = %s, want 400 (created and deleted only)", r)
	}
	do("PATCH", "chats/"+chatID, map[string]any{"topic": "Launch crew"}, http.StatusOK)
	it = h.waitFor(t, oneChat, "updated", "chats('"+chatID+"')")
	check("chat updated", it, get("chats/"+chatID))
	goldenItem("chat_updated", it)
	added := do("POST", "chats/"+chatID+"/members", map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": []any{"owner"},
		"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + testserver.Chen + "')"}, http.StatusCreated).JSON()
	chenMember := added["id"].(string)
	ids[chenMember] = "{chenInChat}"
	chenDoc := get("chats/" + chatID + "/members/" + chenMember)
	it = h.waitFor(t, chatMembers, "created", "members('"+chenMember+"')")
	check("chat member created", it, chenDoc)
	goldenItem("chat_member_created", it)
	do("DELETE", "chats/"+chatID+"/members/"+chenMember, nil, http.StatusNoContent)
	it = h.waitFor(t, chatMembers, "deleted", "members('"+chenMember+"')")
	check("chat member deleted", it, chenDoc)
	goldenItem("chat_member_deleted", it)

	// Deleting the chat removes the subscriptions on it and its members.
	do("DELETE", "chats/"+chatID, nil, http.StatusNoContent)
	for _, sub := range []string{oneChat, chatMembers} {
		it = h.waitFor(t, sub, "subscriptionRemoved", "")
		do("GET", "subscriptions/"+sub, nil, http.StatusNotFound)
	}
	goldenItem("chat_subscription_removed", it)
	do("GET", "chats/"+chatID, nil, http.StatusNotFound)
	if n := h.count(t, allChats, "deleted"); n != 0 {
		t.Errorf("/chats got %d deleted notifications, want 0 (it asked for created and updated)", n)
	}

	// Deleting the team's group deletes the team: /teams and /teams/{id} are told,
	// and the subscriptions under the team are removed.
	teamBefore := get("teams/" + teamID)
	do("DELETE", "groups/"+teamID, nil, http.StatusNoContent)
	it = h.waitFor(t, allTeams, "deleted", "teams('"+teamID+"')")
	check("team deleted", it, teamBefore)
	goldenItem("team_deleted", it)
	h.waitFor(t, oneTeam, "deleted", "teams('"+teamID+"')")
	for _, sub := range []string{teamChannels, teamMembers, channelMembers} {
		it = h.waitFor(t, sub, "subscriptionRemoved", "")
		do("GET", "subscriptions/"+sub, nil, http.StatusNotFound)
	}
	goldenItem("team_subscription_removed", it)
	do("GET", "teams/"+teamID, nil, http.StatusNotFound)
	do("GET", "teams/"+teamID+"/channels/"+general, nil, http.StatusNotFound)
	for _, sub := range []string{oneTeam, allTeams, allChannels, allTeamMembers, allChats, allChatMembers} {
		do("GET", "subscriptions/"+sub, nil, http.StatusOK)
	}
}
