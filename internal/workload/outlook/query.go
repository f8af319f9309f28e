package outlook

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
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

// odataError turns a query option error into Graph's 400.
func odataError(err error) error {
	var oe *odata.Error
	if errors.As(err, &oe) {
		return &graph.Error{Status: http.StatusBadRequest, Code: graph.CodeBadRequest, Message: oe.Message, Err: err}
	}
	return err
}

// parseList reads $filter, $orderby, $top, $skip and $select. order is used when the
// request has no $orderby.
func parseList(c *httpapi.Ctx, order []odata.OrderKey) (listQuery, error) {
	q := listQuery{order: order, top: defaultTop}
	var err error
	if s := c.Query("$filter"); s != "" {
		if q.filter, err = odata.ParseFilter(s); err != nil {
			return q, odataError(err)
		}
	}
	if s := c.Query("$orderby"); s != "" {
		if q.order, err = odata.ParseOrderBy(s); err != nil {
			return q, odataError(err)
		}
	}
	if s := c.Query("$top"); s != "" {
		if q.top, err = odata.ParseTop(s, maxTop); err != nil {
			return q, odataError(err)
		}
	}
	if s := c.Query("$skip"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Invalid value '%s' for $skip: it must be a non-negative integer.", s)
		}
		q.skip = n
	}
	if q.fields, err = parseSelect(c); err != nil {
		return q, err
	}
	return q, nil
}

func parseSelect(c *httpapi.Ctx) ([]string, error) {
	s := c.Query("$select")
	if s == "" {
		return nil, nil
	}
	fields, err := odata.ParseSelect(s)
	if err != nil {
		return nil, odataError(err)
	}
	return fields, nil
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
	out := map[string]any{"@odata.context": c.ContextURL(fragment), "value": value}
	if more {
		out["@odata.nextLink"] = c.LinkWith(map[string]string{"$skip": strconv.Itoa(q.skip + q.top)})
	}
	return c.JSON(http.StatusOK, out)
}

// selectFields applies $select (nil keeps everything).
func selectFields(doc map[string]any, fields []string) map[string]any {
	if fields == nil {
		return doc
	}
	return odata.Select(doc, fields)
}
