package delivery_test

import (
	"net/http"
	"testing"

	"github.com/graphhook/graphhook/internal/testserver"
)

// workloadCase is one resource type whose change needs set-up through its
// workload: prepare runs before subscribing and returns the subscription's resource,
// the token that subscribes, and the generated values the golden file shows as
// placeholders; change makes the change and returns more of them.
type workloadCase struct {
	name       string
	changeType string
	prepare    func(t *testing.T, h *harness) (resource, token string, replace map[string]string)
	change     func(t *testing.T, h *harness) map[string]string
}

// must runs a request and fails the test unless it answers status.
func (h *harness) must(t *testing.T, method, path, token string, body any, status int) map[string]any {
	t.Helper()
	resp := h.Do(method, path, token, body)
	if resp.Status != status {
		t.Fatalf("%s %s = %s, want %d", method, path, resp, status)
	}
	return resp.JSON()
}

func folder(name string) map[string]any {
	return map[string]any{"name": name, "folder": map[string]any{}}
}

func text(s string) map[string]any {
	return map[string]any{"body": map[string]any{"contentType": "text", "content": s}}
}

func chatMember(id string) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": []any{"owner"},
		"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + id + "')"}
}

// TestWorkloadResourceNotifications is TestResourceNotifications for the resource
// types whose changes need a tree, a list, a team or a chat first: group
// conversations, driveItems (work and personal), list items, channel and chat
// messages (basic, not encrypted).
func TestWorkloadResourceNotifications(t *testing.T) {
	h := setup(t, testConfig())
	app := h.AppToken()
	adele := h.UserToken(testserver.AdeleUPN)
	sam := h.PersonalToken("Files.ReadWrite")
	adeleDrive := "/v1.0/users/" + testserver.Adele + "/drive"
	var chatID, channelID, listID, siteID, samFolder string
	cases := []workloadCase{
		{name: "conversation", changeType: "created",
			prepare: func(t *testing.T, h *harness) (string, string, map[string]string) {
				// Conversations take delegated permissions only (seed table).
				return "/groups/" + testserver.SalesGroup + "/conversations", adele, nil
			},
			change: func(t *testing.T, h *harness) map[string]string {
				c := h.must(t, "POST", "/v1.0/groups/"+testserver.SalesGroup+"/conversations", adele, map[string]any{
					"topic": "Q3 targets",
					"threads": []any{map[string]any{"posts": []any{map[string]any{
						"body": map[string]any{"contentType": "html", "content": "<p>Let's talk</p>"}}}}},
				}, http.StatusCreated)
				return map[string]string{c["id"].(string): "{id}"}
			}},
		{name: "driveItem", changeType: "updated",
			prepare: func(t *testing.T, h *harness) (string, string, map[string]string) {
				h.must(t, "POST", adeleDrive+"/root/children", app, folder("Projects"), http.StatusCreated)
				h.must(t, "POST", adeleDrive+"/root:/Projects:/children", app, folder("2026"), http.StatusCreated)
				h.must(t, "POST", adeleDrive+"/root:/Projects/2026:/children", app, folder("Q3"), http.StatusCreated)
				return "/users/" + testserver.Adele + "/drive/root", app, nil
			},
			change: func(t *testing.T, h *harness) map[string]string {
				h.must(t, "PUT", adeleDrive+"/root:/Projects/2026/Q3/plan.txt:/content", app, []byte("the plan"), http.StatusCreated)
				return nil
			}},
		{name: "driveItem-personal-folder", changeType: "updated",
			prepare: func(t *testing.T, h *harness) (string, string, map[string]string) {
				f := h.must(t, "POST", "/v1.0/me/drive/root/children", sam, folder("Photos"), http.StatusCreated)
				samFolder = f["id"].(string)
				h.must(t, "POST", "/v1.0/me/drive/root:/Photos:/children", sam, folder("Cats"), http.StatusCreated)
				return "/me/drive/items/" + samFolder, sam, map[string]string{samFolder: "{folderId}"}
			},
			change: func(t *testing.T, h *harness) map[string]string {
				h.must(t, "PUT", "/v1.0/me/drive/root:/Photos/Cats/tom.jpg:/content", sam, []byte{1, 2, 3}, http.StatusCreated)
				return nil
			}},
		{name: "listItem", changeType: "updated",
			prepare: func(t *testing.T, h *harness) (string, string, map[string]string) {
				site := h.must(t, "GET", "/v1.0/sites/root", app, nil, http.StatusOK)
				siteID = site["id"].(string)
				l := h.must(t, "POST", "/v1.0/sites/"+siteID+"/lists", app, map[string]any{"displayName": "Books",
					"columns": []any{map[string]any{"name": "Author", "text": map[string]any{}}},
					"list":    map[string]any{"template": "genericList"}}, http.StatusCreated)
				listID = l["id"].(string)
				return "/sites/" + siteID + "/lists/" + listID, app, map[string]string{listID: "{listId}"}
			},
			change: func(t *testing.T, h *harness) map[string]string {
				h.must(t, "POST", "/v1.0/sites/"+siteID+"/lists/"+listID+"/items", app,
					map[string]any{"fields": map[string]any{"Title": "Dune", "Author": "Herbert"}}, http.StatusCreated)
				return nil
			}},
		{name: "chatMessage-channel", changeType: "created",
			prepare: func(t *testing.T, h *harness) (string, string, map[string]string) {
				team := h.must(t, "PUT", "/v1.0/groups/"+testserver.SalesGroup+"/team", adele, map[string]any{}, http.StatusCreated)
				channelID = team["internalId"].(string)
				return "/teams/" + testserver.SalesGroup + "/channels/" + channelID + "/messages", app, map[string]string{channelID: "{channelId}"}
			},
			change: func(t *testing.T, h *harness) map[string]string {
				m := h.must(t, "POST", "/v1.0/teams/"+testserver.SalesGroup+"/channels/"+channelID+"/messages", adele, text("Launch at noon"), http.StatusCreated)
				return map[string]string{m["id"].(string): "{id}"}
			}},
		{name: "chatMessage-chat", changeType: "created",
			prepare: func(t *testing.T, h *harness) (string, string, map[string]string) {
				c := h.must(t, "POST", "/v1.0/chats", adele, map[string]any{"chatType": "group", "topic": "Crew",
					"members": []any{chatMember(testserver.Adele), chatMember(testserver.Bruno), chatMember(testserver.Chen)}}, http.StatusCreated)
				chatID = c["id"].(string)
				return "/chats/" + chatID + "/messages", app, map[string]string{chatID: "{chatId}"}
			},
			change: func(t *testing.T, h *harness) map[string]string {
				m := h.must(t, "POST", "/v1.0/chats/"+chatID+"/messages", adele, text("Hi all"), http.StatusCreated)
				return map[string]string{m["id"].(string): "{id}"}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newReceiver(t)
			resource, tok, replace := c.prepare(t, h)
			sub := h.subscribe(t, tok, map[string]any{"changeType": c.changeType, "notificationUrl": r.URL, "resource": resource, "clientState": "s3cret"})
			t.Cleanup(func() { h.Do("DELETE", "/v1.0/subscriptions/"+sub, tok, nil) })
			if replace == nil {
				replace = map[string]string{}
			}
			for k, v := range c.change(t, h) {
				replace[k] = v
			}
			replace[sub] = "{subscriptionId}"
			items := r.waitItems(t, 1)
			h.settle(t)
			if got := len(r.items(t)); got != 1 {
				t.Fatalf("received %d items, want exactly 1: %s", got, r.bodies())
			}
			golden(t, c.name, normalize(t, items[0], replace))
		})
	}
}
