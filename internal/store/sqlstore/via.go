package sqlstore

import (
	"cmp"
	"errors"
	"strings"

	"github.com/graphhook/graphhook/internal/store"
)

// A listing through links (store.Via) reads the links from their owner's or parent's
// index, in its order, and finds the object each points at by its primary key: a
// page of a group's members costs the page (and the links to objects it does not
// select), not the group, and the live objects are counted by the database. The
// statement names the link l and the object o.
//
// On SQLite the join is a CROSS JOIN, which its planner takes as the order of its
// loops (the links outside, each object looked up). PostgreSQL would plan an inner
// join from its estimates, and those are far off here: it cannot know that a
// link's column holds the id of one object of the kinds asked for, so it expects a
// few objects in hundreds of links to match, and would rather sort the few it
// expects than read the links in order. The object is therefore looked up in a
// LATERAL subquery that OFFSET 0 keeps from being merged into the join: one
// primary-key read per link, in the links' order.

// viaCols are objectCols of the object a link points at.
var viaCols = "o." + strings.ReplaceAll(objectCols, ", ", ", o.")

// errVia is the error of a Via that selects its links by neither or both columns.
var errVia = errors.New("sqlstore: a Via selects its links by Owner or by Parent")

// viaWhere is the FROM and WHERE of a listing through links (paging: with AfterID),
// with its arguments, and the column the links are selected by.
func viaWhere(d *Dialect, q store.ObjectQuery, paging bool) (string, []any, string, error) {
	v := q.Via
	if (v.Owner == "") == (v.Parent == "") {
		return "", nil, "", errVia
	}
	if q.Kind == "" && len(q.Kinds) == 0 {
		return "", nil, "", errors.New("sqlstore: a Via needs the objects' Kind or Kinds")
	}
	if q.BySort || q.ByCreated {
		return "", nil, "", errors.New("sqlstore: a Via lists in its links' order or by OrderBy, not by sort key or creation time")
	}
	j := jsonExpr{pg: d.Name == "postgres", table: "o"}
	index, by, target := "objects_owner", "l.owner", "l.parent"
	if v.Parent != "" {
		index, by, target = "objects_parent", "l.parent", "l.owner"
	}
	// The links' conditions and the object's, each with its arguments.
	links := []string{"l.tenant = ?", "l.kind = ?", by + " = ?", "l.deleted = 0"}
	largs := []any{q.Tenant, v.Kind, cmp.Or(v.Owner, v.Parent)}
	if paging && q.AfterID != "" && q.OrderBy == nil {
		links = append(links, "l.id > ?")
		largs = append(largs, q.AfterID)
	}
	obj := []string{"o.tenant = l.tenant"}
	var oargs []any
	if q.Kind != "" {
		obj, oargs = append(obj, "o.kind = ?"), append(oargs, q.Kind)
	}
	if v.KindProp != "" {
		if err := checkPath(v.KindProp); err != nil {
			return "", nil, "", err
		}
		// The kind is the property's text as stored (no COLLATE, unlike
		// jsonExpr.raw), so that the primary key finds the object with it.
		kind := `json_extract(l.data, '$.` + strings.ReplaceAll(v.KindProp, "/", ".") + `')`
		if j.pg {
			kind = `(graphhook_doc(l.data) #>> '{` + strings.ReplaceAll(v.KindProp, "/", ",") + `}')`
		}
		obj = append(obj, "o.kind = "+kind)
	}
	obj = append(obj, "o.id = "+target)
	conds, cargs := columnConds(q, "o.")
	obj, oargs = append(obj, conds...), append(oargs, cargs...)
	if q.Where != nil {
		c, err := j.cond(*q.Where, false, &oargs)
		if err != nil {
			return "", nil, "", err
		}
		obj = append(obj, c)
	}
	if j.pg {
		// The subquery's placeholders come first in the text, as its arguments do.
		from := ` FROM ` + d.objects(v.Kind) + ` l CROSS JOIN LATERAL (SELECT * FROM ` + objectTable(d, q) + ` o WHERE ` + strings.Join(obj, " AND ") +
			` OFFSET 0) o WHERE ` + strings.Join(links, " AND ")
		return from, append(oargs, largs...), by, nil
	}
	from := ` FROM ` + d.objects(v.Kind) + ` l` + d.index(index) + ` CROSS JOIN ` + objectTable(d, q) + ` o WHERE ` + strings.Join(append(links, obj...), " AND ")
	return from, append(largs, oargs...), by, nil
}

// viaListQuery is the SELECT that ListObjects runs for q with a Via.
func viaListQuery(d *Dialect, q store.ObjectQuery) (string, []any, error) {
	from, args, by, err := viaWhere(d, q, true)
	if err != nil {
		return "", nil, err
	}
	// The links' own index orders them by (owner or parent, id); naming its
	// column first lets the planner see that it needs no sort.
	order := ` ORDER BY ` + by + `, l.id`
	if q.OrderBy != nil {
		if order, err = (jsonExpr{pg: d.Name == "postgres", table: "o"}).order(q.OrderBy, q.IDDesc); err != nil {
			return "", nil, err
		}
	}
	page, pargs := pageClause(q)
	return `SELECT ` + viaCols + from + order + page, append(args, pargs...), nil
}

// viaCountQuery is the SELECT that CountObjects runs for q with a Via.
func viaCountQuery(d *Dialect, q store.ObjectQuery) (string, []any, error) {
	from, args, _, err := viaWhere(d, q, false)
	if err != nil {
		return "", nil, err
	}
	return `SELECT COUNT(*)` + from, args, nil
}

// placeholders is n '?' placeholders separated by commas.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
