package outlook

import (
	"strings"

	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
)

// Messages, events and contacts are filtered, ordered and paged by the store where it
// gives the page the in-memory evaluation (listQuery.page) gives: a page then costs
// its own size, not the mailbox's. What the store cannot say exactly is evaluated in
// memory as before, over the items the store's part of the filter lets through.

// itemProps are the properties of each kind of item that the store filters and orders
// by: those whose stored values have one type, as the schema's rules and the
// service's own writes leave them (times in timeLayout, and dateTimeTimeZone values in
// UTC in localLayout).
var itemProps = map[string][]store.Prop{
	kindMessage: {
		{Path: "subject"}, {Path: "importance"}, {Path: "inferenceClassification"}, {Path: "conversationId"},
		{Path: "parentFolderId"}, {Path: "internetMessageId"},
		{Path: "from/emailAddress/address"}, {Path: "from/emailAddress/name"},
		{Path: "sender/emailAddress/address"}, {Path: "sender/emailAddress/name"},
		{Path: "isRead", Type: store.PropBool}, {Path: "isDraft", Type: store.PropBool}, {Path: "hasAttachments", Type: store.PropBool},
		{Path: "receivedDateTime", Type: store.PropTime, Layout: timeLayout},
		{Path: "createdDateTime", Type: store.PropTime, Layout: timeLayout},
		{Path: "lastModifiedDateTime", Type: store.PropTime, Layout: timeLayout},
	},
	kindEvent: {
		{Path: "subject"}, {Path: "showAs"}, {Path: "importance"}, {Path: "sensitivity"},
		{Path: "isAllDay", Type: store.PropBool}, {Path: "isCancelled", Type: store.PropBool}, {Path: "isOnlineMeeting", Type: store.PropBool},
		{Path: "start/dateTime", Type: store.PropTime, Layout: localLayout},
		{Path: "end/dateTime", Type: store.PropTime, Layout: localLayout},
		{Path: "createdDateTime", Type: store.PropTime, Layout: timeLayout},
		{Path: "lastModifiedDateTime", Type: store.PropTime, Layout: timeLayout},
	},
	kindContact: {
		{Path: "displayName"}, {Path: "givenName"}, {Path: "surname"}, {Path: "middleName"}, {Path: "nickName"},
		{Path: "companyName"}, {Path: "jobTitle"}, {Path: "department"}, {Path: "officeLocation"}, {Path: "fileAs"},
		{Path: "parentFolderId"}, {Path: "mobilePhone"},
		{Path: "createdDateTime", Type: store.PropTime, Layout: timeLayout},
		{Path: "lastModifiedDateTime", Type: store.PropTime, Layout: timeLayout},
	},
}

// propsOf is the odata.PropFunc of a kind of item. Names match ignoring case, as
// odata reads documents.
func propsOf(kind string) odata.PropFunc {
	props := itemProps[kind]
	if props == nil {
		props = listProps[kind]
	}
	return func(path string) (store.Prop, bool) {
		for _, p := range props {
			if strings.EqualFold(p.Path, path) {
				return p, true
			}
		}
		return store.Prop{}, false
	}
}

// storeQuery narrows query (one mailbox's, or one folder's, items of a kind) by what
// the store can do of q. With paged true it is the page itself, one item past it
// when more remain, in q's order (write it with writeStorePage); otherwise it holds
// the items q's filter may keep, for listQuery.page to filter, order and cut.
func (q listQuery) storeQuery(o *op, t itemType, query store.ObjectQuery) (_ store.ObjectQuery, paged bool, err error) {
	return q.pushDown(o, propsOf(t.kind), t.sortBy, query)
}

// pushDown is storeQuery for a collection whose properties are props; sortBy, when
// set, is the property its objects' sort key holds, whose order (newest first) is
// that of a request without $orderby.
func (q listQuery) pushDown(o *op, props odata.PropFunc, sortBy string, query store.ObjectQuery) (_ store.ObjectQuery, paged bool, err error) {
	bySort := sortBy != ""
	exact := true
	if q.filter != nil {
		query.Where, exact = q.filter.StoreCond(props)
		if bySort && query.Where != nil {
			query.SortBounds = sortBounds(*query.Where, sortBy, nil)
		}
	}
	if !exact {
		return query, false, nil
	}
	if !q.given && bySort {
		return q.storePage(query), true, nil
	}
	keys, ok := odata.StoreOrder(q.order, props)
	if !ok {
		return query, false, nil
	}
	for _, k := range keys {
		if k.Prop.Type != store.PropString {
			continue
		}
		odd := query
		odd.Where, odd.Limit = &store.Cond{Op: store.CondUnplain, Prop: k.Prop}, 1
		objs, err := o.tx.ListObjects(o.ctx, odd)
		if err != nil || len(objs) > 0 {
			return query, false, err
		}
	}
	// Ties go by id in the direction of the first key, as listQuery.page orders them.
	query.OrderBy, query.IDDesc = keys, q.order[0].Desc
	query.Offset, query.Limit = q.skip, q.top+1
	return query, true, nil
}

// sortBounds collects, from the conjuncts of c, the comparisons of the sortBy
// property as bounds of the sort key, which holds that property's value (see
// itemType.sortKey): c implies them, and the store then reads only that range of
// the index it pages by. A comparison under OR or NOT implies nothing and is left.
func sortBounds(c store.Cond, sortBy string, out []store.SortBound) []store.SortBound {
	switch c.Op {
	case store.CondAnd:
		for _, s := range c.Sub {
			out = sortBounds(s, sortBy, out)
		}
	case store.CondLt, store.CondLe, store.CondGt, store.CondGe:
		if v, ok := c.Value.(string); ok && c.Prop.Type == store.PropTime && strings.EqualFold(c.Prop.Path, sortBy) {
			out = append(out, store.SortBound{Op: c.Op, Value: v})
		}
	}
	return out
}
