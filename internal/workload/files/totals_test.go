package files_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/files"
	"github.com/graphhook/graphhook/internal/workload/sites"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// setupOn is setup on a backend: "sqlite" (the embedded store) or "postgres".
func setupOn(t *testing.T, backend string) *testserver.Env {
	t.Helper()
	db := ""
	if backend == "postgres" {
		db = pgtest.URL(t)
	}
	return testserver.NewOnDatabase(t, db, func(e *testserver.Env) {
		s := sites.New(e.Store, e.Identity)
		s.Routes(e.HTTP.Graph())
		w, err := files.New(e.Store, e.Identity, s, files.Config{})
		if err != nil {
			t.Fatal(err)
		}
		w.Routes(e.HTTP.Graph())
	})
}

// folderFacts are a folder's size and childCount.
type folderFacts struct {
	Size       int64
	ChildCount int64
}

// driveItem is what a walk needs of a stored item.
type driveItem struct {
	parent string
	folder bool
	size   int64
}

// storedItems reads every item of the drive from the store, by id.
func storedItems(t *testing.T, env *testserver.Env, driveID string) map[string]driveItem {
	t.Helper()
	ctx := context.Background()
	var objs []store.Object
	err := env.Store.View(ctx, func(tx store.Tx) error {
		var err error
		objs, err = tx.ListObjects(ctx, store.ObjectQuery{Tenant: testserver.Tenant, Kind: files.KindDriveItem, Owner: driveID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	items := map[string]driveItem{}
	for _, o := range objs {
		var doc struct {
			Folder bool  `json:"folder"`
			Size   int64 `json:"size"`
		}
		if err := json.Unmarshal(o.Data, &doc); err != nil {
			t.Fatal(err)
		}
		items[o.ID] = driveItem{parent: o.Parent, folder: doc.Folder, size: doc.Size}
	}
	return items
}

// walk sums, for each folder, the sizes of the files below it at any depth and its
// direct children: what its maintained totals must say.
func walk(items map[string]driveItem) map[string]folderFacts {
	out := map[string]folderFacts{}
	for id, it := range items {
		if _, ok := out[id]; it.folder && !ok {
			out[id] = folderFacts{}
		}
		for p, first := it.parent, true; p != ""; p, first = items[p].parent, false {
			f := out[p]
			f.Size += it.size
			if first {
				f.ChildCount++
			}
			out[p] = f
		}
	}
	return out
}

// TestTotalsMatchWalk runs a random sequence of creates, uploads (simple and by
// session), overwrites, renames over existing items, moves, copies and deletes, and
// checks after every few steps, on both backends, that every folder's size and
// childCount, the pages of children and the drive's quota.used agree with a fresh
// walk of the stored items; that deleted folders leave no totals behind; and that
// keeping totals changes no folder's eTag.
func TestTotalsMatchWalk(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			testTotalsMatchWalk(t, setupOn(t, backend))
		})
	}
}

func testTotalsMatchWalk(t *testing.T, env *testserver.Env) {
	app := env.AppToken()
	base := "/v1.0/users/" + testserver.Adele + "/drive"
	driveID := change.UserDriveID(testserver.Adele)
	rootID := change.DriveRootID(driveID)
	must(t, env.Do("GET", base, app, nil), 200, "GET drive")
	rootTag := must(t, env.Do("GET", base+"/root", app, nil), 200, "GET root")["eTag"]
	rng := rand.New(rand.NewPCG(15, 15))
	names := []string{"a", "b", "c", "d.txt", "e.txt"}
	pick := func(m map[string]driveItem, folders bool) string {
		var ids []string
		for id, it := range m {
			if it.folder == folders && id != rootID {
				ids = append(ids, id)
			}
		}
		if folders {
			ids = append(ids, rootID)
		}
		if len(ids) == 0 {
			return ""
		}
		slices.Sort(ids)
		return ids[rng.IntN(len(ids))]
	}
	behaviors := []string{"fail", "rename", "replace"}
	gone := map[string]bool{}
	items := storedItems(t, env, driveID)
	const steps = 160
	for step := range steps {
		folder := pick(items, true)
		file := pick(items, false)
		item := folder
		if file != "" && rng.IntN(2) == 0 {
			item = file
		}
		name := names[rng.IntN(len(names))]
		behavior := behaviors[rng.IntN(len(behaviors))]
		content := make([]byte, rng.IntN(2000))
		var r *testserver.Response
		op := rng.IntN(9)
		switch op {
		case 0: // create a folder
			r = env.Do("POST", base+"/items/"+folder+"/children", app, map[string]any{"name": name, "folder": map[string]any{}, "@microsoft.graph.conflictBehavior": behavior})
		case 1: // upload by path, creating missing folders, replacing a file of that name
			r = env.Do("PUT", base+"/items/"+folder+":/"+names[rng.IntN(3)]+"/"+name+":/content", app, content)
		case 2: // overwrite a file
			if file == "" {
				continue
			}
			r = env.Do("PUT", base+"/items/"+file+"/content", app, content)
		case 3: // move
			if item == rootID {
				continue
			}
			r = env.Do("PATCH", base+"/items/"+item+"?@microsoft.graph.conflictBehavior="+behavior, app, map[string]any{"parentReference": map[string]any{"id": folder}})
		case 4: // rename, maybe over a sibling
			if item == rootID {
				continue
			}
			r = env.Do("PATCH", base+"/items/"+item+"?@microsoft.graph.conflictBehavior="+behavior, app, map[string]any{"name": name})
		case 5: // copy
			if item == rootID {
				continue
			}
			r = env.Do("POST", base+"/items/"+item+"/copy", app, map[string]any{"parentReference": map[string]any{"id": folder}, "@microsoft.graph.conflictBehavior": behavior})
		case 6: // delete
			if item == rootID || rng.IntN(4) != 0 {
				continue
			}
			r = env.Do("DELETE", base+"/items/"+item, app, nil)
		case 7: // upload by session
			s := env.Do("POST", base+"/items/"+folder+":/"+name+":/createUploadSession", app, map[string]any{"item": map[string]any{"@microsoft.graph.conflictBehavior": behavior}})
			if s.Status != 200 {
				r = s
				break
			}
			if len(content) == 0 {
				content = []byte("x")
			}
			r = env.Do("PUT", s.JSON()["uploadUrl"].(string), "", content, "Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(content)-1, len(content)))
		case 8: // upload a new file by path with rename
			r = env.Do("PUT", base+"/items/"+folder+":/"+name+":/content?@microsoft.graph.conflictBehavior=rename", app, content)
		}
		if r.Status >= 500 {
			t.Fatalf("step %d (op %d): %s", step, op, r)
		}
		before := items
		items = storedItems(t, env, driveID)
		for id, it := range before {
			if _, ok := items[id]; !ok && it.folder {
				gone[id] = true
			}
		}
		if step%20 == 19 || step == steps-1 {
			checkTotals(t, env, base, items, gone, fmt.Sprintf("step %d", step))
		}
	}
	if len(items) < 20 || len(gone) == 0 {
		t.Errorf("the sequence left %d items and deleted %d folders; want a tree worth checking", len(items), len(gone))
	}
	if got := must(t, env.Do("GET", base+"/root", app, nil), 200, "GET root")["eTag"]; got != rootTag {
		t.Errorf("root eTag = %v after the sequence, want %v unchanged", got, rootTag)
	}
}

// checkTotals compares what the API says of every folder, of pages of the root's
// children and of the drive with a walk of items.
func checkTotals(t *testing.T, env *testserver.Env, base string, items map[string]driveItem, gone map[string]bool, stage string) {
	t.Helper()
	app := env.AppToken()
	want := walk(items)
	got := map[string]folderFacts{}
	for id, it := range items {
		if !it.folder {
			continue
		}
		doc := must(t, env.Do("GET", base+"/items/"+id, app, nil), 200, "GET folder")
		got[id] = folderFacts{Size: int64(doc["size"].(float64)), ChildCount: int64(doc["folder"].(map[string]any)["childCount"].(float64))}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s: folders (-walk +API):\n%s", stage, diff)
	}
	for url := base + "/root/children?$top=3"; url != ""; {
		page := must(t, env.Do("GET", url, app, nil), 200, "list children")
		for _, v := range page["value"].([]any) {
			doc := v.(map[string]any)
			if f, ok := doc["folder"].(map[string]any); ok {
				w := want[doc["id"].(string)]
				if int64(doc["size"].(float64)) != w.Size || int64(f["childCount"].(float64)) != w.ChildCount {
					t.Errorf("%s: listed folder %s = size %v childCount %v, want %+v", stage, doc["name"], doc["size"], f["childCount"], w)
				}
			}
		}
		url, _ = page["@odata.nextLink"].(string)
	}
	var used int64
	for _, it := range items {
		used += it.size
	}
	quota := must(t, env.Do("GET", base, app, nil), 200, "GET drive")["quota"].(map[string]any)
	if int64(quota["used"].(float64)) != used || int64(quota["remaining"].(float64)) != 1<<40-used {
		t.Errorf("%s: quota = %v, want used %d", stage, quota, used)
	}
	var ids []string
	for id := range gone {
		ids = append(ids, id)
	}
	ctx := context.Background()
	err := env.Store.View(ctx, func(tx store.Tx) error {
		left, err := tx.GetTotals(ctx, testserver.Tenant, files.KindDriveItem, ids)
		if len(left) != 0 {
			t.Errorf("%s: deleted folders keep totals: %v", stage, left)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTotalsConcurrentWrites: concurrent uploads and folder creations in one drive
// (each adding to the root's totals) all succeed, on both backends, and leave totals
// that match a walk: no add is lost to a concurrent one.
func TestTotalsConcurrentWrites(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := setupOn(t, backend)
			app := env.AppToken()
			base := "/v1.0/users/" + testserver.Adele + "/drive"
			driveID := change.UserDriveID(testserver.Adele)
			must(t, env.Do("GET", base, app, nil), 200, "GET drive")
			const n = 24
			var wg sync.WaitGroup
			status := make([]int, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var r *testserver.Response
					if i%3 == 0 {
						r = env.Do("POST", base+"/root/children", app, map[string]any{"name": fmt.Sprintf("folder %d", i), "folder": map[string]any{}})
					} else {
						r = env.Do("PUT", fmt.Sprintf("%s/root:/dir %d/file %d.txt:/content", base, i%4, i), app, strings.Repeat("x", i))
					}
					status[i] = r.Status
				}()
			}
			wg.Wait()
			for i, s := range status {
				if s != 201 {
					t.Errorf("write %d = %d, want 201", i, s)
				}
			}
			checkTotals(t, env, base, storedItems(t, env, driveID), nil, "after concurrent writes")
		})
	}
}
