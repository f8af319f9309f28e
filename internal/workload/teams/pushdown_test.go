package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/storetest"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestReplyPagesMatchMemory: a page of a channel's top-level messages, or of one
// message's replies, read through replyQuery is the page listInChannel cut from
// every message of the channel, whatever replyToId holds (absent, null, "", an id,
// an id in other case, a number), on both backends.
func TestReplyPagesMatchMemory(t *testing.T) {
	t.Parallel()
	storetest.OnEachBackend(t, testReplyPagesMatchMemory)
}

func testReplyPagesMatchMemory(t *testing.T, s store.Store) {
	ctx := context.Background()
	ref := channelRef{tenant: "t", team: "team1", channel: "ch1"}
	replyTo := []any{"absent", nil, "", "1700000000001", "1700000000001X", "1700000000001x", 5.0}
	err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 120 {
			id := fmt.Sprintf("17%011d", i*7919%100000)
			doc := map[string]any{"id": id}
			if r := replyTo[i%len(replyTo)]; r != "absent" {
				doc["replyToId"] = r
			}
			data, _ := json.Marshal(doc)
			if err := tx.InsertObject(ctx, &store.Object{Tenant: "t", Kind: KindChannelMessage, ID: id, Owner: ref.team, Parent: ref.channel, Data: data}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(objs []store.Object, parent string, top int) []string {
		var out []string
		for _, o := range objs {
			doc, _ := rest.Decode(o.Data)
			if rest.Str(doc["replyToId"]) == parent && len(out) <= top {
				out = append(out, o.ID)
			}
		}
		return out
	}
	for _, parent := range []string{"", "1700000000001X"} {
		for _, page := range []struct {
			after string
			top   int
		}{{"", 5}, {"", 1000}, {"1700000050000", 3}} {
			err := s.View(ctx, func(tx store.Tx) error {
				all, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "t", Kind: KindChannelMessage, Owner: ref.team, Parent: ref.channel, AfterID: page.after})
				if err != nil {
					return err
				}
				got, err := tx.ListObjects(ctx, replyQuery(ref, parent, page.after, page.top))
				if err != nil {
					return err
				}
				if diff := cmp.Diff(ids(all, parent, page.top), ids(got, parent, page.top)); diff != "" {
					t.Errorf("parent %q %+v (-memory +store):\n%s", parent, page, diff)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}
