package sqlstore

import (
	"cmp"
	"errors"
	"math"
	"strings"

	"github.com/graphhook/graphhook/internal/store"
)

// A listing through links (store.Via) reads the links from their owner's or parent's
// index, in its order, and joins each to the object it points at by that object's
// primary key: a page of a group's members costs the page (and the links to objects
// it does not select), not the group, and the live objects are counted by the
// database. The join is written as a CROSS JOIN, which SQLite takes as the order of
// its loops (the links outside, each object looked up) and PostgreSQL plans as any
// inner join. The statement names the link l and the object o.

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
	if v.KindProp == "" && q.Kind == "" {
		return "", nil, "", errors.New("sqlstore: a Via needs the objects' kind or a link property that names it")
	}
	if q.BySort {
		return "", nil, "", errors.New("sqlstore: a Via lists in its links' order or by OrderBy, not by sort key")
	}
	j := jsonExpr{pg: d.Name == "postgres", table: "o"}
	index, by, target := "objects_owner", "l.owner", "l.parent"
	if v.Parent != "" {
		index, by, target = "objects_parent", "l.parent", "l.owner"
	}
	where := []string{"l.tenant = ?", "l.kind = ?", by + " = ?", "l.deleted = 0", "o.tenant = l.tenant"}
	args := []any{q.Tenant, v.Kind, cmp.Or(v.Owner, v.Parent)}
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if v.KindProp != "" {
		if err := checkPath(v.KindProp); err != nil {
			return "", nil, "", err
		}
		// The kind is compared as the column's own text (no COLLATE, unlike
		// jsonExpr.raw) so that the object is still found by its primary key.
		kind := `json_extract(l.data, '$.` + strings.ReplaceAll(v.KindProp, "/", ".") + `')`
		if j.pg {
			kind = `(graphhook_doc(l.data) #>> '{` + strings.ReplaceAll(v.KindProp, "/", ",") + `}')`
		}
		where = append(where, "o.kind = "+kind)
	}
	if q.Kind != "" {
		add("o.kind = ?", q.Kind)
	}
	where = append(where, "o.id = "+target)
	if q.Owner != "" {
		add("o.owner = ?", q.Owner)
	}
	if q.Parent != "" {
		add("o.parent = ?", q.Parent)
	}
	if q.Alt != "" {
		add("o.alt = ?", q.Alt)
	}
	add("o.deleted = ?", boolInt(q.Deleted))
	if paging && q.AfterID != "" && q.OrderBy == nil {
		add("l.id > ?", q.AfterID)
	}
	if q.Where != nil {
		c, err := j.cond(*q.Where, false, &args)
		if err != nil {
			return "", nil, "", err
		}
		where = append(where, c)
	}
	return ` FROM objects l` + d.index(index) + ` CROSS JOIN objects o WHERE ` + strings.Join(where, " AND "), args, by, nil
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
	query := `SELECT ` + viaCols + from + order
	if q.Limit > 0 || q.Offset > 0 {
		query += ` LIMIT ?`
		args = append(args, cmp.Or(q.Limit, math.MaxInt32))
	}
	if q.Offset > 0 {
		query += ` OFFSET ?`
		args = append(args, q.Offset)
	}
	return query, args, nil
}

// viaCountQuery is the SELECT that CountObjects runs for q with a Via.
func viaCountQuery(d *Dialect, q store.ObjectQuery) (string, []any, error) {
	from, args, _, err := viaWhere(d, q, false)
	if err != nil {
		return "", nil, err
	}
	return `SELECT COUNT(*)` + from, args, nil
}
