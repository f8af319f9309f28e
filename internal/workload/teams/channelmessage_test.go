package teams_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/teams"
)

var messageIDPattern = regexp.MustCompile(`^[0-9]{13}$`)

func text(s string) map[string]any {
	return map[string]any{"body": map[string]any{"contentType": "text", "content": s}}
}

func TestChannelMessages(t *testing.T) {
	t.Parallel()
	env := setup(t)
	channel := makeTeam(t, env)
	adele, bruno := env.UserToken(testserver.AdeleUPN), env.UserToken(testserver.BrunoUPN)
	base := "/v1.0/teams/" + testserver.SalesGroup + "/channels/" + channel + "/messages"
	topic := change.ChannelMessages(testserver.SalesGroup, channel)

	post := map[string]any{"subject": "Launch", "importance": "high", "body": map[string]any{"contentType": "html", "content": "<p>Hello</p>"}}
	r := env.Do("POST", base, adele, post)
	if r.Status != http.StatusCreated {
		t.Fatalf("POST message = %s", r)
	}
	id := r.JSON()["id"].(string)
	if !messageIDPattern.MatchString(id) || r.JSON()["etag"] != id {
		t.Errorf("message id %q etag %v: want a 13-digit millisecond id equal to the etag", id, r.JSON()["etag"])
	}
	get := env.Do("GET", base+"/"+id, bruno, nil)
	if get.Status != 200 {
		t.Fatalf("GET message = %s", get)
	}
	golden(t, env, "channel_message", get.Body, volatile...)
	sameJSON(t, "POST response", r.Body, get.Body)

	changes := env.Changes(testserver.Tenant, topic)
	if len(changes) != 1 {
		t.Fatalf("changes on %s = %d, want 1", topic, len(changes))
	}
	c := changes[0]
	if c.Kind != teams.KindChannelMessage || c.ID != id || c.ChangeType != store.Created || c.Before != nil {
		t.Errorf("change = %s %s %s before=%s", c.Kind, c.ID, c.ChangeType, c.Before)
	}
	if want := []string{topic, change.AllChannelMessages()}; !cmp.Equal(c.Topics, want) {
		t.Errorf("topics = %v, want %v", c.Topics, want)
	}
	sameJSON(t, "change After", c.After, get.Body)
	res := "teams('" + testserver.SalesGroup + "')/channels('" + channel + "')/messages('" + id + "')"
	n, _ := change.NoticeOf(&c)
	if want := (change.Notice{Resource: res, ODataType: "#Microsoft.Graph.chatMessage", ODataID: res, ID: id, Rich: true}); !cmp.Equal(n, want) {
		t.Errorf("notice = %+v, want %+v", n, want)
	}

	// Bruno replies.
	r = env.Do("POST", base+"/"+id+"/replies", bruno, text("Count me in"))
	if r.Status != http.StatusCreated || r.JSON()["replyToId"] != id {
		t.Fatalf("POST reply = %s", r)
	}
	reply := r.JSON()["id"].(string)
	changes = env.Changes(testserver.Tenant, topic)
	n, _ = change.NoticeOf(&changes[1])
	if want := "teams('" + testserver.SalesGroup + "')/channels('" + channel + "')/messages('" + id + "')/replies('" + reply + "')"; n.Resource != want || n.ODataID != want {
		t.Errorf("reply notice resource = %q, want %q", n.Resource, want)
	}
	getReply := env.Do("GET", base+"/"+id+"/replies/"+reply, adele, nil)
	sameJSON(t, "reply change After", changes[1].After, getReply.Body)
	if r := env.Do("GET", base+"/"+reply, adele, nil); r.Status != 404 {
		t.Errorf("GET a reply as a top-level message = %s, want 404", r)
	}
	if r := env.Do("POST", base+"/"+reply+"/replies", adele, text("nested")); r.Status != 404 {
		t.Errorf("reply to a reply = %s, want 404", r)
	}
	if r := env.Do("GET", base, adele, nil); len(r.JSON()["value"].([]any)) != 1 {
		t.Errorf("GET messages = %s, want the 1 top-level message", r)
	}
	if r := env.Do("GET", base+"/"+id+"/replies", adele, nil); len(r.JSON()["value"].([]any)) != 1 {
		t.Errorf("GET replies = %s, want 1", r)
	}

	// Edits: only the sender, only delegated.
	if r := env.Do("PATCH", base+"/"+id, bruno, text("hijack")); r.Status != 403 {
		t.Errorf("PATCH by another member = %s, want 403", r)
	}
	if r := env.Do("PATCH", base+"/"+id, env.AppToken(), text("app edit")); r.Status != 403 {
		t.Errorf("PATCH by an app = %s, want 403", r)
	}
	if r := env.Do("PATCH", base+"/"+id, adele, text("Hello, team")); r.Status != http.StatusNoContent {
		t.Fatalf("PATCH by the sender = %s, want 204", r)
	}
	edited := env.Do("GET", base+"/"+id, adele, nil).JSON()
	if edited["lastEditedDateTime"] == nil || edited["body"].(map[string]any)["content"] != "Hello, team" || edited["subject"] != "Launch" {
		t.Errorf("after edit = %v", edited)
	}
	changes = env.Changes(testserver.Tenant, topic)
	if len(changes) != 3 || changes[2].ChangeType != store.Updated {
		t.Fatalf("after edit: %d changes, want 3 ending in updated", len(changes))
	}
	sameJSON(t, "edit Before", changes[2].Before, get.Body)

	// softDelete and undoSoftDelete are updates; repeating one changes nothing.
	if r := env.Do("POST", base+"/"+id+"/softDelete", bruno, nil); r.Status != 403 {
		t.Errorf("softDelete by another member = %s, want 403", r)
	}
	for i, step := range []struct {
		op      string
		deleted bool
		changes int
	}{{"softDelete", true, 4}, {"softDelete", true, 4}, {"undoSoftDelete", false, 5}, {"undoSoftDelete", false, 5}} {
		if r := env.Do("POST", base+"/"+id+"/"+step.op, adele, nil); r.Status != http.StatusNoContent {
			t.Fatalf("step %d %s = %s, want 204", i, step.op, r)
		}
		got := env.Do("GET", base+"/"+id, adele, nil)
		if (got.JSON()["deletedDateTime"] != nil) != step.deleted {
			t.Errorf("step %d %s: deletedDateTime = %v", i, step.op, got.JSON()["deletedDateTime"])
		}
		changes = env.Changes(testserver.Tenant, topic)
		if len(changes) != step.changes {
			t.Fatalf("step %d %s: %d changes, want %d", i, step.op, len(changes), step.changes)
		}
		last := changes[len(changes)-1]
		if last.ChangeType != store.Updated {
			t.Errorf("step %d %s: change type %s, want updated", i, step.op, last.ChangeType)
		}
		sameJSON(t, step.op+" After", last.After, got.Body)
	}
	if r := env.Do("POST", base+"/"+id+"/replies/"+reply+"/softDelete", bruno, nil); r.Status != 204 {
		t.Errorf("softDelete of a reply by its sender = %s", r)
	}
	if r := env.Do("POST", base+"/"+id+"/softDelete", adele, nil); r.Status != 204 {
		t.Fatal(r)
	}
	if r := env.Do("PATCH", base+"/"+id, adele, text("too late")); r.Status != 400 {
		t.Errorf("PATCH of a deleted message = %s, want 400", r)
	}
	for _, c := range env.Changes(testserver.Tenant, change.AllChannelMessages()) {
		if c.ChangeType == store.Deleted {
			t.Errorf("change %d is deleted; soft deletes must be updates", c.Seq)
		}
	}
}

func TestChannelMessagePermissions(t *testing.T) {
	t.Parallel()
	env := setup(t)
	channel := makeTeam(t, env)
	base := "/v1.0/teams/" + testserver.SalesGroup + "/channels/" + channel + "/messages"
	readID, readSecret := env.AddApp([]string{"ChannelMessage.Read.All"}, nil)
	readApp := env.ClientToken(readID, readSecret)

	// The demo app posts as itself (Group.ReadWrite.All), or as a named user.
	r := env.Do("POST", base, env.AppToken(), text("from the app"))
	if r.Status != 201 || r.JSON()["from"].(map[string]any)["application"].(map[string]any)["id"] != testserver.AppID {
		t.Fatalf("app POST = %s, want 201 from the application", r)
	}
	id := r.JSON()["id"].(string)
	r = env.Do("POST", base, env.AppToken(), map[string]any{"body": map[string]any{"content": "migrated"}, "from": map[string]any{"user": map[string]any{"id": testserver.Bruno}}})
	if r.Status != 201 || r.JSON()["from"].(map[string]any)["user"].(map[string]any)["displayName"] != "Bruno Costa" {
		t.Fatalf("app POST as Bruno = %s", r)
	}
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"read app lists", "GET", base, readApp, nil, 200},
		{"read app gets", "GET", base + "/" + id, readApp, nil, 200},
		{"read app posts", "POST", base, readApp, text("x"), 403},
		{"member without scope", "POST", base, env.UserToken(testserver.AdeleUPN, "User.Read"), text("x"), 403},
		{"member without read scope", "GET", base, env.UserToken(testserver.AdeleUPN, "ChannelMessage.Send"), nil, 403},
		{"member with ChannelMessage.Send", "POST", base, env.UserToken(testserver.BrunoUPN, "ChannelMessage.Send"), text("x"), 201},
		{"non-member posts", "POST", base, env.UserToken(chenUPN), text("x"), 403},
		{"non-member reads", "GET", base + "/" + id, env.UserToken(chenUPN), nil, 403},
		{"personal", "GET", base, env.PersonalToken(), nil, 403},
		{"delegated impersonation", "POST", base, env.UserToken(testserver.AdeleUPN), map[string]any{"body": map[string]any{"content": "x"}, "from": map[string]any{"user": map[string]any{"id": testserver.Bruno}}}, 400},
		{"no body", "POST", base, env.UserToken(testserver.AdeleUPN), map[string]any{"subject": "x"}, 400},
		{"bad contentType", "POST", base, env.UserToken(testserver.AdeleUPN), map[string]any{"body": map[string]any{"contentType": "markdown", "content": "x"}}, 400},
		{"bad importance", "POST", base, env.UserToken(testserver.AdeleUPN), map[string]any{"importance": "low", "body": map[string]any{"content": "x"}}, 400},
		{"unknown property", "POST", base, env.UserToken(testserver.AdeleUPN), map[string]any{"colour": "red", "body": map[string]any{"content": "x"}}, 400},
		{"content at the limit", "POST", base, env.UserToken(testserver.AdeleUPN), text(strings.Repeat("a", 28*1024)), 201},
		{"content over the limit", "POST", base, env.UserToken(testserver.AdeleUPN), text(strings.Repeat("a", 28*1024+1)), 413},
		{"unknown message", "GET", base + "/1234567890123", readApp, nil, 404},
		{"top at the limit", "GET", base + "?$top=50", readApp, nil, 200},
		{"top over the limit", "GET", base + "?$top=51", readApp, nil, 400},
	}
	for _, tt := range tests {
		if r := env.Do(tt.method, tt.path, tt.token, tt.body); r.Status != tt.status {
			t.Errorf("%s: %s = %s, want %d", tt.name, tt.method, r, tt.status)
		}
	}
}

func TestChannelMessagesPagingAndDelta(t *testing.T) {
	t.Parallel()
	env := setup(t)
	channel := makeTeam(t, env)
	adele := env.UserToken(testserver.AdeleUPN)
	base := "/v1.0/teams/" + testserver.SalesGroup + "/channels/" + channel + "/messages"
	var ids []string
	for _, s := range []string{"one", "two", "three"} {
		r := env.Do("POST", base, adele, text(s))
		if r.Status != 201 {
			t.Fatal(r)
		}
		ids = append(ids, r.JSON()["id"].(string))
	}
	if r := env.Do("POST", base+"/"+ids[0]+"/replies", adele, text("reply")); r.Status != 201 {
		t.Fatal(r)
	}

	// Plain paging.
	r := env.Do("GET", base+"?$top=2", adele, nil)
	next, _ := r.JSON()["@odata.nextLink"].(string)
	if len(r.JSON()["value"].([]any)) != 2 || next == "" {
		t.Fatalf("GET $top=2 = %s", r)
	}
	if r := env.Do("GET", next, adele, nil); len(r.JSON()["value"].([]any)) != 1 || r.JSON()["@odata.nextLink"] != nil {
		t.Errorf("page 2 = %s, want 1 message, no nextLink", r)
	}

	// Delta: an initial round in pages of 2, then the changes since.
	round := func(start string) (ids []string, deltaLink string) {
		t.Helper()
		link := start
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("delta does not end")
			}
			r := env.Do("GET", link, adele, nil)
			if r.Status != 200 {
				t.Fatalf("GET %s = %s", link, r)
			}
			for _, v := range r.JSON()["value"].([]any) {
				m := v.(map[string]any)
				if m["replyToId"] != nil {
					t.Errorf("delta served reply %v", m["id"])
				}
				ids = append(ids, m["id"].(string))
			}
			if d, ok := r.JSON()["@odata.deltaLink"].(string); ok {
				if r.JSON()["@odata.nextLink"] != nil {
					t.Error("a delta page has both nextLink and deltaLink")
				}
				return ids, d
			}
			link = r.JSON()["@odata.nextLink"].(string)
		}
	}
	got, deltaLink := round(base + "/delta?$top=2")
	if !cmp.Equal(got, ids) {
		t.Errorf("initial delta = %v, want %v", got, ids)
	}
	if r := env.Do("PATCH", base+"/"+ids[1], adele, text("two, edited")); r.Status != 204 {
		t.Fatal(r)
	}
	if r := env.Do("POST", base+"/"+ids[2]+"/softDelete", adele, nil); r.Status != 204 {
		t.Fatal(r)
	}
	r = env.Do("POST", base, adele, text("four"))
	four := r.JSON()["id"].(string)
	if r := env.Do("POST", base+"/"+ids[0]+"/replies", adele, text("another reply")); r.Status != 201 {
		t.Fatal(r)
	}
	got, deltaLink2 := round(deltaLink)
	if want := []string{ids[1], ids[2], four}; !cmp.Equal(got, want) {
		t.Errorf("second round = %v, want %v", got, want)
	}
	if got, _ := round(deltaLink2); len(got) != 0 {
		t.Errorf("third round = %v, want nothing", got)
	}
	for _, bad := range []string{"$deltatoken=garbage", "$skiptoken=garbage"} {
		if r := env.Do("GET", base+"/delta?"+bad, adele, nil); r.Status != 400 || r.ErrorCode() != "syncStateNotFound" {
			t.Errorf("delta ?%s = %s, want 400 syncStateNotFound", bad, r)
		}
	}
	// A token of another channel is refused.
	other := env.Do("POST", "/v1.0/teams/"+testserver.SalesGroup+"/channels", adele, map[string]any{"displayName": "Other"}).JSON()["id"].(string)
	tok := deltaLink2[strings.Index(deltaLink2, "$deltatoken=")+len("$deltatoken="):]
	if r := env.Do("GET", "/v1.0/teams/"+testserver.SalesGroup+"/channels/"+other+"/messages/delta?$deltatoken="+tok, adele, nil); r.Status != 400 {
		t.Errorf("delta with another channel's token = %s, want 400", r)
	}
	var last map[string]any
	json.Unmarshal(env.Do("GET", base+"/"+ids[2], adele, nil).Body, &last)
	if last["deletedDateTime"] == nil {
		t.Error("soft-deleted message has no deletedDateTime")
	}
}
