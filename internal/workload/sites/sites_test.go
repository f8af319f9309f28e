package sites_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/goldenfile"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/sites"
)

func setup(t *testing.T) *testserver.Env {
	t.Helper()
	return testserver.New(t, func(e *testserver.Env) {
		w := sites.New(e.Store, e.Identity)
		w.Routes(e.HTTP.Graph())
		w.AdminRoutes(e.HTTP.Admin())
	})
}

func must(t *testing.T, r *testserver.Response, status int, what string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s = %s, want %d", what, r, status)
	}
	return r.JSON()
}

func wantError(t *testing.T, r *testserver.Response, status int, code, what string) {
	t.Helper()
	if r.Status != status || r.ErrorCode() != code {
		t.Errorf("%s = %s, want %d %s", what, r, status, code)
	}
}

func TestSites(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	root := must(t, env.Do("GET", "/v1.0/sites/root", app, nil), 200, "GET /sites/root")
	id := root["id"].(string)
	if !strings.HasPrefix(id, "contoso.sharepoint.com,") || root["webUrl"] != "https://contoso.sharepoint.com" {
		t.Fatalf("root site = %v", root)
	}
	for _, ref := range []string{id, "contoso.sharepoint.com", "contoso.sharepoint.com:/"} {
		if r := env.Do("GET", "/v1.0/sites/"+ref, app, nil); r.Status != 200 || r.JSON()["id"] != id {
			t.Errorf("GET /sites/%s = %s, want the root site", ref, r)
		}
	}
	// The admin API creates site collections; Graph cannot.
	adminPath := "/_graphhook/tenants/" + testserver.Tenant + "/sites"
	created := must(t, env.Do("POST", adminPath, testserver.AdminKey, map[string]any{"displayName": "Marketing Team", "name": "marketing"}), 201, "admin create site")
	if created["webUrl"] != "https://contoso.sharepoint.com/sites/marketing" {
		t.Errorf("created site = %v", created)
	}
	wantError(t, env.Do("POST", adminPath, testserver.AdminKey, map[string]any{"displayName": "Again", "name": "Marketing"}), 409, "nameAlreadyExists", "duplicate site")
	wantError(t, env.Do("POST", adminPath, testserver.AdminKey, map[string]any{"name": "x"}), 400, "BadRequest", "site without displayName")
	wantError(t, env.Do("POST", adminPath, testserver.AdminKey, map[string]any{"displayName": "X", "name": "a/b"}), 400, "BadRequest", "site with a bad name")
	wantError(t, env.Do("POST", adminPath, "wrong", map[string]any{"displayName": "X"}), 401, "InvalidAuthenticationToken", "admin with a bad key")
	wantError(t, env.Do("POST", "/_graphhook/tenants/nope/sites", testserver.AdminKey, map[string]any{"displayName": "X"}), 404, "ResourceNotFound", "unknown tenant")
	if r := env.Do("GET", "/v1.0/sites/contoso.sharepoint.com:/sites/marketing", app, nil); r.Status != 200 || r.JSON()["id"] != created["id"] {
		t.Errorf("GET site by path = %s", r)
	}
	wantError(t, env.Do("GET", "/v1.0/sites/contoso.sharepoint.com:/sites/none", app, nil), 404, "itemNotFound", "unknown site path")
	wantError(t, env.Do("GET", "/v1.0/sites/root", env.UserToken(testserver.BrunoUPN, "Files.Read"), nil), 403, "accessDenied", "site without Sites permission")
}

func TestListsAndItems(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, tc := range []struct {
		name  string
		token string
	}{
		{"application", env.AppToken()},
		{"delegated work", env.UserToken(testserver.AdeleUPN, "Sites.ReadWrite.All")},
	} {
		t.Run(tc.name, func(t *testing.T) { listLifecycle(t, env, tc.token, tc.name) })
	}
}

func listLifecycle(t *testing.T, env *testserver.Env, tok, title string) {
	siteID := must(t, env.Do("GET", "/v1.0/sites/root", tok, nil), 200, "root site")["id"].(string)
	base := "/v1.0/sites/" + siteID + "/lists"
	list := must(t, env.Do("POST", base, tok, map[string]any{
		"displayName": "Books " + title,
		"columns": []any{
			map[string]any{"name": "Author", "text": map[string]any{}},
			map[string]any{"name": "Pages", "number": map[string]any{}},
			map[string]any{"name": "Genre", "choice": map[string]any{"choices": []any{"Fiction", "Science"}}},
		},
		"list": map[string]any{"template": "genericList"},
	}), 201, "create list")
	listID := list["id"].(string)
	wantError(t, env.Do("POST", base, tok, map[string]any{"displayName": "books " + title}), 409, "nameAlreadyExists", "duplicate list title")
	if r := env.Do("GET", base+"/"+listID+"?$expand=columns", tok, nil); r.Status != 200 || len(r.JSON()["columns"].([]any)) != 4 {
		t.Errorf("GET list with columns = %s, want Title + 3", r)
	}
	if r := env.Do("GET", base+"/Books "+title, tok, nil); r.Status != 200 || r.JSON()["id"] != listID {
		t.Errorf("GET list by title = %s", r)
	}
	latest := must(t, env.Do("GET", base+"/"+listID+"/items/delta?token=latest", tok, nil), 200, "delta latest")["@odata.deltaLink"].(string)

	items := base + "/" + listID + "/items"
	item := must(t, env.Do("POST", items, tok, map[string]any{"fields": map[string]any{"Title": "Dune", "Author": "Herbert", "Pages": 412, "Genre": "Fiction"}}), 201, "create item")
	if item["id"] != "1" || item["fields"].(map[string]any)["Author"] != "Herbert" {
		t.Fatalf("created item = %v", item)
	}
	must(t, env.Do("POST", items, tok, map[string]any{"fields": map[string]any{"Title": "Cosmos"}}), 201, "create second item")
	for _, bad := range []map[string]any{{"Nope": "x"}, {"Pages": "many"}, {"Genre": "Poetry"}, {"Created": "2020-01-01T00:00:00Z"}, {"Title": strings.Repeat("t", 256)}} {
		wantError(t, env.Do("POST", items, tok, map[string]any{"fields": bad}), 400, "invalidRequest", "create item with bad fields")
	}
	if r := env.Do("GET", items+"/1", tok, nil); r.Status != 200 || r.JSON()["fields"] != nil {
		t.Errorf("GET item without expand = %s, want no fields", r)
	}
	if r := env.Do("GET", items+"/1?$expand=fields", tok, nil); r.Status != 200 || r.JSON()["fields"].(map[string]any)["Title"] != "Dune" {
		t.Errorf("GET item with fields = %s", r)
	}
	f := must(t, env.Do("PATCH", items+"/1/fields", tok, map[string]any{"Pages": 500, "Author": nil}), 200, "update fields")
	if f["Pages"] != 500.0 || f["Author"] != nil || f["Title"] != "Dune" {
		t.Errorf("updated fields = %v", f)
	}
	if r := env.Do("DELETE", items+"/2", tok, nil); r.Status != 204 {
		t.Fatalf("DELETE item = %s", r)
	}
	wantError(t, env.Do("GET", items+"/2", tok, nil), 404, "itemNotFound", "GET deleted item")
	wantError(t, env.Do("DELETE", items+"/2", tok, nil), 404, "itemNotFound", "DELETE deleted item")

	topic := change.SiteList(siteID, listID)
	var got []string
	for _, c := range env.Changes(testserver.Tenant, topic) {
		n, _ := change.NoticeOf(&c)
		if !n.RootResource || n.ODataType != "#Microsoft.Graph.ListItem" || n.SiteURL != "/" || n.WebID != strings.Split(siteID, ",")[2] {
			t.Errorf("notice = %+v", n)
		}
		if (c.Before == nil) != (c.ChangeType == store.Created) || (c.After == nil) != (c.ChangeType == store.Deleted) {
			t.Errorf("change %s before/after presence wrong", c.ChangeType)
		}
		got = append(got, c.ChangeType+" "+n.ID)
	}
	if diff := cmp.Diff([]string{"created 1", "created 2", "updated 1", "deleted 2"}, got); diff != "" {
		t.Errorf("list change records (-want +got):\n%s", diff)
	}
	page := must(t, env.Do("GET", latest, tok, nil), 200, "items delta")
	vals := page["value"].([]any)
	if len(vals) != 2 || vals[0].(map[string]any)["id"] != "1" || vals[1].(map[string]any)["deleted"] == nil {
		t.Errorf("items delta = %v, want item 1 then 2 deleted", vals)
	}
	initial := must(t, env.Do("GET", items+"/delta", tok, nil), 200, "initial items delta")
	if len(initial["value"].([]any)) != 1 || initial["@odata.deltaLink"] == nil {
		t.Errorf("initial items delta = %v, want item 1 and a deltaLink", initial)
	}
	if title == "application" {
		golden(t, "listitem", item)
		golden(t, "list", list)
	}
}

func TestListPermissions(t *testing.T) {
	t.Parallel()
	env := setup(t)
	base := "/v1.0/sites/root/lists"
	wantError(t, env.Do("POST", base, env.UserToken(testserver.BrunoUPN, "Sites.Read.All"), map[string]any{"displayName": "L"}), 403, "accessDenied", "create list with Sites.Read.All")
	wantError(t, env.Do("GET", base, env.UserToken(testserver.BrunoUPN, "Files.ReadWrite"), nil), 403, "accessDenied", "list lists with Files only")
	if r := env.Do("GET", base, env.UserToken(testserver.BrunoUPN, "Sites.Read.All"), nil); r.Status != 200 {
		t.Errorf("list lists with Sites.Read.All = %s", r)
	}
	wantError(t, env.Do("POST", base, env.AppToken(), map[string]any{"displayName": "L", "list": map[string]any{"template": "documentLibrary"}}), 400, "notSupported", "documentLibrary template")
	wantError(t, env.Do("POST", base, env.AppToken(), map[string]any{"displayName": "L", "columns": []any{map[string]any{"name": "A"}}}), 400, "invalidRequest", "column without a type")
	wantError(t, env.Do("GET", base+"/nope", env.AppToken(), nil), 404, "itemNotFound", "unknown list")
}

// golden compares doc, with ids and times replaced, to testdata/name.golden.json.
func golden(t *testing.T, name string, doc map[string]any) {
	t.Helper()
	data, _ := json.MarshalIndent(doc, "", "  ")
	s := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`).ReplaceAllString(string(data), "{guid}")
	s = regexp.MustCompile(`0x0100[0-9A-F]{32}`).ReplaceAllString(s, "{content-type}")
	s = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`).ReplaceAllString(s, "{time}")
	s = regexp.MustCompile(`http://127\.0\.0\.1:\d+`).ReplaceAllString(s, "{server}")
	goldenfile.Compare(t, name, []byte(s))
}
