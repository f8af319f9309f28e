package conversations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/storetest"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestPagesMatchMemory: a page of a group's conversations, of its threads or of a
// thread's posts cut by the store (listPage) is the page sorted and cut in memory
// from the whole collection (odata.SortDocs, as the listings did), for generated
// objects with ids differing in case, delivery times that tie and conversations
// without a post, on both backends.
func TestPagesMatchMemory(t *testing.T) {
	t.Parallel()
	storetest.OnEachBackend(t, testPagesMatchMemory)
}

func testPagesMatchMemory(t *testing.T, s store.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(15, 3))
	const alphabet = "ABCabc-_09Zz"
	id := func(prefix string) string {
		b := []byte(prefix)
		for range 6 {
			b = append(b, alphabet[rng.IntN(len(alphabet))])
		}
		return string(b)
	}
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	at := func() any {
		if rng.IntN(5) == 0 {
			return nil
		}
		return graph.FormatTime(base.Add(time.Duration(rng.IntN(20)) * 100 * time.Nanosecond * 1000))
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		put := func(kind, owner, parent string, doc map[string]any) error {
			data, _ := json.Marshal(doc)
			err := tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: kind, ID: doc["id"].(string), Owner: owner, Parent: parent, Data: data})
			if err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
			return nil
		}
		for range 160 {
			owner := []string{"g1", "g2"}[rng.IntN(2)]
			if err := put(kindConversation, owner, "", map[string]any{"id": id("AAQkAG"), "lastDeliveredDateTime": at()}); err != nil {
				return err
			}
			if err := put(kindThread, owner, []string{"c1", "c2"}[rng.IntN(2)], map[string]any{"id": id("AAQkAG"), "lastDeliveredDateTime": at()}); err != nil {
				return err
			}
			received := at()
			if received == nil {
				received = graph.FormatTime(base)
			}
			if err := put(kindPost, owner, "th1", map[string]any{"id": id("AAMkAG"), "receivedDateTime": received}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		kind, parent string
		order        []store.OrderKey
		memory       []odata.OrderKey
	}{
		{kindConversation, "", newestFirst, []odata.OrderKey{{Property: "lastDeliveredDateTime", Desc: true}, {Property: "id"}}},
		{kindThread, "", newestFirst, []odata.OrderKey{{Property: "lastDeliveredDateTime", Desc: true}, {Property: "id"}}},
		{kindThread, "c2", newestFirst, []odata.OrderKey{{Property: "lastDeliveredDateTime", Desc: true}, {Property: "id"}}},
		{kindPost, "th1", deliveryOrder, []odata.OrderKey{{Property: "receivedDateTime"}}},
	}
	for _, tc := range cases {
		for _, page := range []struct{ skip, top int }{{0, 10}, {7, 15}, {0, 999}, {60, 5}, {500, 3}} {
			name := fmt.Sprintf("%s under %q %+v", tc.kind, tc.parent, page)
			err := s.View(ctx, func(tx store.Tx) error {
				q := store.ObjectQuery{Tenant: "t", Kind: tc.kind, Owner: "g1", Parent: tc.parent}
				objs, err := tx.ListObjects(ctx, q)
				if err != nil {
					return err
				}
				var want []map[string]any
				for _, o := range objs {
					d, err := rest.Decode(o.Data)
					if err != nil {
						return err
					}
					want = append(want, d)
				}
				if len(want) < 25 {
					t.Errorf("%s: only %d objects generated", name, len(want))
				}
				odata.SortDocs(want, tc.memory)
				want = want[min(page.skip, len(want)):]
				want = want[:min(page.top+1, len(want))]
				got, err := listPage(ctx, tx, q, tc.order, page.skip, page.top)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s (-memory +store):\n%s", name, diff)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
}

// TestPagePlan: a page of a group's conversations, of its threads or of a
// conversation's, and of a thread's posts, in the default order, at the start
// ($top) and past a $skip, is read from migration 012's index in that order: the
// plan names the index and has no sort step (a sort would read every object of the
// group or thread first). PostgreSQL's plans are read with fresh statistics; each
// kind has a table of its own there, where a collection of a hundred, or a $skip
// deep into one of 500, may rightly be read whole and sorted: the conversation and
// the thread hold 500 each, and the $skip is a small share of them.
func TestPagePlan(t *testing.T) {
	t.Parallel()
	storetest.OnEachBackend(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		ex, ok := s.(interface {
			ExplainObjects(context.Context, store.ObjectQuery) (string, error)
			Analyze(context.Context, store.Tx) error
		})
		if !ok {
			t.Skip("no plans")
		}
		base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		for start := 0; start < 4000; start += 1000 {
			err := s.Update(ctx, func(tx store.Tx) error {
				for i := start; i < start+1000; i++ {
					group := fmt.Sprintf("g%d", i%4)
					at := graph.FormatTime(base.Add(time.Duration(i) * time.Minute))
					for _, o := range []store.Object{
						{Kind: kindConversation, ID: fmt.Sprintf("c%05d", i), Owner: group},
						{Kind: kindThread, ID: fmt.Sprintf("t%05d", i), Owner: group, Parent: fmt.Sprintf("c%05d", i%8)},
						{Kind: kindPost, ID: fmt.Sprintf("p%05d", i), Owner: group, Parent: fmt.Sprintf("t%05d", i%8)},
					} {
						doc := map[string]any{"id": o.ID, "lastDeliveredDateTime": at}
						if o.Kind == kindPost {
							doc = map[string]any{"id": o.ID, "receivedDateTime": at}
						}
						o.Tenant = "t"
						o.Data, _ = json.Marshal(doc)
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
		}
		if err := s.Update(ctx, func(tx store.Tx) error { return ex.Analyze(ctx, tx) }); err != nil {
			t.Fatal(err)
		}
		sortStep := "Sort"
		if strings.HasPrefix(t.Name(), "TestPagePlan/sqlite") {
			sortStep = "TEMP B-TREE"
		}
		for _, tc := range []struct {
			name  string
			q     store.ObjectQuery
			index string
		}{
			{"conversations, $top", store.ObjectQuery{Tenant: "t", Kind: kindConversation, Owner: "g1", OrderBy: newestFirst, Limit: 11}, "objects_conversation_delivered"},
			{"conversations, $skip", store.ObjectQuery{Tenant: "t", Kind: kindConversation, Owner: "g1", OrderBy: newestFirst, Offset: 300, Limit: 11}, "objects_conversation_delivered"},
			{"threads, $top", store.ObjectQuery{Tenant: "t", Kind: kindThread, Owner: "g2", OrderBy: newestFirst, Limit: 11}, "objects_thread_delivered"},
			{"threads, $skip", store.ObjectQuery{Tenant: "t", Kind: kindThread, Owner: "g2", OrderBy: newestFirst, Offset: 300, Limit: 11}, "objects_thread_delivered"},
			{"a conversation's threads, $top", store.ObjectQuery{Tenant: "t", Kind: kindThread, Owner: "g2", Parent: "c00002", OrderBy: newestFirst, Limit: 11}, "objects_thread_parent_delivered"},
			{"a conversation's threads, $skip", store.ObjectQuery{Tenant: "t", Kind: kindThread, Owner: "g2", Parent: "c00002", OrderBy: newestFirst, Offset: 30, Limit: 11}, "objects_thread_parent_delivered"},
			{"posts, $top", store.ObjectQuery{Tenant: "t", Kind: kindPost, Owner: "g1", Parent: "t00001", OrderBy: deliveryOrder, Limit: 11}, "objects_post_received"},
			{"posts, $skip", store.ObjectQuery{Tenant: "t", Kind: kindPost, Owner: "g1", Parent: "t00001", OrderBy: deliveryOrder, Offset: 50, Limit: 11}, "objects_post_received"},
		} {
			plan, err := ex.ExplainObjects(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan, tc.index) {
				t.Errorf("%s: the plan does not read %s:\n%s", tc.name, tc.index, plan)
			}
			if strings.Contains(plan, sortStep) {
				t.Errorf("%s: the plan sorts (%s) instead of reading the index in order:\n%s", tc.name, sortStep, plan)
			}
		}
	})
}
