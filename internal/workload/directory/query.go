package directory

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// optionError turns an odata parse error into Entra's 400.
func optionError(err error) error {
	var oe *odata.Error
	if errors.As(err, &oe) {
		return graph.Errorf(http.StatusBadRequest, codeBadRequest, "%s", oe.Message)
	}
	return err
}

// listQuery holds the query options of a list request.
type listQuery struct {
	filter *odata.Filter
	order  []odata.OrderKey
	fields []string
	top    int
	count  bool
	skip   skipState
}

// skipState is what a list's $skiptoken carries: the cursor of the last item served
// when the list is in id order, or how many were served when $orderby sorts it.
type skipState struct {
	After  string `json:"a,omitempty"`
	Offset int    `json:"o,omitempty"`
}

// parseListQuery reads $filter, $orderby, $select, $top, $count and $skiptoken.
func parseListQuery(c *httpapi.Ctx, s *schema) (listQuery, error) {
	var q listQuery
	var err error
	if q.fields, err = s.parseSelect(c.Query("$select")); err != nil {
		return q, err
	}
	if f := c.Query("$filter"); c.HasQuery("$filter") {
		if q.filter, err = odata.ParseFilter(f); err != nil {
			return q, optionError(err)
		}
		for _, path := range q.filter.Properties() {
			name, _, _ := strings.Cut(path, "/")
			if p := s.lookup(name); p == nil || !p.filter {
				return q, graph.Errorf(http.StatusBadRequest, codeUnsupported, "Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", name, s.resource)
			}
		}
	}
	if o := c.Query("$orderby"); c.HasQuery("$orderby") {
		if q.order, err = odata.ParseOrderBy(o); err != nil {
			return q, optionError(err)
		}
		for i, k := range q.order {
			p := s.lookup(k.Property)
			if p == nil || !p.order {
				return q, graph.Errorf(http.StatusBadRequest, codeUnsupported, "Sorting not supported for '%s'.", k.Property)
			}
			q.order[i].Property = p.name
		}
	}
	if q.top, err = parseTop(c); err != nil {
		return q, err
	}
	if q.count, err = parseCount(c); err != nil {
		return q, err
	}
	if tok := c.Query("$skiptoken"); c.HasQuery("$skiptoken") {
		if err := odata.DecodeSkipToken(tok, &q.skip); err != nil || q.skip.Offset < 0 {
			return q, badRequest("Invalid $skiptoken: the token is malformed. Use the @odata.nextLink of the previous page as it is.")
		}
	}
	return q, nil
}

// parseTop reads $top: 1 to maxPageSize; defaultPageSize when absent.
func parseTop(c *httpapi.Ctx) (int, error) {
	if !c.HasQuery("$top") {
		return defaultPageSize, nil
	}
	s := c.Query("$top")
	n, err := odata.ParseTop(s, maxPageSize)
	if err != nil {
		return 0, badRequest("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", s, maxPageSize)
	}
	return n, nil
}

// parseCount reads $count. Entra counts only for advanced queries, which a caller asks
// for with the ConsistencyLevel: eventual header; without it $count is refused.
func parseCount(c *httpapi.Ctx) (bool, error) {
	if !c.HasQuery("$count") {
		return false, nil
	}
	var on bool
	switch strings.ToLower(c.Query("$count")) {
	case "true":
		on = true
	case "false":
	default:
		return false, badRequest("Invalid value '%s' for $count: it must be true or false.", c.Query("$count"))
	}
	if on && !eventual(c) {
		return false, badRequest("$count is not currently supported.")
	}
	return on, nil
}

func eventual(c *httpapi.Ctx) bool {
	return strings.EqualFold(strings.TrimSpace(c.R.Header.Get("ConsistencyLevel")), "eventual")
}

// item is one entry of a list: its paging cursor and its API representation.
type item struct {
	cursor string
	doc    map[string]any
}

// source reads up to n items whose cursor sorts after after, in cursor order; fewer
// than n means the end. An item with a nil doc only moves the cursor on (an object
// the list does not show).
type source func(ctx context.Context, tx store.Tx, after string, n int) ([]item, error)

// scanBatch is how many items a filtered scan reads at a time.
const scanBatch = 500

// collect reads the items of src that match q's filter. With $orderby it reads all of
// them and sorts (the directory's ordered lists are small enough; Entra itself sorts
// only on a few properties); otherwise it stops after limit items (0: no limit),
// starting after the cursor in q's skip token.
func collect(ctx context.Context, tx store.Tx, src source, q listQuery, limit int) ([]item, error) {
	after := ""
	if q.order == nil {
		after = q.skip.After
	} else {
		limit = 0
	}
	var out []item
	// A page reads what it needs: as many objects as it still lacks first (all of
	// them match when the store applied the whole filter), then, while a filter
	// turns objects away, twice as many each time, up to scanBatch.
	n := scanBatch
	if limit > 0 {
		n = min(limit, scanBatch)
	}
	for {
		batch, err := src(ctx, tx, after, n)
		if err != nil {
			return nil, err
		}
		for _, it := range batch {
			if it.doc != nil && (q.filter == nil || q.filter.Match(it.doc)) {
				out = append(out, it)
				if limit > 0 && len(out) >= limit {
					return out, nil
				}
			}
		}
		if len(batch) < n {
			break
		}
		after = batch[len(batch)-1].cursor
		n = min(2*n, scanBatch)
	}
	if q.order != nil {
		docs := make([]map[string]any, len(out))
		for i := range out {
			docs[i] = out[i].doc
		}
		odata.SortDocs(docs, append(q.order, odata.OrderKey{Property: "id"}))
		for i := range docs {
			out[i] = item{doc: docs[i]}
		}
	}
	return out, nil
}

// listItems reads one page of q from src, with the total when q.count asks for it
// (-1 otherwise) and whether more items follow.
func listItems(ctx context.Context, tx store.Tx, src source, q listQuery) (page []item, total int, more bool, err error) {
	total = -1
	all := q.count || q.order != nil
	limit := q.top + 1
	if all {
		limit = 0
	}
	items, err := collect(ctx, tx, src, q, limit)
	if err != nil {
		return nil, 0, false, err
	}
	if all {
		total = len(items)
		if q.order != nil {
			items = items[min(q.skip.Offset, len(items)):]
		} else if q.skip.After != "" {
			// collect started after the cursor; the count is of the whole list.
			whole := q
			whole.skip = skipState{}
			everything, err := collect(ctx, tx, src, whole, 0)
			if err != nil {
				return nil, 0, false, err
			}
			total = len(everything)
		}
	}
	return items[:min(q.top, len(items))], total, len(items) > q.top, nil
}

// serveListing answers a list request from a listing, which the store may filter
// and page: one page of q.top items, @odata.count when asked, @odata.nextLink while
// more remain.
func (w *Workload) serveListing(c *httpapi.Ctx, l listing, q listQuery, contextFragment string) error {
	return w.servePage(c, q, contextFragment, func(ctx context.Context, tx store.Tx) ([]item, int, bool, error) {
		return l.list(ctx, tx, q)
	})
}

// servePage answers a list request with the page read reads.
func (w *Workload) servePage(c *httpapi.Ctx, q listQuery, contextFragment string, read func(context.Context, store.Tx) ([]item, int, bool, error)) error {
	ctx := c.R.Context()
	var page []item
	total := -1
	more := false
	err := w.st.View(ctx, func(tx store.Tx) error {
		var err error
		page, total, more, err = read(ctx, tx)
		return err
	})
	if err != nil {
		return err
	}
	out := map[string]any{"@odata.context": c.ContextURL(contextFragment)}
	if q.count {
		out["@odata.count"] = total
	}
	value := make([]map[string]any, 0, len(page))
	for _, it := range page {
		value = append(value, odata.Select(it.doc, q.fields))
	}
	out["value"] = value
	if more {
		next := skipState{After: page[len(page)-1].cursor}
		if q.order != nil {
			next = skipState{Offset: q.skip.Offset + len(page)}
		}
		out["@odata.nextLink"] = rest.NextToken(c, next)
	}
	return c.JSON(http.StatusOK, out)
}

// serveCount answers /users/$count and /groups/$count: the number as text/plain, and
// only with ConsistencyLevel: eventual, as Entra does.
func (w *Workload) serveCount(c *httpapi.Ctx, l listing) error {
	if !eventual(c) {
		return badRequest("$count is not currently supported.")
	}
	q, err := parseListQuery(c, l.s)
	if err != nil {
		return err
	}
	var n int
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		n, err = l.count(ctx, tx, q.filter)
		return err
	})
	if err != nil {
		return err
	}
	return c.Write(http.StatusOK, "text/plain; charset=utf-8", []byte(strconv.Itoa(n)))
}
