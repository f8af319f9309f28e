package sites

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestRootMatchesMemory: the root site firstRoot picks among the sites rootQuery
// lists is the one it picks among every site of the tenant, with site collections
// around it, a second root (the tenant's domain changed) and another tenant's root,
// on both backends.
func TestRootMatchesMemory(t *testing.T) {
	t.Parallel()
	storetest.OnEachBackend(t, testRootMatchesMemory)
}

func testRootMatchesMemory(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	check := func(stage string, wantRoot bool) {
		t.Helper()
		err := s.View(ctx, func(tx store.Tx) error {
			for _, tenant := range []string{"t1", "t2"} {
				all, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: tenant, Kind: KindSite})
				var want, got store.Object
				wantErr := firstRoot(all, err, &want)
				roots, err := tx.ListObjects(ctx, rootQuery(tenant))
				gotErr := firstRoot(roots, err, &got)
				if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) || want.ID != got.ID {
					t.Errorf("%s, tenant %s: memory %q (%v), store %q (%v)", stage, tenant, want.ID, wantErr, got.ID, gotErr)
				}
				if tenant == "t1" && (wantErr == nil) != wantRoot {
					t.Errorf("%s: root found %v, want %v", stage, wantErr == nil, wantRoot)
				}
				if len(roots) > 2 {
					t.Errorf("%s, tenant %s: %d sites listed as roots", stage, tenant, len(roots))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	add := func(tenant string, sites ...Site) {
		t.Helper()
		err := s.Update(ctx, func(tx store.Tx) error {
			for _, site := range sites {
				if err := insertSite(ctx, tx, tenant, site, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var collections []Site
	for i := range 30 {
		collections = append(collections, newSite("contoso.sharepoint.com", fmt.Sprintf("/sites/s%02d", i), fmt.Sprintf("c%02d", i), fmt.Sprintf("w%02d", i), "Site", "", now))
	}
	add("t1", collections...)
	check("no root", false)
	add("t2", newSite("other.sharepoint.com", "/", "a0", "a1", "Root", "", now))
	add("t1", newSite("contoso.sharepoint.com", "/", "m0", "m1", "Root", "", now))
	check("one root", true)
	add("t1", newSite("fabrikam.sharepoint.com", "/", "b0", "b1", "Root", "", now))
	check("two roots", true)
}
