package odata

import (
	"cmp"
	"slices"
	"strings"
)

// OrderKey is one item of $orderby.
type OrderKey struct {
	// Property is a property path, '/'-separated, as the client spelled it.
	Property string
	// Desc is true for "desc"; the default is ascending.
	Desc bool
}

// ParseOrderBy parses a $orderby value: comma-separated items of the form
// "property [asc|desc]", where property may be a path such as from/emailAddress/name
// and asc/desc are matched ignoring case.
func ParseOrderBy(s string) ([]OrderKey, error) {
	if strings.TrimSpace(s) == "" {
		return nil, orderByError("the list of properties is empty")
	}
	var keys []OrderKey
	for item := range strings.SplitSeq(s, ",") {
		words := strings.Fields(item)
		if len(words) == 0 {
			return nil, orderByError("empty item in '%s'", s)
		}
		if len(words) > 2 {
			return nil, orderByError("unexpected '%s' after '%s %s'", words[2], words[0], words[1])
		}
		key := OrderKey{Property: words[0]}
		if !isPath(key.Property) {
			return nil, orderByError("'%s' is not a valid property path", key.Property)
		}
		if len(words) == 2 {
			switch {
			case strings.EqualFold(words[1], "desc"):
				key.Desc = true
			case strings.EqualFold(words[1], "asc"):
			default:
				return nil, orderByError("'%s' is not a sort direction; use asc or desc", words[1])
			}
		}
		keys = append(keys, key)
	}
	return keys, nil
}

func orderByError(format string, args ...any) *Error {
	return optionError("$orderby", "Invalid $orderby clause: ", format, args...)
}

func isPath(s string) bool {
	for seg := range strings.SplitSeq(s, "/") {
		if !isIdentifier(seg) {
			return false
		}
	}
	return true
}

// SortDocs sorts docs in place by keys, stably, so documents that tie on every key
// keep their order (callers put a unique key such as id last for a total order).
// Property names are matched ignoring case. Within one property, strings compare
// ignoring case, numbers numerically, booleans false first, and strings that are
// RFC 3339 times (or plain dates) as instants. Values of different kinds sort as
// null < boolean < number < time < string < object or array, so nulls and missing
// properties come first in ascending order and last in descending order.
func SortDocs(docs []map[string]any, keys []OrderKey) {
	if len(keys) == 0 || len(docs) < 2 {
		return
	}
	paths := make([]path, len(keys))
	for i, k := range keys {
		paths[i] = path{scope: -1, segs: strings.Split(k.Property, "/")}
	}
	// Extract every sort value once, rather than on each of the n log n comparisons.
	type row struct {
		doc  map[string]any
		vals []value
	}
	vals := make([]value, len(docs)*len(keys))
	rows := make([]row, len(docs))
	for i, doc := range docs {
		rows[i] = row{doc: doc, vals: vals[i*len(keys) : (i+1)*len(keys)]}
		for j := range paths {
			rows[i].vals[j] = sortValue(paths[j].resolve(doc, nil))
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		for j, k := range keys {
			c := orderValues(a.vals[j], b.vals[j])
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	for i := range rows {
		docs[i] = rows[i].doc
	}
}

// sortValue is valueOf, with time strings turned into instants.
func sortValue(v any) value {
	val := valueOf(v)
	if val.kind == kindString {
		if t, ok := parseTime(val.s); ok {
			return value{kind: kindTime, t: t}
		}
	}
	return val
}

// orderValues is a total order over values: by kind first, then within the kind.
func orderValues(a, b value) int {
	if a.kind != b.kind {
		return cmp.Compare(a.kind, b.kind)
	}
	c, _ := compare(a, b)
	return c
}
