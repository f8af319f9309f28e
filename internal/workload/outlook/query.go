package outlook

import (
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Page sizes of Outlook collections: Graph's default of 10 and its cap of 1000.
const (
	defaultTop = 10
	maxTop     = 1000
)

// listQuery is the OData options of a collection request.
type listQuery struct {
	filter *odata.Filter
	order  []odata.OrderKey
	top    int
	skip   int
	fields []string
	// given is set when the request has its own $orderby.
	given bool
}

// storePage narrows query to the page q asks for, in the default order (newest
// first); the store returns one item past the page when more remain.
func (q listQuery) storePage(query store.ObjectQuery) store.ObjectQuery {
	query.BySort, query.Desc = true, true
	query.Offset, query.Limit = q.skip, q.top+1
	return query
}

// parseList reads $filter, $orderby, $top, $skip and $select. order is used when the
// request has no $orderby.
func parseList(c *httpapi.Ctx, order []odata.OrderKey) (listQuery, error) {
	q := listQuery{order: order, top: defaultTop}
	var err error
	if q.filter, err = rest.Filter(c); err != nil {
		return q, err
	}
	if s := c.Query("$orderby"); s != "" {
		q.given = true
		if q.order, err = odata.ParseOrderBy(s); err != nil {
			return q, rest.QueryError(err)
		}
	}
	if q.top, err = rest.Top(c, defaultTop, maxTop); err != nil {
		return q, err
	}
	if q.skip, err = rest.Skip(c); err != nil {
		return q, err
	}
	if q.fields, err = rest.Fields(c); err != nil {
		return q, err
	}
	return q, nil
}

// page filters, sorts and pages docs; more reports whether items remain after the page.
func (q listQuery) page(docs []map[string]any) (out []map[string]any, more bool) {
	if q.filter != nil {
		kept := docs[:0]
		for _, d := range docs {
			if q.filter.Match(d) {
				kept = append(kept, d)
			}
		}
		docs = kept
	}
	// Ties go by id, byte by byte, in the direction of the first key, as the
	// store's sort key index reads them: order by id first, then sort stably.
	desc := len(q.order) > 0 && q.order[0].Desc
	slices.SortFunc(docs, func(a, b map[string]any) int {
		c := strings.Compare(rest.Str(a["id"]), rest.Str(b["id"]))
		if desc {
			return -c
		}
		return c
	})
	odata.SortDocs(docs, q.order)
	if q.skip >= len(docs) {
		return nil, false
	}
	docs = docs[q.skip:]
	if len(docs) > q.top {
		return docs[:q.top], true
	}
	return docs, false
}

// writeList answers a collection request with one page of docs, each passed through
// render, and an @odata.nextLink when more remain.
func writeList(c *httpapi.Ctx, fragment string, q listQuery, docs []map[string]any, render func(map[string]any) map[string]any) error {
	page, more := q.page(docs)
	return writePage(c, fragment, q, page, more, render)
}

// writeStorePage answers a collection request with docs, already filtered, ordered and
// cut by the store (see listQuery.storeQuery): it holds one item past the page
// when more remain.
func writeStorePage(c *httpapi.Ctx, fragment string, q listQuery, docs []map[string]any, render func(map[string]any) map[string]any) error {
	more := len(docs) > q.top
	if more {
		docs = docs[:q.top]
	}
	return writePage(c, fragment, q, docs, more, render)
}

func writePage(c *httpapi.Ctx, fragment string, q listQuery, page []map[string]any, more bool, render func(map[string]any) map[string]any) error {
	value := make([]map[string]any, 0, len(page))
	for _, d := range page {
		value = append(value, render(d))
	}
	next := ""
	if more {
		next = rest.NextSkip(c, q.skip+q.top)
	}
	return rest.Collection(c, fragment, value, next)
}
