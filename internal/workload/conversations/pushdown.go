package conversations

import (
	"context"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Conversations, threads and posts are ordered and paged by the store: the service
// writes their times itself, in graph.TimeLayout and UTC, so their text order is
// their time order, and their ids are ASCII and not shaped like dates, so the
// store's order of strings (store.Fold, then bytes) is OData's. Migration 012 indexes
// a group's conversations and threads, a conversation's threads and a thread's
// posts in these orders, so that a page at any $skip is read from an index.

// newestFirst is the order of conversations and threads: the last delivery first
// (those without a post last), ties by id as OData orders strings, then by the
// stored id as the listing by id left them.
var newestFirst = []store.OrderKey{
	{Prop: store.Prop{Path: "lastDeliveredDateTime", Type: store.PropTime, Layout: graph.TimeLayout}, Desc: true},
	{Prop: store.Prop{Path: "id"}},
}

// deliveryOrder is the order of a thread's posts: as they were delivered, ties by
// the stored id.
var deliveryOrder = []store.OrderKey{{Prop: store.Prop{Path: "receivedDateTime", Type: store.PropTime, Layout: graph.TimeLayout}}}

// listPage reads the page of q in order that skips skip objects, with one object
// past top when more remain.
func listPage(ctx context.Context, tx store.Tx, q store.ObjectQuery, order []store.OrderKey, skip, top int) ([]map[string]any, error) {
	q.OrderBy, q.Offset, q.Limit = order, skip, top+1
	objs, err := tx.ListObjects(ctx, q)
	if err != nil {
		return nil, err
	}
	docs := make([]map[string]any, 0, len(objs))
	for _, obj := range objs {
		d, err := rest.Decode(obj.Data)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, nil
}
