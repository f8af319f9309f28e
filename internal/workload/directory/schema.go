package directory

import (
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/odata"
)

// propType is the JSON type a property takes on the wire.
type propType int

const (
	typeString propType = iota
	typeBool
	typeStrings // a collection of strings
	typeObject  // a complex value, validated by its handler
)

// prop is one property of a directory resource.
type prop struct {
	name string
	typ  propType
	// readOnly properties are set by the service; a body that sets them is refused.
	readOnly bool
	// writeOnly properties (passwordProfile) are accepted but never stored or shown.
	writeOnly bool
	// max bounds a string's length in characters or a collection's number of items;
	// 0 means no bound.
	max int
	// filter marks properties $filter and $orderby may name.
	filter, order bool
}

// schema is the property set of one resource type.
type schema struct {
	resource string // "User" or "Group", as Entra's messages name it
	odata    string // microsoft.graph.user
	props    []prop
}

// Entra's documented length limits are the bounds below; businessPhones takes one
// number only.
var userSchema = &schema{resource: resourceUser, odata: "microsoft.graph.user", props: []prop{
	{name: "id", readOnly: true, filter: true},
	{name: "displayName", max: 256, filter: true, order: true},
	{name: "givenName", max: 64, filter: true},
	{name: "surname", max: 64, filter: true},
	{name: "mail", max: 256, filter: true},
	{name: "mailNickname", max: 64, filter: true},
	{name: "userPrincipalName", max: 113, filter: true, order: true},
	{name: "jobTitle", max: 128, filter: true},
	{name: "department", max: 64, filter: true},
	{name: "officeLocation", max: 128, filter: true},
	{name: "mobilePhone", max: 64, filter: true},
	{name: "businessPhones", typ: typeStrings, max: 1, filter: true},
	{name: "preferredLanguage", max: 64, filter: true},
	{name: "usageLocation", max: 2, filter: true},
	{name: "companyName", max: 64, filter: true},
	{name: "employeeId", max: 16, filter: true},
	{name: "accountEnabled", typ: typeBool, filter: true},
	{name: "createdDateTime", readOnly: true, filter: true},
	{name: "passwordProfile", typ: typeObject, writeOnly: true},
}}

var groupSchema = &schema{resource: resourceGroup, odata: "microsoft.graph.group", props: []prop{
	{name: "id", readOnly: true, filter: true},
	{name: "displayName", max: 256, filter: true, order: true},
	{name: "description", max: 1024, filter: true},
	{name: "mailNickname", max: 64, filter: true},
	{name: "mail", readOnly: true, filter: true},
	{name: "groupTypes", typ: typeStrings, filter: true},
	{name: "mailEnabled", typ: typeBool, filter: true},
	{name: "securityEnabled", typ: typeBool, filter: true},
	{name: "visibility", filter: true},
	{name: "createdDateTime", readOnly: true, filter: true},
	{name: "deletedDateTime", readOnly: true},
}}

// lookup finds a property by name ignoring case, as Entra matches them.
func (s *schema) lookup(name string) *prop {
	for i := range s.props {
		if strings.EqualFold(s.props[i].name, name) {
			return &s.props[i]
		}
	}
	return nil
}

func (s *schema) invalid(name string) error {
	return badRequest("Invalid value specified for property '%s' of resource '%s'.", name, s.resource)
}

// decode checks a request body against the schema and returns it keyed by the
// properties' own spelling. Instance annotations must be gone already. Keys are
// checked in sorted order so that the error a body earns does not depend on map order.
func (s *schema) decode(body map[string]any) (map[string]any, error) {
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string]any, len(body))
	for _, k := range keys {
		v := body[k]
		p := s.lookup(k)
		if p == nil {
			return nil, badRequest("Property '%s' does not exist as a declared property or extension property.", k)
		}
		if p.readOnly {
			return nil, badRequest("Property '%s' is read-only and cannot be set.", p.name)
		}
		if !p.valid(v) {
			return nil, s.invalid(p.name)
		}
		if list, ok := v.([]any); ok {
			strs := make([]any, len(list))
			copy(strs, list)
			v = strs
		}
		out[p.name] = v
	}
	return out, nil
}

// valid reports whether v has the property's type and fits its bound. null clears a
// string property; booleans and collections cannot be null.
func (p *prop) valid(v any) bool {
	switch p.typ {
	case typeString:
		if v == nil {
			return true
		}
		s, ok := v.(string)
		return ok && (p.max == 0 || utf8.RuneCountInString(s) <= p.max)
	case typeBool:
		_, ok := v.(bool)
		return ok
	case typeStrings:
		list, ok := v.([]any)
		if !ok || (p.max > 0 && len(list) > p.max) {
			return false
		}
		for _, e := range list {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	case typeObject:
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

// require checks that each named property is present with a non-empty value.
func (s *schema) require(doc map[string]any, names ...string) error {
	for _, n := range names {
		switch v := doc[n].(type) {
		case nil:
			return s.invalid(n)
		case string:
			if strings.TrimSpace(v) == "" {
				return s.invalid(n)
			}
		}
	}
	return nil
}

// view is the API representation of a stored document: every readable property of
// the schema, unset ones null (empty for collections), so that every object of a kind
// has the same shape whichever way it was created. Properties the schema does not know
// (deletedDateTime of a user) are kept.
func (s *schema) view(doc map[string]any) map[string]any {
	out := make(map[string]any, len(s.props)+1)
	for k, v := range doc {
		out[k] = v
	}
	for _, p := range s.props {
		if p.writeOnly {
			delete(out, p.name)
			continue
		}
		if v, ok := out[p.name]; !ok || v == nil {
			if p.typ == typeStrings {
				out[p.name] = []any{}
			} else if !ok {
				out[p.name] = nil
			}
		}
	}
	return out
}

// parseSelect reads $select and checks every name against the schema: Entra refuses
// properties it does not know instead of ignoring them.
func (s *schema) parseSelect(raw string) ([]string, error) {
	if raw == "" {
		return nil, nil
	}
	fields, err := odata.ParseSelect(raw)
	if err != nil {
		return nil, optionError(err)
	}
	for i, f := range fields {
		p := s.lookup(f)
		if p == nil || p.writeOnly {
			if strings.EqualFold(f, "members") && s == groupSchema {
				fields[i] = "members"
				continue
			}
			return nil, graph.Errorf(http.StatusBadRequest, codeBadRequest, "Could not find a property named '%s' on type '%s'.", f, s.odata)
		}
		fields[i] = p.name
	}
	return fields, nil
}
