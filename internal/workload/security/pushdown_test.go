package security

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/storetest"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestAlertPagesMatchMemory: pages of alerts cut by the store (alertQuery) are the
// pages list cuts in memory (newestFirstPage over every matching alert), for
// generated alerts with ties and client-written times in several forms, on both
// backends.
func TestAlertPagesMatchMemory(t *testing.T) {
	t.Parallel()
	storetest.OnEachBackend(t, testAlertPagesMatchMemory)
}

func testAlertPagesMatchMemory(t *testing.T, s store.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 10))
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 250 {
			at := base.Add(time.Duration(rng.IntN(60)) * time.Minute)
			created := []string{at.Format(time.RFC3339), at.Format("2006-01-02T15:04:05.0000000Z"), at.Format("2006-01-02T15:04:05+00:00")}[rng.IntN(3)]
			doc := map[string]any{"id": fmt.Sprintf("a%04d", rng.IntN(9000)*10+i%10), "createdDateTime": created,
				"status": []any{"newAlert", "inProgress", "resolved", nil}[rng.IntN(4)], "severity": []string{"low", "medium", "high"}[rng.IntN(3)],
				"title": []string{"Malware", "malware", "Phish"}[rng.IntN(3)], "vendorInformation": map[string]any{"provider": []string{"Defender", "MCAS"}[rng.IntN(2)]},
				"lastModifiedDateTime": at.Format("2006-01-02T15:04:05.0000000Z")}
			data, _ := json.Marshal(doc)
			if err := tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: Kind, ID: doc["id"].(string), Data: data}); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ftext := range []string{"", "severity eq 'HIGH'", "status eq null or title eq 'phish'", "vendorInformation/provider ne 'mcas'",
		"lastModifiedDateTime ge 2026-05-01T00:30:00Z", "createdDateTime ge 2026-05-01T00:30:00Z", "contains(title, 'ware')"} {
		var filter *odata.Filter
		if ftext != "" {
			if filter, err = odata.ParseFilter(ftext); err != nil {
				t.Fatal(err)
			}
		}
		for _, page := range []struct{ offset, top int }{{0, 10}, {17, 25}, {0, 1000}, {400, 5}} {
			name := fmt.Sprintf("$filter=%s %+v", ftext, page)
			err := s.View(ctx, func(tx store.Tx) error {
				match := func(objs []store.Object) ([]map[string]any, error) {
					var docs []map[string]any
					for _, o := range objs {
						doc, err := rest.Decode(o.Data)
						if err != nil {
							return nil, err
						}
						if filter == nil || filter.Match(doc) {
							docs = append(docs, doc)
						}
					}
					return docs, nil
				}
				objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: Kind})
				if err != nil {
					return err
				}
				want, err := match(objs)
				if err != nil {
					return err
				}
				want = newestFirstPage(want, page.offset)
				q, paged := alertQuery("t", filter, page.offset, page.top)
				if objs, err = tx.ListObjects(ctx, q); err != nil {
					return err
				}
				got, err := match(objs)
				if err != nil {
					return err
				}
				if !paged {
					got = newestFirstPage(got, page.offset)
				}
				want, got = want[:min(page.top+1, len(want))], got[:min(page.top+1, len(got))]
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s (paged %v) (-memory +store):\n%s", name, paged, diff)
				}
				if wantPaged := ftext != "contains(title, 'ware')" && ftext != "createdDateTime ge 2026-05-01T00:30:00Z"; paged != wantPaged {
					t.Errorf("%s: paged by the store %v, want %v", name, paged, wantPaged)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
}
