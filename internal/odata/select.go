package odata

import (
	"maps"
	"strings"
)

// ParseSelect parses a $select value: property names separated by commas, with
// optional spaces around each. Names are kept as the client spelled them, each once
// (compared ignoring case). Paths (a/b) and * are not supported.
func ParseSelect(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, selectError("the list of properties is empty")
	}
	var fields []string
	for item := range strings.SplitSeq(s, ",") {
		name := strings.TrimSpace(item)
		if name == "" {
			return nil, selectError("empty property name in '%s'", s)
		}
		if !isIdentifier(name) {
			return nil, selectError("'%s' is not a valid property name", name)
		}
		if !containsFoldString(fields, name) {
			fields = append(fields, name)
		}
	}
	return fields, nil
}

func selectError(format string, args ...any) *Error {
	return optionError("$select", "Invalid $select clause: ", format, args...)
}

// Select returns a new map holding the properties of doc named in fields, matched
// ignoring case and keyed by the document's own spelling. It always keeps "id" and the
// annotations Graph clients rely on: every instance annotation (a key starting with
// '@', such as @odata.type or @removed in delta responses) and the property
// annotations of kept properties (members@delta when members is kept). With no fields
// it returns a shallow copy of doc. Values are shared with doc, not copied.
func Select(doc map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return maps.Clone(doc)
	}
	out := make(map[string]any, len(fields)+2)
	for k, v := range doc {
		if keepKey(k, fields) {
			out[k] = v
		}
	}
	return out
}

func keepKey(k string, fields []string) bool {
	if strings.HasPrefix(k, "@") || strings.EqualFold(k, "id") {
		return true
	}
	if i := strings.IndexByte(k, '@'); i > 0 {
		k = k[:i]
	}
	return containsFoldString(fields, k)
}

func containsFoldString(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// isIdentifier reports whether s is an OData simple identifier as Graph's property
// names are: a letter or underscore, then letters, digits and underscores.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
