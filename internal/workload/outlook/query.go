package outlook

import (
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
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
	odata.SortDocs(docs, append(q.order, odata.OrderKey{Property: "id"}))
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
