package conversations_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/goldenfile"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/conversations"
)

func setup(t *testing.T) *testserver.Env {
	t.Helper()
	return testserver.New(t, func(e *testserver.Env) {
		conversations.New(e.Store, e.Identity).Routes(e.HTTP.Graph())
	})
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func values(r *testserver.Response) []map[string]any {
	var out []map[string]any
	arr, _ := r.JSON()["value"].([]any)
	for _, v := range arr {
		out = append(out, v.(map[string]any))
	}
	return out
}

func newConversation(topic, content string) map[string]any {
	return map[string]any{
		"topic": topic,
		"threads": []any{map[string]any{"posts": []any{map[string]any{
			"body": map[string]any{"contentType": "html", "content": content},
		}}}},
	}
}

func reply(content string) map[string]any {
	return map[string]any{"post": map[string]any{"body": map[string]any{"contentType": "text", "content": content}}}
}

func TestConversationLifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t)
	tests := []struct {
		name, token, sender string
	}{
		{"application", env.AppToken(), "Sales"},
		{"delegated", env.UserToken(testserver.BrunoUPN), "Bruno Costa"},
	}
	base := "/v1.0/groups/" + testserver.SalesGroup
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do("POST", base+"/conversations", tc.token, newConversation("Q3 targets", "<p>Let's talk</p>"))
			if r.Status != http.StatusCreated {
				t.Fatalf("POST conversations = %s", r)
			}
			conv := r.JSON()
			id := str(conv, "id")
			if conv["topic"] != "Q3 targets" || conv["preview"] != "Let's talk" || !cmp.Equal(conv["uniqueSenders"], []any{tc.sender}) {
				t.Errorf("created conversation = %s", r)
			}
			if r := env.Do("GET", "/v1.0/groups('"+testserver.SalesGroup+"')/conversations('"+id+"')", tc.token, nil); r.Status != http.StatusOK || str(r.JSON(), "id") != id {
				t.Errorf("GET conversation = %s", r)
			}
			threads := values(env.Do("GET", base+"/conversations/"+id+"/threads", tc.token, nil))
			if len(threads) != 1 {
				t.Fatalf("threads = %v, want 1", threads)
			}
			thread := str(threads[0], "id")
			if r := env.Do("POST", base+"/conversations/"+id+"/threads/"+thread+"/reply", tc.token, reply("Agreed")); r.Status != http.StatusAccepted {
				t.Fatalf("thread reply = %s", r)
			}
			posts := values(env.Do("GET", base+"/threads/"+thread+"/posts", tc.token, nil))
			if len(posts) != 2 || posts[1]["body"].(map[string]any)["content"] != "Agreed" || posts[1]["conversationId"] != id {
				t.Fatalf("posts = %v", posts)
			}
			post := str(posts[0], "id")
			if r := env.Do("POST", base+"/threads/"+thread+"/posts/"+post+"/reply", tc.token, reply("Me too")); r.Status != http.StatusAccepted {
				t.Fatalf("post reply = %s", r)
			}
			if r := env.Do("GET", base+"/threads/"+thread+"/posts/"+post, tc.token, nil); r.Status != http.StatusOK || str(r.JSON(), "conversationThreadId") != thread {
				t.Errorf("GET post = %s", r)
			}
			if r := env.Do("GET", base+"/conversations/"+id, tc.token, nil); r.JSON()["preview"] != "Me too" {
				t.Errorf("conversation preview after replies = %v, want Me too", r.JSON()["preview"])
			}
			if r := env.Do("DELETE", base+"/conversations/"+id, tc.token, nil); r.Status != http.StatusNoContent {
				t.Fatalf("DELETE = %s", r)
			}
			if r := env.Do("GET", base+"/conversations/"+id, tc.token, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "ErrorItemNotFound" {
				t.Errorf("GET deleted = %s, want 404 ErrorItemNotFound", r)
			}
			if r := env.Do("GET", base+"/threads/"+thread, tc.token, nil); r.Status != http.StatusNotFound {
				t.Errorf("GET thread of deleted conversation = %s, want 404", r)
			}
			var types []string
			for _, c := range env.Changes(testserver.Tenant, change.GroupConversations(testserver.SalesGroup)) {
				if c.ID != id {
					continue
				}
				types = append(types, c.ChangeType)
				n, err := change.NoticeOf(&c)
				want := "groups('" + testserver.SalesGroup + "')/conversations('" + id + "')"
				if err != nil || n.Resource != want || n.ODataID != want || n.ODataType != "#Microsoft.Graph.Conversation" || n.ID != id || c.Kind != "conversation" {
					t.Errorf("notice = %+v, kind %s", n, c.Kind)
				}
				if (c.ChangeType == "created") != (c.Before == nil) || (c.ChangeType == "deleted") != (c.After == nil) {
					t.Errorf("%s change before/after = %s / %s", c.ChangeType, c.Before, c.After)
				}
			}
			if diff := cmp.Diff([]string{"created", "updated", "updated", "deleted"}, types); diff != "" {
				t.Errorf("change types (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConversationAccess(t *testing.T) {
	t.Parallel()
	env := setup(t)
	base := "/v1.0/groups/" + testserver.SalesGroup + "/conversations"
	readOnly, secret := env.AddApp([]string{"Group.Read.All"}, nil)
	none, secret2 := env.AddApp([]string{"User.Read.All"}, nil)
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
	}{
		{"app without Group.*", "GET", base, env.ClientToken(none, secret2), nil, http.StatusForbidden, "ErrorAccessDenied"},
		{"Group.Read.All cannot create", "POST", base, env.ClientToken(readOnly, secret), newConversation("x", "y"), http.StatusForbidden, "ErrorAccessDenied"},
		{"Group.Read.All lists", "GET", base, env.ClientToken(readOnly, secret), nil, http.StatusOK, ""},
		{"non-member", "GET", base, env.UserToken("chen@contoso.onmicrosoft.com"), nil, http.StatusForbidden, "ErrorAccessDenied"},
		{"personal account", "GET", base, env.PersonalToken(), nil, http.StatusForbidden, "ErrorAccessDenied"},
		{"unknown group", "GET", "/v1.0/groups/33333333-0000-4000-8000-00000000ffff/conversations", env.AppToken(), nil, http.StatusNotFound, "Request_ResourceNotFound"},
		{"no topic", "POST", base, env.AppToken(), newConversation("", "y"), http.StatusBadRequest, "ErrorInvalidRequest"},
		{"no threads", "POST", base, env.AppToken(), map[string]any{"topic": "x"}, http.StatusBadRequest, "ErrorInvalidRequest"},
		{"unknown property", "POST", base, env.AppToken(), map[string]any{"topic": "x", "subject": "y"}, http.StatusBadRequest, "ErrorInvalidProperty"},
		{"post without body", "POST", base, env.AppToken(), map[string]any{"topic": "x", "threads": []any{map[string]any{"posts": []any{map[string]any{}}}}}, http.StatusBadRequest, "ErrorInvalidRequest"},
		{"unknown conversation", "GET", base + "/AAQkAGnone", env.AppToken(), nil, http.StatusNotFound, "ErrorItemNotFound"},
	}
	for _, tc := range tests {
		r := env.Do(tc.method, tc.path, tc.token, tc.body)
		if r.Status != tc.status || r.ErrorCode() != tc.code {
			t.Errorf("%s: %s %s = %s, want %d %s", tc.name, tc.method, tc.path, r, tc.status, tc.code)
		}
	}
	if n := len(env.Changes(testserver.Tenant, change.GroupConversations(testserver.SalesGroup))); n != 0 {
		t.Errorf("refused writes recorded %d changes, want 0", n)
	}
}

func TestConversationGoldenAndPaging(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	base := "/v1.0/groups/" + testserver.EngGroup
	for _, topic := range []string{"one", "two", "three"} {
		if r := env.Do("POST", base+"/conversations", app, newConversation(topic, "body of "+topic)); r.Status != http.StatusCreated {
			t.Fatalf("POST = %s", r)
		}
	}
	// A thread posted to the group starts a conversation of its own.
	if r := env.Do("POST", base+"/threads", app, map[string]any{"topic": "four", "posts": []any{map[string]any{"body": map[string]any{"content": "x"}}}}); r.Status != http.StatusAccepted {
		t.Fatalf("POST threads = %s", r)
	}
	seen := 0
	next := env.URL + base + "/conversations?$top=3"
	for pages := 0; next != ""; pages++ {
		if pages > 2 {
			t.Fatal("paging does not end")
		}
		r := env.Do("GET", next, app, nil)
		seen += len(values(r))
		next, _ = r.JSON()["@odata.nextLink"].(string)
	}
	if seen != 4 {
		t.Errorf("paged through %d conversations, want 4", seen)
	}
	r := env.Do("GET", base+"/conversations?$top=1", app, nil)
	golden(t, env, "conversations", r.Body)
	thread := values(env.Do("GET", base+"/threads?$top=1", app, nil))[0]
	posts := env.Do("GET", base+"/threads/"+str(thread, "id")+"/posts", app, nil)
	golden(t, env, "posts", posts.Body)
}

var volatile = map[string]bool{"id": true, "changeKey": true, "@odata.etag": true, "createdDateTime": true, "lastModifiedDateTime": true,
	"receivedDateTime": true, "lastDeliveredDateTime": true, "conversationId": true, "conversationThreadId": true, "@odata.nextLink": true, "@odata.context": true}

func normalise(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if volatile[k] && e != nil {
				x[k] = "<" + k + ">"
			} else {
				x[k] = normalise(e)
			}
		}
	case []any:
		for i := range x {
			x[i] = normalise(x[i])
		}
	}
	return v
}

func golden(t *testing.T, env *testserver.Env, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("golden %s: %v", name, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(normalise(v))
	got := strings.TrimSpace(buf.String())
	goldenfile.Compare(t, name, []byte(got))
}
