package files_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/testserver"
)

// TestChildrenOrderMatchesMemory pages a folder's children in every $orderby the
// endpoint takes, four at a time, and compares the ids with the children ordered in
// memory (odata.SortDocs, ties by id in the first key's direction), on both
// backends: first with plain names (by name, the store orders the page), then with a
// name the store cannot order (the folder is ordered in memory).
func TestChildrenOrderMatchesMemory(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			testChildrenOrder(t, setupOn(t, backend))
		})
	}
}

func testChildrenOrder(t *testing.T, env *testserver.Env) {
	app := env.AppToken()
	base := "/v1.0/users/" + testserver.Adele + "/drive"
	must(t, env.Do("GET", base, app, nil), 200, "GET drive")
	folder := must(t, env.Do("POST", base+"/root/children", app, map[string]any{"name": "Sorted", "folder": map[string]any{}}), 201, "create Sorted")["id"].(string)
	names := []string{"b.txt", "A.txt", "c.TXT", "_under", "Zed", "alpha 2", "Alpha 10", "~tilde", "0 zero", "Kelvin", "kilo", "MIDDLE.md", "middle two"}
	for i, n := range names {
		must(t, env.Do("PUT", base+"/items/"+folder+":/"+n+":/content", app, strings.Repeat("x", (i*7)%11)), 201, "upload "+n)
	}
	for _, n := range []string{"Folder B", "folder a"} {
		sub := must(t, env.Do("POST", base+"/items/"+folder+"/children", app, map[string]any{"name": n, "folder": map[string]any{}}), 201, "create "+n)["id"].(string)
		must(t, env.Do("PUT", base+"/items/"+sub+":/inner.bin:/content", app, strings.Repeat("y", len(n))), 201, "upload into "+n)
	}
	orders := []string{"name", "name desc", "size", "size desc", "lastModifiedDateTime desc", "lastModifiedDateTime", "LastModifiedDateTime asc", "createdDateTime", "createdDateTime desc", "name asc,size desc", "Name"}
	check := func(stage string) {
		all := childDocs(t, env, base+"/items/"+folder+"/children?$top=1000", app)
		for _, order := range orders {
			keys, err := odata.ParseOrderBy(order)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(all)
			odata.SortDocs(want, append(keys, odata.OrderKey{Property: "id", Desc: keys[0].Desc}))
			got := childDocs(t, env, base+"/items/"+folder+"/children?$top=4&$orderby="+strings.ReplaceAll(order, " ", "%20"), app)
			if diff := cmp.Diff(ids(want), ids(got)); diff != "" {
				t.Errorf("%s: $orderby=%s (-memory +pages):\n%s", stage, order, diff)
			}
		}
	}
	check("plain names")
	// An edit moves an item to the end of lastModifiedDateTime order, a rename
	// (PATCH) and new content (PUT) alike.
	kids := childDocs(t, env, base+"/items/"+folder+"/children?$top=1000", app)
	must(t, env.Do("PATCH", base+"/items/"+kids[0]["id"].(string), app, map[string]any{"name": "renamed first"}), 200, "rename")
	must(t, env.Do("PUT", base+"/items/"+kids[1]["id"].(string)+"/content", app, "new content"), 200, "replace the second file's content")
	check("after edits")
	must(t, env.Do("PUT", base+"/items/"+folder+":/Écran.txt:/content", app, "e"), 201, "upload Écran.txt")
	check("with a name that is not plain")

	for _, bad := range []string{"webUrl", "name sideways", "size,"} {
		wantError(t, env.Do("GET", base+"/items/"+folder+"/children?$orderby="+strings.ReplaceAll(bad, " ", "%20"), app, nil), 400, "invalidRequest", "$orderby="+bad)
	}
	// A token of a page in id order does not continue a page in name order.
	first := must(t, env.Do("GET", base+"/items/"+folder+"/children?$top=2", app, nil), 200, "page in id order")
	next := first["@odata.nextLink"].(string)
	wantError(t, env.Do("GET", strings.TrimPrefix(next, env.URL)+"&$orderby=name", app, nil), 400, "invalidRequest", "id-order token with $orderby")
}

// childDocs follows a listing's nextLinks and returns every child.
func childDocs(t *testing.T, env *testserver.Env, path, token string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for pages := 0; path != ""; pages++ {
		if pages > 100 {
			t.Fatalf("more than 100 pages from %s", path)
		}
		r := env.Do("GET", path, token, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s = %s", path, r)
		}
		var page struct {
			Value []map[string]any `json:"value"`
			Next  string           `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Value...)
		path = strings.TrimPrefix(page.Next, env.URL)
	}
	return out
}

func ids(docs []map[string]any) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = fmt.Sprint(d["id"])
	}
	return out
}
