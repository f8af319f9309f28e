package outlook_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/testserver"
)

func TestWellKnownFolders(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, cl := range callers(env) {
		t.Run(cl.name, func(t *testing.T) {
			r := env.Do("GET", cl.base+"/mailFolders", cl.token, nil)
			if r.Status != http.StatusOK || len(values(t, r)) != 7 {
				t.Fatalf("GET mailFolders = %s, want 7 folders", r)
			}
			inbox := change.WellKnownFolderID(cl.user, "inbox")
			for _, p := range []string{"/mailFolders('Inbox')", "/mailFolders/INBOX", "/mailFolders/" + inbox} {
				r := env.Do("GET", cl.base+p, cl.token, nil)
				if r.Status != http.StatusOK || str(r.JSON(), "id") != inbox || str(r.JSON(), "displayName") != "Inbox" {
					t.Errorf("GET %s = %s, want the inbox %s", p, r, inbox)
				}
			}
			if r := env.Do("DELETE", cl.base+"/mailFolders/inbox", cl.token, nil); r.Status != http.StatusForbidden || r.ErrorCode() != "ErrorDeleteDistinguishedFolder" {
				t.Errorf("DELETE inbox = %s, want 403 ErrorDeleteDistinguishedFolder", r)
			}
		})
	}
}

func TestFolderLifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	base := "/v1.0/users/" + testserver.Adele
	r := env.Do("POST", base+"/mailFolders/inbox/childFolders", app, map[string]any{"displayName": "Projects"})
	if r.Status != http.StatusCreated || r.JSON()["parentFolderId"] != change.WellKnownFolderID(testserver.Adele, "inbox") {
		t.Fatalf("create child folder = %s", r)
	}
	golden(t, env, "mailFolder", r.Body)
	id := str(r.JSON(), "id")
	if r := env.Do("POST", base+"/mailFolders/inbox/childFolders", app, map[string]any{"displayName": "PROJECTS"}); r.Status != http.StatusConflict || r.ErrorCode() != "ErrorFolderExists" {
		t.Errorf("duplicate folder = %s, want 409 ErrorFolderExists", r)
	}
	if r := env.Do("POST", base+"/mailFolders", app, map[string]any{"name": "x"}); r.Status != http.StatusBadRequest || r.ErrorCode() != "ErrorInvalidProperty" {
		t.Errorf("folder with unknown property = %s, want 400 ErrorInvalidProperty", r)
	}
	if r := env.Do("PATCH", base+"/mailFolders/"+id, app, map[string]any{"displayName": "Archive 2026"}); r.Status != http.StatusOK || r.JSON()["displayName"] != "Archive 2026" {
		t.Errorf("rename = %s", r)
	}
	r = env.Do("GET", base+"/mailFolders('inbox')", app, nil)
	if r.JSON()["childFolderCount"] != float64(1) {
		t.Errorf("inbox childFolderCount = %v, want 1", r.JSON()["childFolderCount"])
	}
	if r := env.Do("GET", base+"/mailFolders/inbox/childFolders", app, nil); len(values(t, r)) != 1 {
		t.Errorf("childFolders = %s, want 1", r)
	}
	// A message in the folder goes with it, and says so on its topics.
	msg := env.Do("POST", base+"/mailFolders/"+id+"/messages", app, map[string]any{"subject": "inside"})
	if msg.Status != http.StatusCreated {
		t.Fatalf("create message in folder = %s", msg)
	}
	if r := env.Do("DELETE", base+"/mailFolders/"+id, app, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE folder = %s", r)
	}
	if r := env.Do("GET", base+"/mailFolders/"+id, app, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "ErrorItemNotFound" {
		t.Errorf("GET deleted folder = %s, want 404 ErrorItemNotFound", r)
	}
	wantChanges(t, env, testserver.Tenant, change.FolderMessages(testserver.Adele, id), "created", "deleted")
}

func TestMessageCRUD(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, cl := range callers(env) {
		t.Run(cl.name, func(t *testing.T) {
			r := env.Do("POST", cl.base+"/messages", cl.token, map[string]any{
				"subject":      "Plans",
				"body":         map[string]any{"contentType": "HTML", "content": "<p>Hello   <b>there</b></p>"},
				"toRecipients": []any{map[string]any{"emailAddress": map[string]any{"address": "chen@contoso.onmicrosoft.com"}}},
				"importance":   "High",
			})
			if r.Status != http.StatusCreated {
				t.Fatalf("POST messages = %s", r)
			}
			m := r.JSON()
			id, etag := str(m, "id"), str(m, "@odata.etag")
			drafts := change.WellKnownFolderID(cl.user, "drafts")
			if m["isDraft"] != true || m["parentFolderId"] != drafts || m["bodyPreview"] != "Hello there" || m["importance"] != "high" || etag != `W/"`+str(m, "changeKey")+`"` {
				t.Errorf("created draft = %s", r)
			}
			if r := env.Do("GET", cl.base+"/messages/"+id+"?$select=subject", cl.token, nil); r.Status != http.StatusOK || r.JSON()["subject"] != "Plans" || r.JSON()["body"] != nil {
				t.Errorf("GET ?$select=subject = %s", r)
			}
			if r := env.Do("GET", cl.base+"/mailFolders/drafts/messages/"+id, cl.token, nil); r.Status != http.StatusOK {
				t.Errorf("GET through drafts = %s", r)
			}
			if r := env.Do("GET", cl.base+"/mailFolders/inbox/messages/"+id, cl.token, nil); r.Status != http.StatusNotFound {
				t.Errorf("GET through the wrong folder = %s, want 404", r)
			}
			r = env.Do("PATCH", cl.base+"/messages/"+id, cl.token, map[string]any{"subject": "New plans", "isRead": false}, "If-Match", etag)
			if r.Status != http.StatusOK || r.JSON()["subject"] != "New plans" || str(r.JSON(), "@odata.etag") == etag {
				t.Fatalf("PATCH = %s, want a new etag", r)
			}
			if r := env.Do("PATCH", cl.base+"/messages/"+id, cl.token, map[string]any{"isRead": true}, "If-Match", etag); r.Status != http.StatusPreconditionFailed || r.ErrorCode() != "ErrorIrresolvableConflict" {
				t.Errorf("PATCH with stale If-Match = %s, want 412 ErrorIrresolvableConflict", r)
			}
			if r := env.Do("DELETE", cl.base+"/messages/"+id, cl.token, nil); r.Status != http.StatusNoContent {
				t.Fatalf("DELETE = %s", r)
			}
			if r := env.Do("GET", cl.base+"/messages/"+id, cl.token, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "ErrorItemNotFound" {
				t.Errorf("GET deleted = %s, want 404 ErrorItemNotFound", r)
			}
			recs := wantChanges(t, env, cl.tenant, change.UserMessages(cl.user), "created", "updated", "deleted")
			wantChanges(t, env, cl.tenant, change.FolderMessages(cl.user, drafts), "created", "updated", "deleted")
			n, _ := change.NoticeOf(&recs[1])
			if n.Resource != "Users/"+cl.user+"/Messages/"+id || n.ODataType != "#Microsoft.Graph.Message" || !strings.HasPrefix(n.ETag, `W/"`) {
				t.Errorf("notice = %+v", n)
			}
			if !strings.Contains(string(recs[1].Before), `"isRead":true`) || !strings.Contains(string(recs[1].After), `"isRead":false`) {
				t.Errorf("update before/after = %s / %s", recs[1].Before, recs[1].After)
			}
		})
	}
}

func TestMessageGolden(t *testing.T) {
	t.Parallel()
	env := setup(t)
	r := env.Do("POST", "/v1.0/users/"+testserver.Adele+"/messages", env.AppToken(), map[string]any{
		"@odata.type":  "#microsoft.graph.message",
		"subject":      "Quarterly numbers",
		"body":         map[string]any{"contentType": "text", "content": "See attached."},
		"toRecipients": []any{map[string]any{"emailAddress": map[string]any{"name": "Bruno", "address": testserver.BrunoUPN}}},
		"categories":   []any{"Blue"},
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("POST = %s", r)
	}
	golden(t, env, "message", r.Body)
}

func TestMessageValidation(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	base := "/v1.0/users/" + testserver.Adele + "/messages"
	tests := []struct {
		name string
		body any
		code string
	}{
		{"unknown property", map[string]any{"subjekt": "x"}, "ErrorInvalidProperty"},
		{"read-only property", map[string]any{"isDraft": false}, "ErrorInvalidProperty"},
		{"wrong type", map[string]any{"isRead": "yes"}, "ErrorInvalidProperty"},
		{"bad enum", map[string]any{"importance": "urgent"}, "ErrorInvalidProperty"},
		{"bad address", map[string]any{"toRecipients": []any{map[string]any{"emailAddress": map[string]any{"address": "nobody"}}}}, "ErrorInvalidProperty"},
		{"no address", map[string]any{"toRecipients": []any{map[string]any{"emailAddress": map[string]any{"name": "x"}}}}, "ErrorInvalidProperty"},
		{"not an object", []any{1}, "BadRequest"},
	}
	for _, tc := range tests {
		if r := env.Do("POST", base, app, tc.body); r.Status != http.StatusBadRequest || r.ErrorCode() != tc.code {
			t.Errorf("%s: POST = %s, want 400 %s", tc.name, r, tc.code)
		}
	}
	if r := env.Do("GET", base+"/AAMkAGnothere", app, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "ErrorItemNotFound" {
		t.Errorf("GET unknown id = %s, want 404 ErrorItemNotFound", r)
	}
	if r := env.Do("GET", "/v1.0/users/nobody@contoso.onmicrosoft.com/messages", app, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "ErrorInvalidUser" {
		t.Errorf("GET unknown user = %s, want 404 ErrorInvalidUser", r)
	}
	if n := len(env.Changes(testserver.Tenant, change.UserMessages(testserver.Adele))); n != 0 {
		t.Errorf("refused writes recorded %d changes, want 0", n)
	}
}

func TestMailPermissions(t *testing.T) {
	t.Parallel()
	env := setup(t)
	none, noneSecret := env.AddApp([]string{"User.Read.All"}, nil)
	readOnly, readSecret := env.AddApp([]string{"Mail.Read"}, []string{"Mail.ReadBasic"})
	base := "/v1.0/users/" + testserver.Adele
	tests := []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"app without Mail.*", "GET", base + "/messages", env.ClientToken(none, noneSecret), nil, http.StatusForbidden},
		{"app without Mail.* folders", "GET", base + "/mailFolders", env.ClientToken(none, noneSecret), nil, http.StatusForbidden},
		{"Mail.Read cannot create", "POST", base + "/messages", env.ClientToken(readOnly, readSecret), map[string]any{"subject": "x"}, http.StatusForbidden},
		{"Mail.Read cannot send", "POST", base + "/sendMail", env.ClientToken(readOnly, readSecret), map[string]any{"message": map[string]any{}}, http.StatusForbidden},
		{"Mail.Read reads", "GET", base + "/messages", env.ClientToken(readOnly, readSecret), nil, http.StatusOK},
		{"delegated reads another mailbox", "GET", base + "/messages", env.UserToken(testserver.BrunoUPN), nil, http.StatusForbidden},
		{"delegated without mail scope", "GET", "/v1.0/me/messages", env.UserToken(testserver.BrunoUPN, "User.Read"), nil, http.StatusForbidden},
		{"personal without mail scope", "GET", "/v1.0/me/messages", env.PersonalToken("User.Read"), nil, http.StatusForbidden},
	}
	for _, tc := range tests {
		r := env.Do(tc.method, tc.path, tc.token, tc.body)
		if r.Status != tc.want || (tc.want == http.StatusForbidden && r.ErrorCode() != "ErrorAccessDenied") {
			t.Errorf("%s: %s %s = %s, want %d", tc.name, tc.method, tc.path, r, tc.want)
		}
	}
	// Mail.ReadBasic sees messages without their body.
	env.Do("POST", base+"/messages", env.AppToken(), map[string]any{"subject": "s", "body": map[string]any{"content": "secret"}})
	basic := env.DelegatedToken(readOnly, readSecret, testserver.Tenant, testserver.AdeleUPN, "Mail.ReadBasic")
	r := env.Do("GET", "/v1.0/me/messages", basic, nil)
	if v := values(t, r); r.Status != http.StatusOK || len(v) != 1 || v[0]["body"] != nil || v[0]["subject"] != "s" {
		t.Errorf("GET with Mail.ReadBasic = %s, want the message without body", r)
	}
}

func TestSendMail(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	to := func(addrs ...string) []any {
		var out []any
		for _, a := range addrs {
			out = append(out, map[string]any{"emailAddress": map[string]any{"address": a}})
		}
		return out
	}
	r := env.Do("POST", "/v1.0/users/"+testserver.AdeleUPN+"/sendMail", app, map[string]any{
		"message": map[string]any{"subject": "Lunch?", "body": map[string]any{"content": "Noon"},
			"toRecipients": to(testserver.BrunoUPN, "someone@example.com"), "bccRecipients": to("chen@contoso.onmicrosoft.com")},
	})
	if r.Status != http.StatusAccepted || len(r.Body) != 0 {
		t.Fatalf("sendMail = %s, want 202 with no body", r)
	}
	inbox := env.Do("GET", "/v1.0/users/"+testserver.Bruno+"/mailFolders/inbox/messages", app, nil)
	got := values(t, inbox)
	if len(got) != 1 || got[0]["subject"] != "Lunch?" || got[0]["isRead"] != false || got[0]["isDraft"] != false {
		t.Fatalf("Bruno's inbox = %s", inbox)
	}
	if from := got[0]["from"].(map[string]any)["emailAddress"].(map[string]any); from["address"] != testserver.AdeleUPN || from["name"] != "Adele Vance" {
		t.Errorf("from = %v", from)
	}
	if bcc := got[0]["bccRecipients"].([]any); len(bcc) != 0 {
		t.Errorf("recipient sees bcc %v", bcc)
	}
	chen := "22222222-0000-4000-8000-000000000003"
	wantChanges(t, env, testserver.Tenant, change.FolderMessages(chen, change.WellKnownFolderID(chen, "inbox")), "created")
	wantChanges(t, env, testserver.Tenant, change.FolderMessages(testserver.Bruno, change.WellKnownFolderID(testserver.Bruno, "inbox")), "created")
	sent := env.Do("GET", "/v1.0/users/"+testserver.Adele+"/mailFolders('SentItems')/messages", app, nil)
	if v := values(t, sent); len(v) != 1 || len(v[0]["bccRecipients"].([]any)) != 1 {
		t.Errorf("Adele's sent items = %s", sent)
	}
	// saveToSentItems false keeps no copy; no recipients is refused.
	env.Do("POST", "/v1.0/users/"+testserver.Adele+"/sendMail", app, map[string]any{"message": map[string]any{"toRecipients": to(testserver.BrunoUPN)}, "saveToSentItems": false})
	if v := values(t, env.Do("GET", "/v1.0/users/"+testserver.Adele+"/mailFolders/sentitems/messages", app, nil)); len(v) != 1 {
		t.Errorf("sent items after saveToSentItems=false: %d, want 1", len(v))
	}
	if r := env.Do("POST", "/v1.0/users/"+testserver.Adele+"/sendMail", app, map[string]any{"message": map[string]any{"subject": "x"}}); r.Status != http.StatusBadRequest || r.ErrorCode() != "ErrorInvalidRecipients" {
		t.Errorf("sendMail without recipients = %s, want 400 ErrorInvalidRecipients", r)
	}
	if r := env.Do("POST", "/v1.0/users/"+testserver.Adele+"/sendMail", app, map[string]any{"msg": map[string]any{}}); r.Status != http.StatusBadRequest || r.ErrorCode() != "ErrorInvalidProperty" {
		t.Errorf("sendMail with unknown parameter = %s, want 400 ErrorInvalidProperty", r)
	}
	// A delegated user sends as itself.
	bruno := env.UserToken(testserver.BrunoUPN)
	if r := env.Do("POST", "/v1.0/me/sendMail", bruno, map[string]any{"message": map[string]any{"toRecipients": to(testserver.AdeleUPN)}}); r.Status != http.StatusAccepted {
		t.Fatalf("delegated sendMail = %s", r)
	}
	if v := values(t, env.Do("GET", "/v1.0/users/"+testserver.Adele+"/mailFolders/inbox/messages", app, nil)); len(v) != 1 {
		t.Errorf("Adele's inbox has %d messages, want 1", len(v))
	}
}

func TestDraftSendMoveCopyReply(t *testing.T) {
	t.Parallel()
	env := setup(t)
	tok := env.UserToken(testserver.AdeleUPN)
	base := "/v1.0/me"
	draft := env.Do("POST", base+"/messages", tok, map[string]any{"subject": "Hi", "toRecipients": []any{map[string]any{"emailAddress": map[string]any{"address": testserver.BrunoUPN}}}}).JSON()
	id := str(draft, "id")
	if r := env.Do("POST", base+"/messages/"+id+"/send", tok, nil); r.Status != http.StatusAccepted {
		t.Fatalf("send draft = %s", r)
	}
	if r := env.Do("GET", base+"/messages/"+id, tok, nil); r.Status != http.StatusNotFound {
		t.Errorf("draft after send = %s, want 404", r)
	}
	drafts := change.WellKnownFolderID(testserver.Adele, "drafts")
	sentItems := change.WellKnownFolderID(testserver.Adele, "sentitems")
	wantChanges(t, env, testserver.Tenant, change.FolderMessages(testserver.Adele, drafts), "created", "deleted")
	wantChanges(t, env, testserver.Tenant, change.FolderMessages(testserver.Adele, sentItems), "created")

	// Bruno replies, moves and copies the message he got.
	bruno := env.UserToken(testserver.BrunoUPN)
	got := values(t, env.Do("GET", "/v1.0/me/mailFolders/inbox/messages", bruno, nil))
	if len(got) != 1 {
		t.Fatalf("Bruno's inbox has %d messages, want 1", len(got))
	}
	orig := str(got[0], "id")
	r := env.Do("POST", "/v1.0/me/messages/"+orig+"/createReply", bruno, map[string]any{"comment": "Sure"})
	if r.Status != http.StatusCreated || r.JSON()["subject"] != "RE: Hi" || r.JSON()["conversationId"] != got[0]["conversationId"] {
		t.Fatalf("createReply = %s", r)
	}
	if r := env.Do("POST", "/v1.0/me/messages/"+orig+"/reply", bruno, map[string]any{"comment": "Yes"}); r.Status != http.StatusAccepted {
		t.Fatalf("reply = %s", r)
	}
	adeleInbox := values(t, env.Do("GET", base+"/mailFolders/inbox/messages", tok, nil))
	if len(adeleInbox) != 1 || adeleInbox[0]["subject"] != "RE: Hi" {
		t.Errorf("Adele's inbox after reply = %v", adeleInbox)
	}
	if r := env.Do("POST", "/v1.0/me/messages/"+orig+"/forward", bruno, map[string]any{"comment": "fyi"}); r.Status != http.StatusBadRequest || r.ErrorCode() != "ErrorInvalidRecipients" {
		t.Errorf("forward without recipients = %s, want 400 ErrorInvalidRecipients", r)
	}
	r = env.Do("POST", "/v1.0/me/messages/"+orig+"/copy", bruno, map[string]any{"destinationId": "archive"})
	if r.Status != http.StatusCreated || str(r.JSON(), "id") == orig || r.JSON()["parentFolderId"] != change.WellKnownFolderID(testserver.Bruno, "archive") {
		t.Fatalf("copy = %s", r)
	}
	r = env.Do("POST", "/v1.0/me/messages/"+orig+"/move", bruno, map[string]any{"destinationId": "DeletedItems"})
	moved := str(r.JSON(), "id")
	if r.Status != http.StatusCreated || moved == orig {
		t.Fatalf("move = %s, want 201 with a new id", r)
	}
	if r := env.Do("GET", "/v1.0/me/messages/"+orig, bruno, nil); r.Status != http.StatusNotFound {
		t.Errorf("GET the moved message's old id = %s, want 404", r)
	}
	if r := env.Do("POST", "/v1.0/me/messages/"+moved+"/move", bruno, map[string]any{"destinationId": "nowhere"}); r.Status != http.StatusNotFound {
		t.Errorf("move to an unknown folder = %s, want 404", r)
	}
	inbox := change.WellKnownFolderID(testserver.Bruno, "inbox")
	wantChanges(t, env, testserver.Tenant, change.FolderMessages(testserver.Bruno, inbox), "created", "deleted")
	wantChanges(t, env, testserver.Tenant, change.FolderMessages(testserver.Bruno, change.WellKnownFolderID(testserver.Bruno, "deleteditems")), "created")
	// A sent message keeps its subject.
	if r := env.Do("PATCH", "/v1.0/me/messages/"+moved, bruno, map[string]any{"subject": "changed"}); r.Status != http.StatusBadRequest || r.ErrorCode() != "ErrorInvalidPropertyUpdateSentMessage" {
		t.Errorf("PATCH subject of a received message = %s, want 400 ErrorInvalidPropertyUpdateSentMessage", r)
	}
}

func TestMessageQuery(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	base := "/v1.0/users/" + testserver.Adele
	for i, m := range []map[string]any{
		{"subject": "Budget review", "importance": "high", "isRead": false},
		{"subject": "Lunch", "importance": "low"},
		{"subject": "Budget final", "from": map[string]any{"emailAddress": map[string]any{"address": "cfo@example.com"}}},
	} {
		if r := env.Do("POST", base+"/messages", app, m); r.Status != http.StatusCreated {
			t.Fatalf("create %d = %s", i, r)
		}
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"$filter=" + url.QueryEscape("startswith(subject,'budget')") + "&$orderby=subject", []string{"Budget final", "Budget review"}},
		{"$filter=" + url.QueryEscape("importance eq 'High' or importance eq 'low'") + "&$orderby=subject%20desc", []string{"Lunch", "Budget review"}},
		{"$filter=" + url.QueryEscape("not(isRead) and contains(subject,'view')"), []string{"Budget review"}},
		{"$filter=" + url.QueryEscape("from/emailAddress/address eq 'CFO@example.com'"), []string{"Budget final"}},
		{"$filter=" + url.QueryEscape("importance ne 'normal'") + "&$orderby=subject", []string{"Budget review", "Lunch"}},
		{"$filter=" + url.QueryEscape("receivedDateTime ge 2000-01-01T00:00:00Z and receivedDateTime le 2000-01-02T00:00:00Z"), nil},
		{"$filter=" + url.QueryEscape("receivedDateTime ge 2000-01-01T00:00:00Z") + "&$orderby=subject&$top=1", []string{"Budget final"}},
	}
	for _, tc := range tests {
		r := env.Do("GET", base+"/messages?"+tc.query, app, nil)
		if r.Status != http.StatusOK {
			t.Errorf("GET ?%s = %s", tc.query, r)
			continue
		}
		var got []string
		for _, v := range values(t, r) {
			got = append(got, str(v, "subject"))
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("GET ?%s = %q, want %q", tc.query, got, tc.want)
		}
	}
	// Paging with $top follows nextLink through every item once.
	seen := map[string]bool{}
	next := env.URL + base + "/messages?$top=2"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		r := env.Do("GET", next, app, nil)
		for _, v := range values(t, r) {
			seen[str(v, "id")] = true
		}
		next, _ = r.JSON()["@odata.nextLink"].(string)
	}
	if len(seen) != 3 {
		t.Errorf("paged through %d messages, want 3", len(seen))
	}
	for _, q := range []string{"$filter=subject%20eq", "$top=0", "$top=1001", "$orderby=subject%20sideways", "$skip=-1", "$select=a,,b"} {
		if r := env.Do("GET", base+"/messages?"+q, app, nil); r.Status != http.StatusBadRequest {
			t.Errorf("GET ?%s = %s, want 400", q, r)
		}
	}
	if r := env.Do("GET", base+"/messages?$top=1000", app, nil); r.Status != http.StatusOK {
		t.Errorf("GET ?$top=1000 = %s, want 200", r)
	}
}

func TestMessagesDelta(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	base := "/v1.0/users/" + testserver.Adele
	var ids []string
	for _, s := range []string{"one", "two", "three"} {
		ids = append(ids, str(env.Do("POST", base+"/mailFolders/inbox/messages", app, map[string]any{"subject": s}).JSON(), "id"))
	}
	// Initial round in pages of two, with $select kept in the links.
	var got int
	link := base + "/mailFolders('Inbox')/messages/delta?$select=subject"
	var deltaLink string
	for pages := 0; link != ""; pages++ {
		if pages > 3 {
			t.Fatal("initial round does not end")
		}
		r := env.Do("GET", link, app, nil, "Prefer", "odata.maxpagesize=2")
		if r.Status != http.StatusOK || r.Header.Get("Preference-Applied") != "odata.maxpagesize=2" {
			t.Fatalf("GET %s = %s", link, r)
		}
		for _, v := range values(t, r) {
			if v["isRead"] != nil || v["subject"] == nil {
				t.Errorf("delta item ignores $select: %v", v)
			}
			got++
		}
		body := r.JSON()
		if body["@odata.nextLink"] != nil && body["@odata.deltaLink"] != nil {
			t.Fatal("a page has both nextLink and deltaLink")
		}
		link, _ = body["@odata.nextLink"].(string)
		deltaLink, _ = body["@odata.deltaLink"].(string)
	}
	if got != 3 || deltaLink == "" {
		t.Fatalf("initial round returned %d items, deltaLink %q", got, deltaLink)
	}
	if r := env.Do("GET", deltaLink, app, nil); len(values(t, r)) != 0 {
		t.Fatalf("deltaLink without changes = %s", r)
	}
	env.Do("PATCH", base+"/messages/"+ids[1], app, map[string]any{"subject": "TWO"})
	r := env.Do("GET", deltaLink, app, nil)
	v := values(t, r)
	if len(v) != 1 || v[0]["id"] != ids[1] || v[0]["subject"] != "TWO" {
		t.Fatalf("deltaLink after one update = %s", r)
	}
	deltaLink = str(r.JSON(), "@odata.deltaLink")
	env.Do("DELETE", base+"/messages/"+ids[0], app, nil)
	env.Do("POST", base+"/messages/"+ids[2]+"/move", app, map[string]any{"destinationId": "archive"})
	r = env.Do("GET", deltaLink, app, nil)
	v = values(t, r)
	if len(v) != 2 {
		t.Fatalf("deltaLink after delete and move = %s", r)
	}
	for i, want := range []string{ids[0], ids[2]} {
		if v[i]["id"] != want || v[i]["@removed"].(map[string]any)["reason"] != "deleted" {
			t.Errorf("entry %d = %v, want %s removed", i, v[i], want)
		}
	}
	golden(t, env, "messages_delta_removed", r.Body)
	for _, bad := range []string{"$deltatoken=garbage", "$skiptoken=eyJzIjoxfQ"} {
		if r := env.Do("GET", base+"/mailFolders/inbox/messages/delta?"+bad, app, nil); r.Status != http.StatusBadRequest || r.ErrorCode() != "syncStateNotFound" {
			t.Errorf("delta ?%s = %s, want 400 syncStateNotFound", bad, r)
		}
	}
	// A token of the inbox is refused on another folder.
	tok := deltaLink[strings.Index(deltaLink, "$deltatoken="):]
	if r := env.Do("GET", base+"/mailFolders/drafts/messages/delta?"+tok, app, nil); r.Status != http.StatusBadRequest {
		t.Errorf("inbox token on drafts = %s, want 400", r)
	}
}
