package outlook_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
)

// fileAttachment is a POST body for a file attachment holding content.
func fileAttachment(name string, content []byte) map[string]any {
	return map[string]any{
		"@odata.type":  "#microsoft.graph.fileAttachment",
		"name":         name,
		"contentType":  "text/plain",
		"contentBytes": base64.StdEncoding.EncodeToString(content),
	}
}

// newDraft creates a draft in Adele's mailbox and returns its id.
func newDraft(t *testing.T, env *testserver.Env, body map[string]any) string {
	t.Helper()
	r := env.Do("POST", "/v1.0/users/"+testserver.Adele+"/messages", env.AppToken(), body)
	if r.Status != http.StatusCreated {
		t.Fatalf("POST messages = %s, want 201", r)
	}
	return str(r.JSON(), "id")
}

func TestAttachmentLifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	id := newDraft(t, env, map[string]any{"subject": "report"})
	base := "/v1.0/users/" + testserver.Adele + "/messages/" + id
	content := []byte("hello, attachment")

	r := env.Do("POST", base+"/attachments", app, fileAttachment("hello.txt", content))
	if r.Status != http.StatusCreated {
		t.Fatalf("POST attachments = %s, want 201", r)
	}
	att := r.JSON()
	attID := str(att, "id")
	if att["size"] != float64(len(content)) || att["isInline"] != false || str(att, "@odata.type") != "#microsoft.graph.fileAttachment" || str(att, "name") != "hello.txt" {
		t.Errorf("POST attachments = %s", r.Body)
	}
	if got := env.Do("GET", base, app, nil).JSON()["hasAttachments"]; got != true {
		t.Errorf("GET message hasAttachments = %v after add, want true", got)
	}

	r = env.Do("GET", base+"/attachments", app, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET attachments = %s", r)
	}
	list := values(t, r)
	if len(list) != 1 || str(list[0], "id") != attID || str(list[0], "contentBytes") != base64.StdEncoding.EncodeToString(content) {
		t.Errorf("GET attachments = %s, want the one attachment with contentBytes", r.Body)
	}
	r = env.Do("GET", base+"/attachments/"+attID, app, nil)
	if r.Status != http.StatusOK || str(r.JSON(), "contentBytes") != base64.StdEncoding.EncodeToString(content) {
		t.Errorf("GET attachment = %s", r)
	}
	r = env.Do("GET", base+"/attachments/"+attID+"/$value", app, nil)
	if r.Status != http.StatusOK || !bytes.Equal(r.Body, content) || r.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("GET $value = %d %q (%s), want 200 %q text/plain", r.Status, r.Body, r.Header.Get("Content-Type"), content)
	}
	// Under the message's folder path too.
	if r := env.Do("GET", "/v1.0/users/"+testserver.Adele+"/mailFolders/drafts/messages/"+id+"/attachments/"+attID, app, nil); r.Status != http.StatusOK {
		t.Errorf("GET via mailFolders/drafts = %s, want 200", r)
	}
	if r := env.Do("GET", "/v1.0/users/"+testserver.Adele+"/mailFolders/inbox/messages/"+id+"/attachments/"+attID, app, nil); r.Status != http.StatusNotFound {
		t.Errorf("GET via the wrong folder = %s, want 404", r)
	}

	if r := env.Do("DELETE", base+"/attachments/"+attID, app, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE attachment = %s, want 204", r)
	}
	if r := env.Do("GET", base+"/attachments/"+attID, app, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "ErrorItemNotFound" {
		t.Errorf("GET deleted attachment = %s, want 404 ErrorItemNotFound", r)
	}
	if got := env.Do("GET", base, app, nil).JSON()["hasAttachments"]; got != false {
		t.Errorf("GET message hasAttachments = %v after delete, want false", got)
	}

	// created, updated (add), updated (delete); each update carries hasAttachments.
	drafts := change.WellKnownFolderID(testserver.Adele, "drafts")
	recs := wantChanges(t, env, testserver.Tenant, change.FolderMessages(testserver.Adele, drafts), "created", "updated", "updated")
	for i, want := range []struct{ before, after string }{
		{`"hasAttachments":false`, `"hasAttachments":true`},
		{`"hasAttachments":true`, `"hasAttachments":false`},
	} {
		rec := recs[i+1]
		if !strings.Contains(string(rec.Before), want.before) || !strings.Contains(string(rec.After), want.after) {
			t.Errorf("change %d before/after = %s / %s, want %s / %s", i+1, rec.Before, rec.After, want.before, want.after)
		}
	}
}

func TestAttachmentGolden(t *testing.T) {
	t.Parallel()
	env := setup(t)
	id := newDraft(t, env, map[string]any{"subject": "golden"})
	base := "/v1.0/users/" + testserver.Adele + "/messages/" + id + "/attachments"
	r := env.Do("POST", base, env.AppToken(), fileAttachment("notes.txt", []byte("golden bytes")))
	if r.Status != http.StatusCreated {
		t.Fatalf("POST attachments = %s", r)
	}
	r = env.Do("GET", base+"/"+str(r.JSON(), "id"), env.AppToken(), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET attachment = %s", r)
	}
	golden(t, env, "attachment", bytes.ReplaceAll(r.Body, []byte(id), []byte("{message}")))
}

func TestAttachmentValidation(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	id := newDraft(t, env, map[string]any{"subject": "limits"})
	base := "/v1.0/users/" + testserver.Adele + "/messages/" + id + "/attachments"
	with := func(k string, v any) map[string]any {
		a := fileAttachment("a.bin", []byte("x"))
		a[k] = v
		return a
	}
	without := func(k string) map[string]any {
		a := fileAttachment("a.bin", []byte("x"))
		delete(a, k)
		return a
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"at the size limit", fileAttachment("max.bin", make([]byte, 3<<20)), http.StatusCreated, ""},
		{"one byte over", fileAttachment("big.bin", make([]byte, 3<<20+1)), http.StatusRequestEntityTooLarge, "RequestEntityTooLarge"},
		{"empty file", fileAttachment("empty.txt", nil), http.StatusCreated, ""},
		{"bad base64", with("contentBytes", "not base64!"), http.StatusBadRequest, "ErrorInvalidRequest"},
		{"contentBytes not a string", with("contentBytes", 12), http.StatusBadRequest, "ErrorInvalidRequest"},
		{"item attachment", with("@odata.type", "#microsoft.graph.itemAttachment"), http.StatusBadRequest, "ErrorInvalidRequest"},
		{"no type", without("@odata.type"), http.StatusBadRequest, "ErrorInvalidRequest"},
		{"no name", without("name"), http.StatusBadRequest, "ErrorInvalidRequest"},
		{"no content", without("contentBytes"), http.StatusBadRequest, "ErrorInvalidRequest"},
		{"read-only size", with("size", 1), http.StatusBadRequest, "ErrorInvalidProperty"},
		{"unknown property", with("colour", "red"), http.StatusBadRequest, "ErrorInvalidProperty"},
		{"isInline not a Boolean", with("isInline", "yes"), http.StatusBadRequest, "ErrorInvalidProperty"},
	}
	for _, tc := range tests {
		r := env.Do("POST", base, app, tc.body)
		if r.Status != tc.status || (tc.code != "" && r.ErrorCode() != tc.code) {
			t.Errorf("%s: POST attachments = %d %s, want %d %s", tc.name, r.Status, r.ErrorCode(), tc.status, tc.code)
		}
	}
	r := env.Do("POST", base, app, with("@odata.type", "#microsoft.graph.referenceAttachment"))
	if !strings.Contains(r.ErrorMessage(), "#microsoft.graph.referenceAttachment") {
		t.Errorf("POST referenceAttachment message = %q, want it to name the type", r.ErrorMessage())
	}
	if got := len(values(t, env.Do("GET", base, app, nil))); got != 2 {
		t.Errorf("GET attachments after the table = %d attachments, want 2 (the accepted ones)", got)
	}
	if r := env.Do("GET", base+"/AAMkAGAttnothere", app, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "ErrorItemNotFound" {
		t.Errorf("GET unknown attachment = %s, want 404 ErrorItemNotFound", r)
	}
	if r := env.Do("POST", "/v1.0/users/"+testserver.Adele+"/messages/AAMkAGnothere/attachments", app, fileAttachment("a", []byte("x"))); r.Status != http.StatusNotFound {
		t.Errorf("POST on unknown message = %s, want 404", r)
	}
}

func TestAttachmentPermissions(t *testing.T) {
	t.Parallel()
	env := setup(t)
	id := newDraft(t, env, map[string]any{"subject": "perms"})
	base := "/v1.0/users/" + testserver.Adele + "/messages/" + id + "/attachments"
	r := env.Do("POST", base, env.AppToken(), fileAttachment("a.txt", []byte("x")))
	if r.Status != http.StatusCreated {
		t.Fatalf("POST attachments = %s", r)
	}
	attID := str(r.JSON(), "id")
	reader, s1 := env.AddApp([]string{"Mail.Read"}, nil)
	basic, s2 := env.AddApp([]string{"Mail.ReadBasic.All"}, nil)
	readTok, basicTok := env.ClientToken(reader, s1), env.ClientToken(basic, s2)
	tests := []struct {
		name, token, method, path string
		body                      any
		status                    int
	}{
		{"Mail.Read lists", readTok, "GET", base, nil, http.StatusOK},
		{"Mail.Read gets $value", readTok, "GET", base + "/" + attID + "/$value", nil, http.StatusOK},
		{"Mail.Read cannot add", readTok, "POST", base, fileAttachment("b.txt", []byte("y")), http.StatusForbidden},
		{"Mail.Read cannot delete", readTok, "DELETE", base + "/" + attID, nil, http.StatusForbidden},
		{"Mail.ReadBasic cannot read", basicTok, "GET", base + "/" + attID, nil, http.StatusForbidden},
		{"another user's mailbox", env.UserToken(testserver.BrunoUPN), "GET", base, nil, http.StatusForbidden},
	}
	for _, tc := range tests {
		r := env.Do(tc.method, tc.path, tc.token, tc.body)
		if r.Status != tc.status || (tc.status == http.StatusForbidden && r.ErrorCode() != "ErrorAccessDenied") {
			t.Errorf("%s: %s = %s, want %d", tc.name, tc.method, r, tc.status)
		}
	}
}

func TestMessageWithInlineAttachments(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	picture := fileAttachment("logo.png", []byte("png"))
	picture["isInline"] = true
	picture["contentId"] = "logo"
	tests := []struct {
		name string
		atts []any
		want bool // hasAttachments
	}{
		{"a file", []any{fileAttachment("a.txt", []byte("a"))}, true},
		{"only an inline picture", []any{picture}, false},
		{"both", []any{picture, fileAttachment("a.txt", []byte("a"))}, true},
	}
	for _, tc := range tests {
		r := env.Do("POST", "/v1.0/users/"+testserver.Adele+"/messages", app, map[string]any{"subject": tc.name, "attachments": tc.atts})
		if r.Status != http.StatusCreated {
			t.Fatalf("%s: POST messages = %s", tc.name, r)
		}
		if got := r.JSON()["hasAttachments"]; got != tc.want {
			t.Errorf("%s: hasAttachments = %v, want %v", tc.name, got, tc.want)
		}
		list := values(t, env.Do("GET", "/v1.0/users/"+testserver.Adele+"/messages/"+str(r.JSON(), "id")+"/attachments", app, nil))
		if len(list) != len(tc.atts) {
			t.Errorf("%s: GET attachments = %d, want %d", tc.name, len(list), len(tc.atts))
		}
	}
	r := env.Do("POST", "/v1.0/users/"+testserver.Adele+"/messages", app, map[string]any{"subject": "x", "attachments": []any{map[string]any{"@odata.type": "#microsoft.graph.itemAttachment", "name": "x"}}})
	if r.Status != http.StatusBadRequest || r.ErrorCode() != "ErrorInvalidRequest" {
		t.Errorf("POST messages with an itemAttachment = %s, want 400 ErrorInvalidRequest", r)
	}
}

func TestSendMailWithAttachment(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	r := env.Do("POST", "/v1.0/users/"+testserver.Adele+"/sendMail", app, map[string]any{
		"message": map[string]any{
			"subject":      "with file",
			"toRecipients": []any{map[string]any{"emailAddress": map[string]any{"address": testserver.BrunoUPN}}},
			"attachments":  []any{fileAttachment("report.txt", []byte("numbers"))},
		},
	})
	if r.Status != http.StatusAccepted {
		t.Fatalf("sendMail = %s, want 202", r)
	}
	for _, box := range []struct{ user, folder string }{{testserver.Bruno, "inbox"}, {testserver.Adele, "sentitems"}} {
		msgs := values(t, env.Do("GET", "/v1.0/users/"+box.user+"/mailFolders/"+box.folder+"/messages", app, nil))
		if len(msgs) != 1 || msgs[0]["hasAttachments"] != true {
			t.Fatalf("%s of %s = %v, want one message with hasAttachments", box.folder, box.user, msgs)
		}
		atts := values(t, env.Do("GET", "/v1.0/users/"+box.user+"/messages/"+str(msgs[0], "id")+"/attachments", app, nil))
		if len(atts) != 1 || str(atts[0], "name") != "report.txt" {
			t.Errorf("attachments in %s of %s = %v, want report.txt", box.folder, box.user, atts)
		}
	}
}

func TestAttachmentsFollowTheMessage(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	user := "/v1.0/users/" + testserver.Adele
	id := newDraft(t, env, map[string]any{
		"subject":      "travels",
		"toRecipients": []any{map[string]any{"emailAddress": map[string]any{"address": testserver.BrunoUPN}}},
		"attachments":  []any{fileAttachment("a.txt", []byte("a"))},
	})
	count := func(msg string) int { return attachmentCount(t, env, testserver.Adele, msg) }
	r := env.Do("POST", user+"/messages/"+id+"/copy", app, map[string]any{"destinationId": "archive"})
	if r.Status != http.StatusCreated || count(str(r.JSON(), "id")) != 1 || count(id) != 1 {
		t.Fatalf("copy = %s; attachments copy/original = %d/%d, want 1/1", r, count(str(r.JSON(), "id")), count(id))
	}
	copyID := str(r.JSON(), "id")
	r = env.Do("POST", user+"/messages/"+id+"/move", app, map[string]any{"destinationId": "drafts"})
	if r.Status != http.StatusCreated {
		t.Fatalf("move to the same folder = %s", r)
	}
	r = env.Do("POST", user+"/messages/"+copyID+"/move", app, map[string]any{"destinationId": "drafts"})
	if r.Status != http.StatusCreated || count(str(r.JSON(), "id")) != 1 {
		t.Fatalf("move = %s; attachments = %d, want 1", r, count(str(r.JSON(), "id")))
	}
	moved := str(r.JSON(), "id")
	if r := env.Do("DELETE", user+"/messages/"+moved, app, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE = %s", r)
	}
	if n := storedAttachments(t, env); n != 1 {
		t.Errorf("stored attachments after deleting the moved copy = %d, want 1 (the original's; the copy's went with it)", n)
	}
	if r := env.Do("POST", user+"/messages/"+id+"/send", app, nil); r.Status != http.StatusAccepted {
		t.Fatalf("send = %s", r)
	}
	msgs := values(t, env.Do("GET", "/v1.0/users/"+testserver.Bruno+"/mailFolders/inbox/messages", app, nil))
	if len(msgs) != 1 || msgs[0]["hasAttachments"] != true || attachmentCount(t, env, testserver.Bruno, str(msgs[0], "id")) != 1 {
		t.Errorf("Bruno's inbox after send = %v, want one message with its attachment", msgs)
	}
	r = env.Do("POST", "/v1.0/users/"+testserver.Bruno+"/messages/"+str(msgs[0], "id")+"/createForward", app, nil)
	if r.Status != http.StatusCreated || r.JSON()["hasAttachments"] != true || attachmentCount(t, env, testserver.Bruno, str(r.JSON(), "id")) != 1 {
		t.Errorf("createForward = %s, want a draft carrying the attachment", r)
	}
}

// attachmentCount is how many attachments a message of user has (-1 if the list fails).
func attachmentCount(t *testing.T, env *testserver.Env, user, msg string) int {
	t.Helper()
	r := env.Do("GET", "/v1.0/users/"+user+"/messages/"+msg+"/attachments", env.AppToken(), nil)
	if r.Status != http.StatusOK {
		return -1
	}
	return len(values(t, r))
}

// storedAttachments counts the attachment objects of the demo tenant.
func storedAttachments(t *testing.T, env *testserver.Env) int {
	t.Helper()
	var n int
	err := env.Store.View(context.Background(), func(tx store.Tx) error {
		var err error
		n, err = tx.CountObjects(context.Background(), store.ObjectQuery{Tenant: testserver.Tenant, Kind: "attachment"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
