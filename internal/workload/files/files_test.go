package files_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/goldenfile"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/files"
	"github.com/graphhook/graphhook/internal/workload/sites"
)

func setup(t *testing.T, cfg files.Config) *testserver.Env {
	t.Helper()
	return testserver.New(t, func(e *testserver.Env) {
		s := sites.New(e.Store, e.Identity)
		s.Routes(e.HTTP.Graph())
		s.AdminRoutes(e.HTTP.Admin())
		w, err := files.New(e.Store, e.Identity, s, cfg)
		if err != nil {
			t.Fatal(err)
		}
		w.Routes(e.HTTP.Graph())
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

// TestDriveTree is the drive test of issue 4: upload, rename, move and delete inside a
// nested folder tree; every change record touches the drive root's topic, and root
// delta returns exactly the items those records name (the deleted one with the
// deleted facet).
func TestDriveTree(t *testing.T) {
	t.Parallel()
	env := setup(t, files.Config{})
	app := env.AppToken()
	base := "/v1.0/users/" + testserver.Adele + "/drive"
	drv := must(t, env.Do("GET", base, app, nil), 200, "GET drive")
	driveID := change.UserDriveID(testserver.Adele)
	if drv["id"] != driveID || drv["driveType"] != "business" {
		t.Fatalf("GET drive = %v, want id %s, business", drv, driveID)
	}
	latest := must(t, env.Do("GET", base+"/root/delta?token=latest", app, nil), 200, "delta latest")
	link, _ := latest["@odata.deltaLink"].(string)
	if link == "" || len(latest["value"].([]any)) != 0 {
		t.Fatalf("delta?token=latest = %v, want an empty page with a deltaLink", latest)
	}

	a := must(t, env.Do("POST", base+"/root/children", app, map[string]any{"name": "A", "folder": map[string]any{}}), 201, "create A")
	b := must(t, env.Do("POST", base+"/items/"+a["id"].(string)+"/children", app, map[string]any{"name": "B", "folder": map[string]any{}}), 201, "create A/B")
	f := must(t, env.Do("PUT", base+"/items/"+b["id"].(string)+":/f.txt:/content", app, "hello"), 201, "upload A/B/f.txt")
	fid := f["id"].(string)
	if f["size"] != 5.0 || f["parentReference"].(map[string]any)["path"] != "/drives/"+driveID+"/root:/A/B" {
		t.Errorf("uploaded item = %v, want size 5 under /A/B", f)
	}
	etag1 := f["eTag"]
	g := must(t, env.Do("PATCH", base+"/items/"+fid, app, map[string]any{"name": "g.txt"}), 200, "rename")
	if g["name"] != "g.txt" || g["eTag"] == etag1 || g["cTag"] == f["cTag"] {
		t.Errorf("renamed item = %v, want name g.txt and new eTag and cTag", g)
	}
	must(t, env.Do("PATCH", base+"/items/"+fid, app, map[string]any{"parentReference": map[string]any{"id": a["id"]}}), 200, "move")
	if r := env.Do("GET", base+"/root:/A/g.txt", app, nil); r.Status != 200 || r.JSON()["id"] != fid {
		t.Errorf("GET root:/A/g.txt after move = %s, want the moved file", r)
	}
	if r := env.Do("DELETE", base+"/items/"+b["id"].(string), app, nil); r.Status != 204 {
		t.Fatalf("DELETE A/B = %s, want 204", r)
	}
	wantError(t, env.Do("GET", base+"/items/"+b["id"].(string), app, nil), 404, "itemNotFound", "GET deleted B")

	changes := env.Changes(testserver.Tenant, change.DriveRoot(driveID))
	var got []string
	for _, c := range changes {
		if !slices.Contains(c.Topics, change.DriveRoot(driveID)) || c.Kind != "driveItem" {
			t.Errorf("change %d topics %v kind %s, want drive root topic and driveItem", c.Seq, c.Topics, c.Kind)
		}
		n, _ := change.NoticeOf(&c)
		if !n.RootResource || n.ODataType != "#Microsoft.Graph.driveItem" || n.ID != c.ID {
			t.Errorf("change %d notice = %+v", c.Seq, n)
		}
		if (c.Before == nil) != (c.ChangeType == store.Created) || (c.After == nil) != (c.ChangeType == store.Deleted) {
			t.Errorf("change %d %s before/after presence wrong", c.Seq, c.ChangeType)
		}
		got = append(got, c.ChangeType+" "+name(c))
	}
	want := []string{"created A", "created B", "created f.txt", "updated g.txt", "updated g.txt", "deleted B"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("change records (-want +got):\n%s", diff)
	}

	page := must(t, env.Do("GET", link, app, nil), 200, "delta from latest")
	entries := map[string]map[string]any{}
	for _, v := range page["value"].([]any) {
		m := v.(map[string]any)
		entries[m["id"].(string)] = m
	}
	if len(entries) != 3 || entries[a["id"].(string)] == nil || entries[fid]["name"] != "g.txt" {
		t.Fatalf("delta = %v, want exactly A, g.txt and B", page["value"])
	}
	if del := entries[b["id"].(string)]; del == nil || del["deleted"] == nil || del["name"] != nil {
		t.Errorf("delta entry of B = %v, want the deleted facet", del)
	}
	if entries[fid]["parentReference"].(map[string]any)["id"] != a["id"] {
		t.Errorf("delta entry of g.txt = %v, want parent A", entries[fid])
	}
	next := page["@odata.deltaLink"].(string)
	if r := must(t, env.Do("GET", next, app, nil), 200, "delta again"); len(r["value"].([]any)) != 0 {
		t.Errorf("delta with nothing new = %v, want empty", r["value"])
	}

	// A first round lists the whole drive: root, A and g.txt, over pages of $top=2.
	var ids []string
	url := base + "/root/delta?$top=2"
	for pages := 0; url != ""; pages++ {
		if pages > 3 {
			t.Fatal("initial delta does not end")
		}
		p := must(t, env.Do("GET", url, app, nil), 200, "initial delta")
		for _, v := range p["value"].([]any) {
			ids = append(ids, v.(map[string]any)["id"].(string))
		}
		url, _ = p["@odata.nextLink"].(string)
		if url == "" && p["@odata.deltaLink"] == nil {
			t.Fatal("last initial delta page has no deltaLink")
		}
	}
	slices.Sort(ids)
	wantIDs := []string{change.DriveRootID(driveID), a["id"].(string), fid}
	slices.Sort(wantIDs)
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Errorf("initial delta ids (-want +got):\n%s", diff)
	}
	wantError(t, env.Do("GET", base+"/root/delta?token=bogus", app, nil), 400, "syncStateNotFound", "delta with a bad token")
}

func name(c store.Change) string {
	doc := c.After
	if doc == nil {
		doc = c.Before
	}
	var m struct{ Name string }
	json.Unmarshal(doc, &m)
	return m.Name
}

func TestPersonalDriveFolderTopics(t *testing.T) {
	t.Parallel()
	env := setup(t, files.Config{})
	tok := env.PersonalToken("Files.ReadWrite")
	d := must(t, env.Do("GET", "/v1.0/me/drive", tok, nil), 200, "GET /me/drive (personal)")
	driveID := change.PersonalDriveID(testserver.Sam)
	if d["id"] != driveID || d["driveType"] != "personal" {
		t.Fatalf("personal drive = %v, want %s personal", d, driveID)
	}
	folder := must(t, env.Do("POST", "/v1.0/me/drive/root/children", tok, map[string]any{"name": "Photos", "folder": map[string]any{}}), 201, "create folder")
	must(t, env.Do("PUT", "/v1.0/me/drive/root:/Photos/cat.jpg:/content", tok, []byte{1, 2, 3}), 201, "upload by path")
	changes := env.Changes(identity.ConsumersTenant, change.DriveFolder(driveID, folder["id"].(string)))
	if len(changes) != 1 || !slices.Contains(changes[0].Topics, change.DriveRoot(driveID)) || !slices.Contains(changes[0].Topics, change.DriveFolder(driveID, change.DriveRootID(driveID))) {
		t.Fatalf("changes on the folder topic = %+v, want the upload only, also on the root topics", changes)
	}
	wantError(t, env.Do("GET", "/v1.0/me/drive", env.PersonalToken("User.Read"), nil), 403, "accessDenied", "personal drive without Files permission")
	wantError(t, env.Do("POST", "/v1.0/me/drive/root/children", env.PersonalToken("Files.Read"), map[string]any{"name": "X", "folder": map[string]any{}}), 403, "accessDenied", "create with Files.Read")
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	env := setup(t, files.Config{})
	limited, secret := env.AddApp([]string{"User.Read.All"}, nil)
	folder := map[string]any{"name": "F", "folder": map[string]any{}}
	tests := []struct {
		name   string
		token  string
		method string
		path   string
		body   any
		status int
	}{
		{"app reads any user's drive", env.AppToken(), "GET", "/v1.0/users/" + testserver.BrunoUPN + "/drive/root", nil, 200},
		{"app without Files or Sites", env.ClientToken(limited, secret), "GET", "/v1.0/users/" + testserver.Bruno + "/drive", nil, 403},
		{"user reads own drive with Files.Read", env.UserToken(testserver.BrunoUPN, "Files.Read"), "GET", "/v1.0/me/drive/root/children", nil, 200},
		{"user writes with Files.Read", env.UserToken(testserver.BrunoUPN, "Files.Read"), "POST", "/v1.0/me/drive/root/children", folder, 403},
		{"user writes own drive with Files.ReadWrite", env.UserToken(testserver.BrunoUPN, "Files.ReadWrite"), "POST", "/v1.0/me/drive/root/children", folder, 201},
		{"user reads another user's drive", env.UserToken(testserver.BrunoUPN, "Files.ReadWrite.All"), "GET", "/v1.0/users/" + testserver.Adele + "/drive", nil, 403},
		{"user reads a site library with Sites.Read.All", env.UserToken(testserver.BrunoUPN, "Sites.Read.All"), "GET", "/v1.0/sites/root/drive", nil, 200},
		{"user reads a site library with Files.Read", env.UserToken(testserver.BrunoUPN, "Files.Read"), "GET", "/v1.0/sites/root/drive", nil, 403},
		{"unknown user", env.AppToken(), "GET", "/v1.0/users/nobody@contoso.onmicrosoft.com/drive", nil, 404},
		{"unknown drive", env.AppToken(), "GET", "/v1.0/drives/b!nope", nil, 404},
	}
	for _, tt := range tests {
		if r := env.Do(tt.method, tt.path, tt.token, tt.body); r.Status != tt.status {
			t.Errorf("%s: %s %s = %s, want %d", tt.name, tt.method, tt.path, r, tt.status)
		} else if tt.status == 403 && r.ErrorCode() != "accessDenied" {
			t.Errorf("%s: code %s, want accessDenied", tt.name, r.ErrorCode())
		}
	}
	// A drive addressed by id before anyone used it is found through its owner.
	if r := env.Do("GET", "/v1.0/drives/"+change.UserDriveID(testserver.Chen), env.AppToken(), nil); r.Status != 200 || r.JSON()["owner"].(map[string]any)["user"].(map[string]any)["id"] != testserver.Chen {
		t.Errorf("GET /drives/{unused id} = %s, want Chen's drive", r)
	}
}

func TestItemRules(t *testing.T) {
	t.Parallel()
	env := setup(t, files.Config{})
	app := env.AppToken()
	base := "/v1.0/drives/" + change.UserDriveID(testserver.Adele)
	must(t, env.Do("GET", "/v1.0/users/"+testserver.Adele+"/drive", app, nil), 200, "touch drive")
	mk := func(name, behavior string) *testserver.Response {
		body := map[string]any{"name": name, "folder": map[string]any{}}
		if behavior != "" {
			body["@microsoft.graph.conflictBehavior"] = behavior
		}
		return env.Do("POST", base+"/root/children", app, body)
	}
	must(t, mk("Docs", ""), 201, "create Docs")
	wantError(t, mk("docs", ""), 409, "nameAlreadyExists", "create docs again (names ignore case)")
	if r := mk("Docs", "rename"); r.Status != 201 || r.JSON()["name"] != "Docs 1" {
		t.Errorf("create Docs with rename = %s, want 201 'Docs 1'", r)
	}
	if r := mk("Docs", "replace"); r.Status != 200 {
		t.Errorf("create Docs with replace = %s, want 200 (the existing folder)", r)
	}
	wantError(t, mk("Docs", "merge"), 400, "invalidRequest", "unknown conflictBehavior")
	for _, bad := range []string{"a/b", "a:b", "x?", " lead", "trail.", "CON", strings.Repeat("n", 256)} {
		wantError(t, mk(bad, ""), 400, "invalidRequest", fmt.Sprintf("create %q", bad))
	}
	wantError(t, env.Do("POST", base+"/root/children", app, map[string]any{"name": "nofacet"}), 400, "invalidRequest", "create without folder facet")
	wantError(t, env.Do("GET", base+"/items/01NOSUCHITEM", app, nil), 404, "itemNotFound", "GET unknown item")
	wantError(t, env.Do("GET", base+"/root:/Docs/missing.txt", app, nil), 404, "itemNotFound", "GET unknown path")
	wantError(t, env.Do("DELETE", base+"/items/root", app, nil), 400, "invalidRequest", "DELETE root")

	// Simple upload limit: 4 MiB exactly passes, one byte more is 413.
	must(t, env.Do("PUT", base+"/root:/Docs/max.bin:/content", app, make([]byte, 4<<20)), 201, "upload 4 MiB")
	wantError(t, env.Do("PUT", base+"/root:/Docs/over.bin:/content", app, make([]byte, 4<<20+1)), 413, "RequestEntityTooLarge", "upload 4 MiB + 1")

	// Replace keeps the id and changes the tags; fail refuses; rename picks a new name.
	first := must(t, env.Do("PUT", base+"/root:/Docs/a.txt:/content", app, "one"), 201, "upload a.txt")
	second := must(t, env.Do("PUT", base+"/root:/Docs/a.txt:/content", app, "two!"), 200, "replace a.txt")
	if second["id"] != first["id"] || second["eTag"] == first["eTag"] || second["size"] != 4.0 {
		t.Errorf("replaced = %v, want same id, new eTag, size 4", second)
	}
	wantError(t, env.Do("PUT", base+"/root:/Docs/a.txt:/content?@microsoft.graph.conflictBehavior=fail", app, "x"), 409, "nameAlreadyExists", "upload with fail")
	if r := env.Do("PUT", base+"/root:/Docs/a.txt:/content?@microsoft.graph.conflictBehavior=rename", app, "x"); r.Status != 201 || r.JSON()["name"] != "a 1.txt" {
		t.Errorf("upload with rename = %s, want 'a 1.txt'", r)
	}
	if r := env.Do("GET", base+"/items/"+first["id"].(string)+"/content", app, nil); r.Status != 200 || string(r.Body) != "two!" || r.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("download = %d %q %s, want the new content as text/plain", r.Status, r.Body, r.Header.Get("Content-Type"))
	}
	if r := env.Do("GET", base+"/items/"+first["id"].(string)+"/content", app, nil, "Range", "bytes=1-2"); r.Status != 206 || string(r.Body) != "wo" {
		t.Errorf("ranged download = %d %q, want 206 \"wo\"", r.Status, r.Body)
	}
	wantError(t, env.Do("PUT", base+"/items/"+first["id"].(string)+"/content", app, "z", "If-Match", `"{stale},1"`), 412, "resourceModified", "upload with a stale If-Match")

	// Moving a folder into its own child is refused; renaming onto a sibling conflicts.
	docs := must(t, env.Do("GET", base+"/root:/Docs", app, nil), 200, "GET Docs")
	sub := must(t, env.Do("POST", base+"/items/"+docs["id"].(string)+"/children", app, map[string]any{"name": "Sub", "folder": map[string]any{}}), 201, "create Sub")
	wantError(t, env.Do("PATCH", base+"/items/"+docs["id"].(string), app, map[string]any{"parentReference": map[string]any{"id": sub["id"]}}), 400, "invalidRequest", "move into own child")
	wantError(t, env.Do("PATCH", base+"/items/"+sub["id"].(string), app, map[string]any{"name": "a.txt"}), 409, "nameAlreadyExists", "rename onto sibling")
	if r := env.Do("PATCH", base+"/items/"+sub["id"].(string), app, map[string]any{"parentReference": map[string]any{"path": "/drive/root:"}}); r.Status != 200 || r.JSON()["parentReference"].(map[string]any)["path"] != "/drives/"+change.UserDriveID(testserver.Adele)+"/root:" {
		t.Errorf("move by parentReference.path = %s", r)
	}

	// Copy answers 202 with a monitor that needs no token and names the copy.
	r := env.Do("POST", base+"/items/"+first["id"].(string)+"/copy", app, map[string]any{"name": "copy.txt"})
	if r.Status != 202 || r.Header.Get("Location") == "" {
		t.Fatalf("copy = %s, want 202 with Location", r)
	}
	mon := must(t, env.Do("GET", r.Header.Get("Location"), "", nil), 200, "GET monitor")
	if mon["status"] != "completed" {
		t.Fatalf("monitor = %v", mon)
	}
	if r := env.Do("GET", base+"/items/"+mon["resourceId"].(string)+"/content", app, nil); string(r.Body) != "two!" {
		t.Errorf("copied content = %q, want \"two!\"", r.Body)
	}
	wantError(t, env.Do("POST", base+"/items/"+first["id"].(string)+"/copy", app, map[string]any{"name": "copy.txt"}), 409, "nameAlreadyExists", "copy onto an existing name")
}

func TestUploadSession(t *testing.T) {
	t.Parallel()
	env := setup(t, files.Config{MaxFileSize: 1 << 20})
	app := env.AppToken()
	base := "/v1.0/users/" + testserver.Adele + "/drive"
	wantError(t, env.Do("POST", base+"/root:/big.bin:/createUploadSession", app, map[string]any{"item": map[string]any{"fileSize": 1<<20 + 1}}), 413, "RequestEntityTooLarge", "session over the size cap")
	s := must(t, env.Do("POST", base+"/root:/Uploads/big.bin:/createUploadSession", app, map[string]any{"item": map[string]any{"@microsoft.graph.conflictBehavior": "rename"}}), 200, "createUploadSession")
	u := s["uploadUrl"].(string)
	if got := s["nextExpectedRanges"].([]any); len(got) != 1 || got[0] != "0-" {
		t.Errorf("nextExpectedRanges = %v, want [0-]", got)
	}
	content := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640000 bytes
	total := len(content)
	put := func(start, end int, rng string) *testserver.Response {
		if rng == "" {
			rng = fmt.Sprintf("bytes %d-%d/%d", start, end, total)
		}
		return env.Do("PUT", u, "", content[start:end+1], "Content-Range", rng)
	}
	const chunk = 327680 // 320 KiB, the multiple Graph asks for
	if r := put(0, chunk-1, ""); r.Status != 202 || r.JSON()["nextExpectedRanges"].([]any)[0] != fmt.Sprint(chunk)+"-" {
		t.Fatalf("first chunk = %s, want 202 next %d-", r, chunk)
	}
	wantError(t, put(0, 99, ""), 416, "invalidRange", "overlapping chunk")
	wantError(t, put(chunk+10, chunk+20, ""), 416, "invalidRange", "chunk after a gap")
	wantError(t, put(chunk, chunk+9, fmt.Sprintf("bytes %d-%d/%d", chunk, chunk+9, total+1)), 400, "invalidRequest", "chunk with another total")
	wantError(t, put(chunk, chunk+9, fmt.Sprintf("bytes %d-%d/%d", chunk, chunk+19, total)), 400, "invalidRequest", "length not matching the range")
	wantError(t, put(chunk, chunk+9, fmt.Sprintf("bytes %d-%d/%d", chunk+9, chunk, total)), 416, "invalidRange", "reversed range")
	wantError(t, put(chunk, chunk+9, "bytes */10"), 400, "invalidRequest", "malformed Content-Range")
	if r := env.Do("GET", u, "", nil); r.Status != 200 || r.JSON()["nextExpectedRanges"].([]any)[0] != fmt.Sprint(chunk)+"-" {
		t.Errorf("GET session = %s", r)
	}
	done := put(chunk, total-1, "")
	item := must(t, done, 201, "last chunk")
	sum := sha256.Sum256(content)
	hashes := item["file"].(map[string]any)["hashes"].(map[string]any)
	if item["size"] != float64(total) || hashes["sha256Hash"] != strings.ToUpper(fmt.Sprintf("%x", sum)) || item["name"] != "big.bin" {
		t.Errorf("committed item = %v", item)
	}
	if r := env.Do("GET", base+"/root:/Uploads/big.bin:/content", app, nil); !bytes.Equal(r.Body, content) {
		t.Errorf("downloaded %d bytes, want the %d uploaded", len(r.Body), total)
	}
	wantError(t, env.Do("GET", u, "", nil), 404, "itemNotFound", "session after commit")

	// A second session with rename lands next to the first; one cancelled is gone.
	s2 := must(t, env.Do("POST", base+"/root:/Uploads/big.bin:/createUploadSession", app, map[string]any{"item": map[string]any{"@microsoft.graph.conflictBehavior": "rename"}}), 200, "second session")
	if r := env.Do("PUT", s2["uploadUrl"].(string), "", []byte("xy"), "Content-Range", "bytes 0-1/2"); r.Status != 201 || r.JSON()["name"] != "big 1.bin" {
		t.Errorf("one-chunk session = %s, want 201 'big 1.bin'", r)
	}
	wantError(t, env.Do("POST", base+"/root:/Uploads/big.bin:/createUploadSession", app, map[string]any{"item": map[string]any{"@microsoft.graph.conflictBehavior": "fail"}}), 409, "nameAlreadyExists", "session with fail on a taken name")
	s3 := must(t, env.Do("POST", base+"/root:/c.bin:/createUploadSession", app, nil), 200, "third session")
	if r := env.Do("DELETE", s3["uploadUrl"].(string), "", nil); r.Status != 204 {
		t.Errorf("cancel session = %s, want 204", r)
	}
	wantError(t, env.Do("PUT", s3["uploadUrl"].(string), "", []byte("x"), "Content-Range", "bytes 0-0/1"), 404, "itemNotFound", "chunk to a cancelled session")
	wantError(t, env.Do("PUT", s3["uploadUrl"].(string), "", make([]byte, 10), "Content-Range", fmt.Sprintf("bytes 0-9/%d", 1<<20+1)), 413, "RequestEntityTooLarge", "chunk declaring a total over the cap")
}

func TestSiteDrive(t *testing.T) {
	t.Parallel()
	env := setup(t, files.Config{})
	app := env.AppToken()
	site := must(t, env.Do("GET", "/v1.0/sites/root", app, nil), 200, "GET root site")
	d := must(t, env.Do("GET", "/v1.0/sites/root/drive", app, nil), 200, "GET site drive")
	siteID := site["id"].(string)
	if d["id"] != change.SiteDriveID(siteID) || d["driveType"] != "documentLibrary" {
		t.Fatalf("site drive = %v", d)
	}
	must(t, env.Do("PUT", "/v1.0/sites/"+siteID+"/drive/root:/report.docx:/content", app, "doc"), 201, "upload to site drive")
	changes := env.Changes(testserver.Tenant, change.DriveRoot(d["id"].(string)))
	if len(changes) != 1 {
		t.Fatalf("site drive changes = %d, want 1", len(changes))
	}
	n, _ := change.NoticeOf(&changes[0])
	if n.SiteURL != "/" || n.WebID != strings.Split(siteID, ",")[2] {
		t.Errorf("site drive notice = %+v, want siteUrl / and the web id", n)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	env := setup(t, files.Config{})
	app := env.AppToken()
	base := "/v1.0/users/" + testserver.Adele + "/drive"
	folder := must(t, env.Do("POST", base+"/root/children", app, map[string]any{"name": "Reports", "folder": map[string]any{}}), 201, "create")
	file := must(t, env.Do("PUT", base+"/root:/Reports/q1.txt:/content", app, "quarterly numbers"), 201, "upload")
	folder = must(t, env.Do("GET", base+"/items/"+folder["id"].(string), app, nil), 200, "get folder")
	drv := must(t, env.Do("GET", base, app, nil), 200, "get drive")
	golden(t, "file", file)
	golden(t, "folder", folder)
	golden(t, "drive", drv)
}

var volatile = regexp.MustCompile(`01[A-Z2-7]{32}`)

// golden compares doc, with item ids and times replaced, to testdata/name.golden.json.
func golden(t *testing.T, name string, doc map[string]any) {
	t.Helper()
	data, _ := json.MarshalIndent(doc, "", "  ")
	s := volatile.ReplaceAllString(string(data), "{item-id}")
	s = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`).ReplaceAllString(s, "{time}")
	s = regexp.MustCompile(`http://127\.0\.0\.1:\d+`).ReplaceAllString(s, "{server}")
	s = strings.ReplaceAll(s, change.DriveRootID(change.UserDriveID(testserver.Adele)), "{root-id}")
	goldenfile.Compare(t, name, []byte(s))
}

// TestReplaceRefusesTheSourcesFolder checks that a move or copy with conflictBehavior
// replace cannot replace the item itself or a folder that contains it: removing that
// folder would remove the item being moved or copied (it answered 500 before).
func TestReplaceRefusesTheSourcesFolder(t *testing.T) {
	t.Parallel()
	env := setup(t, files.Config{})
	app := env.AppToken()
	base := "/v1.0/drives/" + change.UserDriveID(testserver.Adele)
	must(t, env.Do("GET", "/v1.0/users/"+testserver.Adele+"/drive", app, nil), 200, "touch drive")
	must(t, env.Do("POST", base+"/root/children", app, map[string]any{"name": "A", "folder": map[string]any{}}), 201, "create A")
	x := must(t, env.Do("PUT", base+"/root:/A/B/x.txt:/content", app, "x"), 201, "upload A/B/x.txt")["id"].(string)
	for _, name := range []string{"A", "B"} {
		dest := map[string]any{"path": "/drive/root:"}
		if name == "B" {
			dest = map[string]any{"path": "/drive/root:/A"}
		}
		wantError(t, env.Do("PATCH", base+"/items/"+x+"?@microsoft.graph.conflictBehavior=replace", app, map[string]any{"name": name, "parentReference": dest}), 400, "invalidRequest", "move x.txt over its folder "+name)
		wantError(t, env.Do("POST", base+"/items/"+x+"/copy", app, map[string]any{"name": name, "parentReference": dest, "@microsoft.graph.conflictBehavior": "replace"}), 400, "invalidRequest", "copy x.txt over its folder "+name)
	}
	must(t, env.Do("GET", base+"/root:/A/B/x.txt", app, nil), 200, "x.txt after the refused replaces")
	// Replacing an unrelated item still works.
	must(t, env.Do("PUT", base+"/root:/y.txt:/content", app, "y"), 201, "upload y.txt")
	r := env.Do("POST", base+"/items/"+x+"/copy", app, map[string]any{"name": "y.txt", "parentReference": map[string]any{"path": "/drive/root:"}, "@microsoft.graph.conflictBehavior": "replace"})
	if r.Status != 202 {
		t.Errorf("copy x.txt over y.txt = %s, want 202", r)
	}
}
