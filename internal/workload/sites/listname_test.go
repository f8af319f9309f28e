package sites

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestListByNameMatchesMemory: the list listByName finds by display name is the one
// a comparison with every list of the site finds (strings.EqualFold, the first by
// id), for names that differ in case, names that other sites and soft-deleted lists
// share, and names whose case folding and lower-casing disagree; and the lookup
// reads the alt key's index, not the site's lists, on both backends.
func TestListByNameMatchesMemory(t *testing.T) {
	t.Parallel()
	storetest.OnEachBackend(t, testListByNameMatchesMemory)
}

func testListByNameMatchesMemory(t *testing.T, s store.Store) {
	ctx := context.Background()
	names := []string{"Tasks", "Issue Tracker", "issue tracker", "Σοφία", "Kelvin", "Straße", "Baſe", "İstanbul"}
	sites := []Site{{ID: "s1", Tenant: "t"}, {ID: "s2", Tenant: "t"}, {ID: "s1", Tenant: "other"}}
	err := s.Update(ctx, func(tx store.Tx) error {
		n := 0
		for _, site := range sites {
			for i := range 300 {
				name := fmt.Sprintf("List %d", i)
				if i < len(names) && (site.ID == "s1" || i%2 == 0) {
					name = names[i]
				}
				n++
				data, _ := json.Marshal(storedList{List: map[string]any{"displayName": name}, NextID: 1})
				o := store.Object{Tenant: site.Tenant, Kind: KindList, ID: fmt.Sprintf("%08d-list", n), Owner: site.ID,
					Alt: strings.ToLower(name), Data: data, Deleted: i == 1 && site.ID == "s2"}
				if err := tx.InsertObject(ctx, &o); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	refs := []string{"tasks", "TASKS", "Issue tracker", "ISSUE TRACKER", "σοφία", "ΣΟΦΊΑ", "σοφίας", "ςοφία", "kelvin", "\u212aelvin",
		"STRASSE", "straße", "base", "BASE", "baſe", "istanbul", "İstanbul", "list 299", "List 300", ""}
	for _, site := range sites {
		for _, ref := range refs {
			err := s.View(ctx, func(tx store.Tx) error {
				all, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: site.Tenant, Kind: KindList, Owner: site.ID})
				if err != nil {
					return err
				}
				want := ""
				for _, o := range all {
					if strings.EqualFold(o.Alt, ref) {
						want = o.ID
						break
					}
				}
				o, err := listByName(ctx, tx, site, ref)
				if errors.Is(err, store.ErrNotFound) {
					err = nil
				}
				if err != nil {
					return err
				}
				if o.ID != want {
					t.Errorf("listByName(%s/%s, %q) = %q, want %q", site.Tenant, site.ID, ref, o.ID, want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	ex, ok := s.(interface {
		ExplainObjects(context.Context, store.ObjectQuery) (string, error)
		Analyze(context.Context, store.Tx) error
	})
	if !ok {
		return
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return ex.Analyze(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	plan, err := ex.ExplainObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: KindList, Owner: "s1", Alt: "issue tracker"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "objects_alt") {
		t.Errorf("the lookup of a list by name does not read objects_alt:\n%s", plan)
	}
	odd := store.ObjectQuery{Tenant: "t", Kind: KindList, Owner: "s1", Where: &store.Cond{Op: store.CondUnplain, Prop: store.Prop{Path: "list/displayName"}}}
	if plan, err = ex.ExplainObjects(ctx, odd); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "objects_list_name_unplain") {
		t.Errorf("the lookup of lists whose name is not plain does not read objects_list_name_unplain:\n%s", plan)
	}
}
