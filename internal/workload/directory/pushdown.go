package directory

import (
	"context"

	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
)

// Lists of users and groups are filtered, ordered, paged and counted by the store
// where it gives the answer the in-memory evaluation gives (see odata.StoreCond and
// odata.StoreOrder): a page then costs its own size, whatever the directory's. What
// the store cannot say exactly is evaluated here as before, over the objects the
// store's part of the filter lets through.

// storeProp is the schema's odata.PropFunc: the properties $filter or $orderby may
// name whose stored values have one type (strings; accountEnabled and the like;
// createdDateTime, which the service writes in createdLayout).
func (s *schema) storeProp(path string) (store.Prop, bool) {
	p := s.lookup(path)
	if p == nil || !(p.filter || p.order) {
		return store.Prop{}, false
	}
	switch {
	case p.name == "createdDateTime":
		return store.Prop{Path: p.name, Type: store.PropTime, Layout: createdLayout}, true
	case p.typ == typeString:
		return store.Prop{Path: p.name, Type: store.PropString}, true
	case p.typ == typeBool:
		return store.Prop{Path: p.name, Type: store.PropBool}, true
	}
	return store.Prop{}, false
}

// listing is a list of the objects of one kind: /users, /groups and the recycle bin;
// or, with via, of the live objects at the far end of links (see links).
type listing struct {
	tenant, kind string
	// kinds, when set, are the kinds of a list through links that mixes them.
	kinds   []string
	deleted bool
	// s is the schema of the list's query options and of its objects (those of a
	// list through links are shown through their own kind's).
	s *schema
	// odataType, when set, is written into each item as @odata.type (deletedItems
	// mixes types).
	odataType string
	// via, when set, lists the objects its links point at, each with the
	// @odata.type of its kind; cursor is then the id of the link to an object.
	via    *store.Via
	cursor func(target string) string
}

func (l listing) query(where *store.Cond) store.ObjectQuery {
	return store.ObjectQuery{Tenant: l.tenant, Kind: l.kind, Kinds: l.kinds, Deleted: l.deleted, Where: where, Via: l.via}
}

// items shows stored objects through the schema.
func (l listing) items(objs []store.Object) ([]item, error) {
	items := make([]item, 0, len(objs))
	for _, o := range objs {
		s, cursor := l.s, o.ID
		if l.via != nil {
			s, cursor = schemaOf(o.Kind), l.cursor(o.ID)
		}
		doc, err := decodeView(o, s)
		if err != nil {
			return nil, err
		}
		switch {
		case l.odataType != "":
			doc["@odata.type"] = l.odataType
		case l.via != nil:
			doc["@odata.type"] = odataTypeOf(o.Kind)
		}
		items = append(items, item{cursor: cursor, doc: doc})
	}
	return items, nil
}

// source reads the listing in id order, keeping only objects that satisfy where
// (which may be nil, or let through more than the list's filter: collect matches
// every item again).
func (l listing) source(where *store.Cond) source {
	return func(ctx context.Context, tx store.Tx, after string, n int) ([]item, error) {
		q := l.query(where)
		q.AfterID, q.Limit = after, n
		objs, err := tx.ListObjects(ctx, q)
		if err != nil {
			return nil, err
		}
		return l.items(objs)
	}
}

// pushdown is what the store can do of a list query: where is the store's part of
// the filter, exact when it is the whole filter, order the store's $orderby (nil
// when there is none or the store cannot give it).
type pushdown struct {
	where *store.Cond
	exact bool
	order []store.OrderKey
}

func (l listing) pushdown(q listQuery) pushdown {
	pd := pushdown{exact: true}
	if q.filter != nil {
		pd.where, pd.exact = q.filter.StoreCond(l.s.storeProp)
	}
	if q.order != nil {
		pd.order, _ = odata.StoreOrder(q.order, l.s.storeProp)
	}
	return pd
}

// plainOrder reports whether the store orders the listing's objects by keys as
// odata.SortDocs would: it does unless some object holds a string that is not
// store.Plain in an ordering property (an index of those is normally empty).
func (l listing) plainOrder(ctx context.Context, tx store.Tx, keys []store.OrderKey) (bool, error) {
	for _, k := range keys {
		if k.Prop.Type != store.PropString {
			continue
		}
		q := l.query(&store.Cond{Op: store.CondUnplain, Prop: k.Prop})
		q.Limit = 1
		odd, err := tx.ListObjects(ctx, q)
		if err != nil || len(odd) > 0 {
			return false, err
		}
	}
	return true, nil
}

// list reads one page of q, with the total when q.count asks for it (-1 otherwise)
// and whether more items follow: from the store when it can answer exactly, else by
// collect over the objects the store's part of the filter lets through.
func (l listing) list(ctx context.Context, tx store.Tx, q listQuery) (page []item, total int, more bool, err error) {
	pd := l.pushdown(q)
	total = -1
	if pd.exact && q.count {
		if total, err = tx.CountObjects(ctx, l.query(pd.where)); err != nil {
			return nil, 0, false, err
		}
	}
	if q.order != nil && pd.exact && pd.order != nil {
		plain, err := l.plainOrder(ctx, tx, pd.order)
		if err != nil {
			return nil, 0, false, err
		}
		if plain {
			sq := l.query(pd.where)
			sq.OrderBy, sq.Offset, sq.Limit = pd.order, q.skip.Offset, q.top+1
			objs, err := tx.ListObjects(ctx, sq)
			if err != nil {
				return nil, 0, false, err
			}
			items, err := l.items(objs)
			if err != nil {
				return nil, 0, false, err
			}
			more = len(items) > q.top
			return items[:min(q.top, len(items))], total, more, nil
		}
	}
	if q.order == nil && (total >= 0 || !q.count) {
		// In id order the store reads only as far as the page: collect stops there.
		items, err := collect(ctx, tx, l.source(pd.where), q, q.top+1)
		if err != nil {
			return nil, 0, false, err
		}
		more = len(items) > q.top
		return items[:min(q.top, len(items))], total, more, nil
	}
	page, total, more, err = listItems(ctx, tx, l.source(pd.where), q)
	return page, total, more, err
}

// count is the number of the listing's objects that match filter.
func (l listing) count(ctx context.Context, tx store.Tx, filter *odata.Filter) (int, error) {
	pd := l.pushdown(listQuery{filter: filter})
	if pd.exact {
		return tx.CountObjects(ctx, l.query(pd.where))
	}
	items, err := collect(ctx, tx, l.source(pd.where), listQuery{filter: filter}, 0)
	return len(items), err
}
