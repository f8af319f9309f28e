package files

import (
	"context"
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// A folder's children in the order $orderby asks (List children of a driveItem
// supports $orderby). A page is read from the store in that order by
// lastModifiedDateTime alone (the item's sort key, see storedItem.encode, through
// the parent's sort index), by createdDateTime alone (the object's creation time,
// store.ObjectQuery.ByCreated), and by name alone (migration 015's index) when every
// name in the folder is plain (store.Plain). Otherwise (a name that is not plain,
// size, where a folder's is its descendants' total, or more than one key) the
// folder's children are rendered and ordered in memory with odata.SortDocs, the
// reference the store's orders agree with. Ties go by id, in the direction of the
// first key.

// orderableChildProps are the properties of a child $orderby may name.
var orderableChildProps = []string{"name", "size", "lastModifiedDateTime", "createdDateTime"}

// nameProp is a child's stored name, as the store orders it.
var nameProp = store.Prop{Path: "name"}

// orderedPageToken is the $skiptoken of a page in $orderby order: how many children
// the earlier pages held.
type orderedPageToken struct {
	Skip int `json:"skip"`
}

// childrenOrder reads $orderby ("" when absent).
func childrenOrder(c *httpapi.Ctx) ([]odata.OrderKey, error) {
	s := c.Query("$orderby")
	if s == "" {
		return nil, nil
	}
	keys, err := odata.ParseOrderBy(s)
	if err != nil {
		return nil, graph.SharePointInvalidRequest("Invalid $orderby: %s", err.Error())
	}
	for i, k := range keys {
		known := false
		for _, p := range orderableChildProps {
			if strings.EqualFold(k.Property, p) {
				keys[i].Property, known = p, true
			}
		}
		if !known {
			return nil, graph.SharePointInvalidRequest("Ordering children by '%s' is not supported; order by %s.", k.Property, strings.Join(orderableChildProps, ", "))
		}
	}
	return keys, nil
}

// orderedSkip reads the $skiptoken of a page in $orderby order.
func orderedSkip(c *httpapi.Ctx) (int, error) {
	var tok orderedPageToken
	if _, err := rest.SkipTokenAs(c, &tok, graph.SharePointInvalidRequest); err != nil {
		return 0, err
	}
	if tok.Skip < 0 {
		return 0, graph.SharePointInvalidRequest("The $skiptoken is not valid.")
	}
	return tok.Skip, nil
}

// orderedChildrenPage renders up to top children of parent in keys' order, past the
// first skip, and returns whether more follow.
func orderedChildrenPage(ctx context.Context, tx store.Tx, d drive, parent store.Object, keys []odata.OrderKey, top, skip int) ([]map[string]any, bool, error) {
	q := store.ObjectQuery{Tenant: d.Tenant, Kind: KindDriveItem, Parent: parent.ID}
	inStore := false
	switch {
	case len(keys) == 1 && keys[0].Property == "lastModifiedDateTime":
		q.BySort, q.Desc, inStore = true, keys[0].Desc, true
	case len(keys) == 1 && keys[0].Property == "createdDateTime":
		q.ByCreated, q.Desc, inStore = true, keys[0].Desc, true
	case len(keys) == 1 && keys[0].Property == "name":
		plain, err := namesArePlain(ctx, tx, q)
		if err != nil {
			return nil, false, err
		}
		if plain {
			q.OrderBy, q.IDDesc, inStore = []store.OrderKey{{Prop: nameProp, Desc: keys[0].Desc}}, keys[0].Desc, true
		}
	}
	if inStore {
		q.Offset, q.Limit = skip, top+1
	}
	kids, err := tx.ListObjects(ctx, q)
	if err != nil {
		return nil, false, err
	}
	r := newRenderer(ctx, tx, d)
	if err := r.prefetch(kids); err != nil {
		return nil, false, err
	}
	docs := make([]map[string]any, 0, len(kids))
	for _, k := range kids {
		doc, err := r.render(k)
		if err != nil {
			return nil, false, err
		}
		docs = append(docs, doc)
	}
	if !inStore {
		odata.SortDocs(docs, append(keys, odata.OrderKey{Property: "id", Desc: keys[0].Desc}))
		docs = docs[min(skip, len(docs)):]
	}
	more := len(docs) > top
	return docs[:min(top, len(docs))], more, nil
}

// namesArePlain tells whether the store orders q's children by name as
// odata.SortDocs does: no name in the folder that the store would order otherwise
// (one read of an index that is normally empty for the folder).
func namesArePlain(ctx context.Context, tx store.Tx, q store.ObjectQuery) (bool, error) {
	odd := q
	odd.Where, odd.Limit = &store.Cond{Op: store.CondUnplain, Prop: nameProp}, 1
	objs, err := tx.ListObjects(ctx, odd)
	return len(objs) == 0, err
}
