package todo

import (
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Page sizes of To Do collections: 10 items unless $top says otherwise, at most
// 1000, as for Outlook's collections.
const (
	defaultTop = 10
	maxTop     = 1000
)

// listQuery is the OData options of a collection request.
type listQuery struct {
	filter *odata.Filter
	top    int
	skip   int
	fields []string
}

// parseList reads $filter, $top, $skip and $select.
func parseList(c *httpapi.Ctx) (listQuery, error) {
	var q listQuery
	var err error
	if q.filter, err = rest.Filter(c); err != nil {
		return q, err
	}
	if q.top, err = rest.Top(c, defaultTop, maxTop); err != nil {
		return q, err
	}
	if q.skip, err = rest.Skip(c); err != nil {
		return q, err
	}
	q.fields, err = rest.Fields(c)
	return q, err
}

// write answers a collection request with the page of docs (in order) that q
// selects, and an @odata.nextLink when more remain.
func (q listQuery) write(c *httpapi.Ctx, fragment string, docs []map[string]any) error {
	kept := make([]map[string]any, 0, len(docs))
	for _, d := range docs {
		if q.filter == nil || q.filter.Match(d) {
			kept = append(kept, d)
		}
	}
	return q.writeStored(c, fragment, kept[min(q.skip, len(kept)):])
}

// writeStored answers a collection request with docs already filtered and skipped
// (by the store, or by write): the page is their first q.top, and more remain when
// there are more.
func (q listQuery) writeStored(c *httpapi.Ctx, fragment string, docs []map[string]any) error {
	next := ""
	if len(docs) > q.top {
		docs = docs[:q.top]
		next = rest.NextSkip(c, q.skip+q.top)
	}
	value := make([]map[string]any, 0, len(docs))
	for _, d := range docs {
		value = append(value, rest.Select(d, q.fields))
	}
	return rest.Collection(c, fragment, value, next)
}
