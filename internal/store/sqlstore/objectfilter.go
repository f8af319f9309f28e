package sqlstore

import (
	"fmt"
	"strings"

	"github.com/graphhook/graphhook/internal/store"
)

// Conditions and orders on an object's JSON data (store.Cond, store.OrderKey) become
// SQL over the data column: json_extract on SQLite, jsonb operators on PostgreSQL
// (through graphhook_doc, an IMMUTABLE reading of the bytea column, so that
// expressions over it can be indexed). Every comparison is made two-valued (a
// missing property makes a condition false, never NULL), so NOT means what
// store.Cond says it does; text is compared in byte order on both backends
// (COLLATE "C" on PostgreSQL, whatever the database's collation).
//
// The expressions are spelled exactly as migration 010's indexes spell them: a
// planner matches an expression index by its text.

// jsonExpr writes the SQL that reads properties of the data column.
type jsonExpr struct {
	pg bool
	// table qualifies the data column in a join ("o" for o.data); "" leaves it bare,
	// as the indexes spell it.
	table string
}

// col is the named column, qualified when the statement joins.
func (j jsonExpr) col(name string) string {
	if j.table != "" {
		return j.table + "." + name
	}
	return name
}

// data is the data column.
func (j jsonExpr) data() string { return j.col("data") }

// raw is the property's value as text (SQL NULL when absent or JSON null).
func (j jsonExpr) raw(p store.Prop) string {
	segs := strings.Split(p.Path, "/")
	if j.pg {
		return `((graphhook_doc(` + j.data() + `) #>> '{` + strings.Join(segs, ",") + `}') COLLATE "C")`
	}
	return `json_extract(` + j.data() + `, '$.` + strings.Join(segs, ".") + `')`
}

// value is the property's jsonb value on PostgreSQL (SQL NULL when absent).
func (j jsonExpr) value(p store.Prop) string {
	return `(graphhook_doc(` + j.data() + `) #> '{` + strings.Join(strings.Split(p.Path, "/"), ",") + `}')`
}

// typ is the property's JSON type: on SQLite json_type's names ('text', 'true',
// 'false', 'null', …), on PostgreSQL jsonb_typeof's ('string', 'boolean', …);
// SQL NULL when absent.
func (j jsonExpr) typ(p store.Prop) string {
	segs := strings.Split(p.Path, "/")
	if j.pg {
		return `jsonb_typeof(graphhook_doc(` + j.data() + `) #> '{` + strings.Join(segs, ",") + `}')`
	}
	return `json_type(` + j.data() + `, '$.` + strings.Join(segs, ".") + `')`
}

// fold is raw with store.Fold applied (lower() folds ASCII only on both backends
// under byte collation; the two non-ASCII letters that fold to ASCII are replaced
// first).
func (j jsonExpr) fold(p store.Prop) string {
	return "lower(replace(replace(" + j.raw(p) + ", '\u212a', 'k'), '\u017f', 's'))"
}

// isString is true when the property holds a JSON string.
func (j jsonExpr) isString(p store.Prop) string {
	if j.pg {
		return j.typ(p) + ` = 'string'`
	}
	return j.typ(p) + ` = 'text'`
}

// isBool is true when the property holds the JSON boolean b. On PostgreSQL one
// jsonb comparison says it, reading the document once (migration 018's indexes
// spell it so); it is NULL when the property is absent.
func (j jsonExpr) isBool(p store.Prop, b bool) string {
	if j.pg {
		return fmt.Sprintf(`(%s = '%t'::jsonb)`, j.value(p), b)
	}
	return fmt.Sprintf(`%s = '%t'`, j.typ(p), b)
}

// isNull is true when the property is JSON null or absent.
func (j jsonExpr) isNull(p store.Prop) string {
	return `(` + j.typ(p) + ` IS NULL OR ` + j.typ(p) + ` = 'null')`
}

// unplain is true when the property holds a string that store.Plain rejects.
func (j jsonExpr) unplain(p store.Prop) string {
	v := j.raw(p)
	nonASCII := v + ` GLOB '*[^ -~]*'`
	if j.pg {
		nonASCII = v + ` ~ '[^ -~]'`
	}
	return `(` + nonASCII + ` OR (substr(` + v + `, 5, 1) = '-' AND substr(` + v + `, 8, 1) = '-'))`
}

// cond translates c into a two-valued SQL condition with '?' placeholders. neg
// asks for the negation (NOT is pushed down to the leaves, each of which has an
// exact negated form).
func (j jsonExpr) cond(c store.Cond, neg bool, args *[]any) (string, error) {
	if c.Op > store.CondOr && c.Op != store.CondNot {
		if err := checkPath(c.Prop.Path); err != nil {
			return "", err
		}
	}
	switch c.Op {
	case store.CondAnd, store.CondOr:
		if len(c.Sub) == 0 {
			if (c.Op == store.CondAnd) != neg {
				return "1 = 1", nil
			}
			return "1 = 0", nil
		}
		join := " AND "
		if (c.Op == store.CondOr) != neg {
			join = " OR "
		}
		parts := make([]string, 0, len(c.Sub))
		for _, s := range c.Sub {
			p, err := j.cond(s, neg, args)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return "(" + strings.Join(parts, join) + ")", nil
	case store.CondNot:
		if len(c.Sub) != 1 {
			return "", fmt.Errorf("sqlstore: NOT takes one condition, not %d", len(c.Sub))
		}
		return j.cond(c.Sub[0], !neg, args)
	case store.CondEq:
		return j.eq(c.Prop, c.Value, neg, args)
	case store.CondIn:
		if len(c.Values) == 0 {
			return j.cond(store.Cond{Op: store.CondOr}, neg, args)
		}
		sub := make([]store.Cond, len(c.Values))
		for i, v := range c.Values {
			sub[i] = store.Cond{Op: store.CondEq, Prop: c.Prop, Value: v}
		}
		return j.cond(store.Cond{Op: store.CondOr, Sub: sub}, neg, args)
	case store.CondPrefix:
		s, ok := c.Value.(string)
		if !ok {
			return "", fmt.Errorf("sqlstore: a prefix must be a string, not %T", c.Value)
		}
		s = store.Fold(s)
		*args = append(*args, s)
		pos := fmt.Sprintf(`(%s AND substr(%s, 1, %d) = ?)`, j.isString(c.Prop), j.fold(c.Prop), len([]rune(s)))
		if neg {
			return `NOT ` + j.nonNull(pos, c.Prop), nil
		}
		return pos, nil
	case store.CondLt, store.CondLe, store.CondGt, store.CondGe:
		s, ok := c.Value.(string)
		if !ok {
			return "", fmt.Errorf("sqlstore: a comparison needs a string, not %T", c.Value)
		}
		op := map[store.CondOp]string{store.CondLt: "<", store.CondLe: "<=", store.CondGt: ">", store.CondGe: ">="}[c.Op]
		*args = append(*args, s)
		pos := fmt.Sprintf(`(%s AND %s %s ?)`, j.isString(c.Prop), j.raw(c.Prop), op)
		if neg {
			return `NOT ` + j.nonNull(pos, c.Prop), nil
		}
		return pos, nil
	case store.CondUnplain:
		pos := `(` + j.isString(c.Prop) + ` AND ` + j.unplain(c.Prop) + `)`
		if neg {
			return `NOT ` + j.nonNull(pos, c.Prop), nil
		}
		return pos, nil
	}
	return "", fmt.Errorf("sqlstore: unknown condition operator %d", c.Op)
}

// checkPath refuses a property path that is not identifiers joined by '/': paths
// are written into the statement's text (a JSON path cannot be a parameter of an
// indexed expression).
func checkPath(path string) error {
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "" {
			return fmt.Errorf("sqlstore: property path %q has an empty name", path)
		}
		for _, r := range seg {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_') {
				return fmt.Errorf("sqlstore: property path %q is not made of identifiers", path)
			}
		}
	}
	return nil
}

// nonNull makes a condition that starts with a type test two-valued: the type is NULL
// (absent property), and so may the whole condition be, when the property is absent;
// COALESCE makes that false.
func (j jsonExpr) nonNull(cond string, _ store.Prop) string {
	if j.pg {
		return `COALESCE(` + cond + `, FALSE)`
	}
	return `COALESCE(` + cond + `, 0)`
}

// eq is CondEq, or with neg its negation.
func (j jsonExpr) eq(p store.Prop, v any, neg bool, args *[]any) (string, error) {
	var pos string
	switch v := v.(type) {
	case nil:
		if neg {
			return `(` + j.typ(p) + ` IS NOT NULL AND ` + j.typ(p) + ` <> 'null')`, nil
		}
		return j.isNull(p), nil
	case bool:
		pos = j.isBool(p, v)
	case string:
		*args = append(*args, store.Fold(v))
		// The folded comparison comes first so that it is seen as the index's term.
		pos = `(` + j.fold(p) + ` = ? AND ` + j.isString(p) + `)`
	default:
		return "", fmt.Errorf("sqlstore: cannot compare with %T", v)
	}
	if neg {
		return `NOT ` + j.nonNull(pos, p), nil
	}
	return pos, nil
}

// order is the ORDER BY of a listing by data properties, ties by id. Nulls come
// first ascending and last descending on both backends (SQLite's default;
// PostgreSQL's is the other way round, so it is spelled out).
func (j jsonExpr) order(keys []store.OrderKey, idDesc bool) (string, error) {
	parts := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		if err := checkPath(k.Prop.Path); err != nil {
			return "", err
		}
		e := j.fold(k.Prop)
		if k.Prop.Type == store.PropTime {
			e = j.raw(k.Prop)
		}
		switch {
		case k.Desc && j.pg:
			e += " DESC NULLS LAST"
		case k.Desc:
			e += " DESC"
		case j.pg:
			e += " NULLS FIRST"
		}
		parts = append(parts, e)
	}
	id := j.col("id")
	if idDesc {
		id += " DESC"
	}
	return " ORDER BY " + strings.Join(append(parts, id), ", "), nil
}

// dataWhere adds q's condition on the data to a WHERE clause.
func dataWhere(d *Dialect, q store.ObjectQuery, where string, args []any) (string, []any, error) {
	if q.Where == nil {
		return where, args, nil
	}
	c, err := jsonExpr{pg: d.Name == "postgres"}.cond(*q.Where, false, &args)
	if err != nil {
		return "", nil, err
	}
	return where + " AND " + c, args, nil
}

// kindLiteral is kind = '<kind>' with the kind written into the statement: the
// partial indexes of migration 010 name their kind, and a planner can use one only
// when the statement's own condition shows the same constant (a bound parameter
// does not).
func kindLiteral(kind string) (string, bool) {
	for _, r := range kind {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '.') {
			return "", false
		}
	}
	return "kind = '" + kind + "'", kind != ""
}

// dataIndexes names migration 010's, 012's and 015's indexes by the kind and property
// they order (and " parent" for an index of a parent's objects): a listing ordered
// by one of them reads it (SQLite is told to, see Dialect.IndexHints) and so costs
// its page.
var dataIndexes = map[string]string{
	"conversation/lastDeliveredDateTime":  "objects_conversation_delivered",
	"thread/lastDeliveredDateTime":        "objects_thread_delivered",
	"thread/lastDeliveredDateTime parent": "objects_thread_parent_delivered",
	"post/receivedDateTime parent":        "objects_post_received",
	"user/displayName":                    "objects_user_displayname",
	"user/userPrincipalName":              "objects_user_upn",
	"user/mail":                           "objects_user_mail",
	"group/displayName":                   "objects_group_displayname",
	"event/start/dateTime":                "objects_event_start",
	"contact/displayName":                 "objects_contact_displayname",
	"alert/createdDateTime":               "objects_alert_created",
	"driveItem/name parent":               "objects_driveitem_name",
}

// unplainIndexes names migration 010's, 012's and 015's indexes of the objects whose property is not
// plain (store.CondUnplain), by kind and property.
var unplainIndexes = map[string]string{
	"list/list/displayName":  "objects_list_name_unplain",
	"user/displayName":       "objects_user_displayname_unplain",
	"user/userPrincipalName": "objects_user_upn_unplain",
	"group/displayName":      "objects_group_displayname_unplain",
	"contact/displayName":    "objects_contact_displayname_unplain",
	"driveItem/name":         "objects_driveitem_name_unplain",
}

// falseIndexes name migration 016's (018's) partial indexes of the objects whose boolean
// property is false, in sort-key order, by kind and property (and " parent" for an
// index of a parent's objects): a listing or a count filtered on that property
// being false reads only those objects.
var falseIndexes = map[string]string{
	"message/isRead":        "objects_message_unread",
	"message/isRead parent": "objects_message_unread_parent",
}

// countIndexes name, by kind, a partial index of migration 010 that holds every
// object of the kind under (tenant[, owner], deleted): a count of a kind's objects
// reads it alone, not the table's rows.
var countIndexes = map[string]string{
	"user":    "objects_user_displayname",
	"group":   "objects_group_displayname",
	"event":   "objects_event_start",
	"contact": "objects_contact_displayname",
	"alert":   "objects_alert_created",
}

// countIndex is the index CountObjects reads for q when q's condition names none:
// the kind's count index, if q selects by nothing that index lacks.
func countIndex(q store.ObjectQuery) string {
	if q.Where != nil || q.Parent != "" || q.Alt != "" {
		return ""
	}
	return countIndexes[q.Kind]
}

// whereIndex is the index of an equality on a string property that q's condition
// requires ("" if none): it finds the few objects that can match, where a planner
// without statistics (a fresh SQLite file) would rather read the kind in id order.
func whereIndex(q store.ObjectQuery) string {
	if _, ok := kindLiteral(q.Kind); q.Where == nil || !ok {
		return "" // the partial indexes need the kind as a constant (see kindLiteral)
	}
	terms := []store.Cond{*q.Where}
	if q.Where.Op == store.CondAnd {
		terms = q.Where.Sub
	}
	for _, c := range terms {
		if name, ok := unplainIndexes[q.Kind+"/"+c.Prop.Path]; ok && c.Op == store.CondUnplain {
			return name
		}
		if v, ok := c.Value.(bool); ok && !v && c.Op == store.CondEq {
			key := q.Kind + "/" + c.Prop.Path
			if q.Parent != "" {
				key += " parent"
			}
			if name, ok := falseIndexes[key]; ok {
				return name
			}
		}
		if _, ok := c.Value.(string); ok && c.Op == store.CondEq && c.Prop.Type == store.PropString {
			if name, ok := dataIndexes[q.Kind+"/"+c.Prop.Path]; ok {
				return name
			}
		}
	}
	return ""
}

// dataOrder is the ORDER BY of a listing by data properties and the index it reads
// (the listing's own index when no expression index gives the order).
func dataOrder(d *Dialect, q store.ObjectQuery, index string) (string, string, error) {
	_, lit := kindLiteral(q.Kind)
	key := q.Kind + "/" + q.OrderBy[0].Prop.Path
	name, ok := dataIndexes[key]
	if q.Parent != "" {
		if byParent, found := dataIndexes[key+" parent"]; found {
			name, ok = byParent, true
		}
	}
	if ok && lit && whereIndex(q) == "" {
		index = name
	}
	order, err := jsonExpr{pg: d.Name == "postgres"}.order(q.OrderBy, q.IDDesc)
	return order, index, err
}
