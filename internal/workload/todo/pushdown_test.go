package todo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestTaskPagesMatchMemory: pages of tasks cut by the store (listQuery.taskQuery)
// are the pages write cuts in memory from every task of the list in creation order,
// for generated lists (tasks made in one instant, absent properties, mixed case) and
// a table of $filter, $top and $skip, on both backends.
func TestTaskPagesMatchMemory(t *testing.T) {
	t.Parallel()
	storetest.OnEachBackend(t, testTaskPagesMatchMemory)
}

func testTaskPagesMatchMemory(t *testing.T, s store.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	ow := owner{tenant: "t", user: "u1"}
	base := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 300 {
			created := base.Add(time.Duration(rng.IntN(120)) * time.Second)
			doc := map[string]any{
				"id": fmt.Sprintf("task%04d", rng.IntN(100000)*1000+i), "title": []string{"Buy milk", "buy MILK", "Call Bob", ""}[rng.IntN(4)],
				"importance": []string{"low", "normal", "high"}[rng.IntN(3)], "status": []string{"notStarted", "completed"}[rng.IntN(2)],
				"isReminderOn": rng.IntN(2) == 0, "createdDateTime": graph.FormatTime(created), "lastModifiedDateTime": graph.FormatTime(created),
			}
			if rng.IntN(3) == 0 {
				doc["dueDateTime"] = map[string]any{"dateTime": created.Add(time.Duration(rng.IntN(72)) * time.Hour).Format(localLayout), "timeZone": "UTC"}
			}
			data, _ := json.Marshal(doc)
			list := []string{"l1", "l2"}[rng.IntN(2)]
			o := store.Object{Tenant: "t", Kind: KindTask, ID: doc["id"].(string), Owner: ow.user, Parent: list, Data: data, Created: created, Updated: created, Sort: createdKey(created)}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	filters := []string{"", "status eq 'Completed'", "status ne 'completed' and isReminderOn", "startswith(title, 'buy')",
		"importance in ('high', 'LOW')", "dueDateTime/dateTime lt 2026-04-02T00:00:00Z", "dueDateTime/dateTime eq null",
		"createdDateTime ge 2026-04-01T08:01:00Z", "contains(title, 'milk')", "title eq 'call bob' and contains(title, 'B')"}
	for _, ftext := range filters {
		for _, page := range []struct{ top, skip int }{{10, 0}, {7, 23}, {1000, 0}, {5, 400}} {
			q := listQuery{top: page.top, skip: page.skip}
			if ftext != "" {
				if q.filter, err = odata.ParseFilter(ftext); err != nil {
					t.Fatal(err)
				}
			}
			name := fmt.Sprintf("$filter=%s %+v", ftext, page)
			err := s.View(ctx, func(tx store.Tx) error {
				// Memory: every task of the list by id, in creation order, filtered and cut.
				objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: KindTask, Owner: ow.user, Parent: "l1"})
				if err != nil {
					return err
				}
				slices.SortStableFunc(objs, func(a, b store.Object) int { return a.Created.Compare(b.Created) })
				all, err := decodeAll(objs)
				if err != nil {
					return err
				}
				var want []map[string]any
				for _, d := range all {
					if q.filter == nil || q.filter.Match(d) {
						want = append(want, d)
					}
				}
				want = want[min(q.skip, len(want)):]
				wantMore := len(want) > q.top
				want = want[:min(q.top, len(want))]

				sq, paged := q.taskQuery(ow, "l1")
				if objs, err = tx.ListObjects(ctx, sq); err != nil {
					return err
				}
				got, err := decodeAll(objs)
				if err != nil {
					return err
				}
				if !paged {
					var kept []map[string]any
					for _, d := range got {
						if q.filter.Match(d) {
							kept = append(kept, d)
						}
					}
					got = kept[min(q.skip, len(kept)):]
				}
				gotMore := len(got) > q.top
				got = got[:min(q.top, len(got))]
				if diff := cmp.Diff(want, got); diff != "" || gotMore != wantMore {
					t.Errorf("%s (paged %v): more %v, want %v; (-memory +store):\n%s", name, paged, gotMore, wantMore, diff)
				}
				if wantPaged := ftext != "contains(title, 'milk')" && ftext != "title eq 'call bob' and contains(title, 'B')"; paged != wantPaged {
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
