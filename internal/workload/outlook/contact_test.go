package outlook_test

import (
	"net/http"
	"testing"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/testserver"
)

func TestContactCRUD(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, cl := range callers(env) {
		t.Run(cl.name, func(t *testing.T) {
			r := env.Do("POST", cl.base+"/contacts", cl.token, map[string]any{
				"givenName":      "Pavel",
				"surname":        "Bansky",
				"emailAddresses": []any{map[string]any{"address": "pavel@example.com", "name": "Pavel"}},
				"businessPhones": []any{"+1 732 555 0102"},
			})
			if r.Status != http.StatusCreated {
				t.Fatalf("POST contacts = %s", r)
			}
			c := r.JSON()
			id, etag := str(c, "id"), str(c, "@odata.etag")
			folder := change.WellKnownContactFolderID(cl.user)
			if c["displayName"] != "Pavel Bansky" || c["parentFolderId"] != folder {
				t.Errorf("created contact = %s", r)
			}
			if r := env.Do("GET", cl.base+"/contactFolders/"+folder+"/contacts/"+id, cl.token, nil); r.Status != http.StatusOK {
				t.Errorf("GET through its folder = %s", r)
			}
			r = env.Do("PATCH", cl.base+"/contacts/"+id, cl.token, map[string]any{"jobTitle": "Engineer"}, "If-Match", etag)
			if r.Status != http.StatusOK || r.JSON()["jobTitle"] != "Engineer" {
				t.Fatalf("PATCH = %s", r)
			}
			if r := env.Do("PATCH", cl.base+"/contacts/"+id, cl.token, map[string]any{"jobTitle": "x"}, "If-Match", etag); r.Status != http.StatusPreconditionFailed {
				t.Errorf("PATCH with stale etag = %s, want 412", r)
			}
			if r := env.Do("DELETE", cl.base+"/contacts/"+id, cl.token, nil); r.Status != http.StatusNoContent {
				t.Fatalf("DELETE = %s", r)
			}
			if r := env.Do("GET", cl.base+"/contacts/"+id, cl.token, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "ErrorItemNotFound" {
				t.Errorf("GET deleted = %s", r)
			}
			recs := wantChanges(t, env, cl.tenant, change.UserContacts(cl.user), "created", "updated", "deleted")
			wantChanges(t, env, cl.tenant, change.FolderContacts(cl.user, folder), "created", "updated", "deleted")
			n, _ := change.NoticeOf(&recs[2])
			if n.Resource != "Users/"+cl.user+"/Contacts/"+id || n.ODataType != "#Microsoft.Graph.Contact" {
				t.Errorf("notice = %+v", n)
			}
		})
	}
}

func TestContactFoldersAndDelta(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	base := "/v1.0/users/" + testserver.Adele
	r := env.Do("POST", base+"/contactFolders", app, map[string]any{"displayName": "Suppliers"})
	if r.Status != http.StatusCreated {
		t.Fatalf("POST contactFolders = %s", r)
	}
	folder := str(r.JSON(), "id")
	if v := values(t, env.Do("GET", base+"/contactFolders", app, nil)); len(v) != 2 {
		t.Errorf("contactFolders lists %d, want 2 (Contacts and Suppliers)", len(v))
	}
	if r := env.Do("POST", base+"/contactFolders", app, map[string]any{"displayName": "suppliers"}); r.Status != http.StatusConflict {
		t.Errorf("duplicate contact folder = %s, want 409", r)
	}
	c1 := str(env.Do("POST", base+"/contactFolders/"+folder+"/contacts", app, map[string]any{"displayName": "Acme"}).JSON(), "id")
	golden(t, env, "contact", env.Do("GET", base+"/contacts/"+c1, app, nil).Body)
	r = env.Do("GET", base+"/contactFolders/"+folder+"/contacts/delta", app, nil)
	if v := values(t, r); len(v) != 1 || v[0]["id"] != c1 {
		t.Fatalf("initial contacts delta = %s", r)
	}
	deltaLink := str(r.JSON(), "@odata.deltaLink")
	c2 := str(env.Do("POST", base+"/contactFolders/"+folder+"/contacts", app, map[string]any{"displayName": "Globex"}).JSON(), "id")
	env.Do("POST", base+"/contacts", app, map[string]any{"displayName": "elsewhere"})
	r = env.Do("GET", deltaLink, app, nil)
	if v := values(t, r); len(v) != 1 || v[0]["id"] != c2 {
		t.Fatalf("delta after create = %s, want only %s", r, c2)
	}
	deltaLink = str(r.JSON(), "@odata.deltaLink")
	if r := env.Do("DELETE", base+"/contactFolders/"+folder, app, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE contact folder = %s", r)
	}
	if r := env.Do("GET", deltaLink, app, nil); r.Status != http.StatusNotFound {
		// The folder is gone, so its delta is too.
		t.Errorf("delta of a deleted folder = %s, want 404", r)
	}
	wantChanges(t, env, testserver.Tenant, change.FolderContacts(testserver.Adele, folder), "created", "created", "deleted", "deleted")
	if r := env.Do("DELETE", base+"/contactFolders/contacts", app, nil); r.Status != http.StatusForbidden {
		t.Errorf("DELETE the default contact folder = %s, want 403", r)
	}
	if r := env.Do("POST", base+"/contacts", app, map[string]any{"birthday": "soon"}); r.Status != http.StatusBadRequest || r.ErrorCode() != "ErrorInvalidProperty" {
		t.Errorf("bad birthday = %s, want 400 ErrorInvalidProperty", r)
	}
	noContacts, secret := env.AddApp([]string{"Mail.Read"}, nil)
	if r := env.Do("GET", base+"/contacts", env.ClientToken(noContacts, secret), nil); r.Status != http.StatusForbidden || r.ErrorCode() != "ErrorAccessDenied" {
		t.Errorf("GET contacts without Contacts.* = %s, want 403", r)
	}
	readOnly, secret2 := env.AddApp([]string{"Contacts.Read"}, nil)
	if r := env.Do("POST", base+"/contacts", env.ClientToken(readOnly, secret2), map[string]any{"displayName": "x"}); r.Status != http.StatusForbidden {
		t.Errorf("POST contacts with Contacts.Read = %s, want 403", r)
	}
}
