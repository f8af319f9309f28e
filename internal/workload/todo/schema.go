package todo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
)

// A rule checks the value a client sent for one property and returns it as stored,
// or Graph's 400 naming the property.
type rule func(name string, v any) (any, error)

// schema is the writable properties of one To Do type and the read-only ones a
// client may name only to be refused.
type schema struct {
	typeName string // the OData type, for error messages
	writable map[string]rule
	readOnly []string
}

// apply checks body against the schema and copies its values into doc. Names match
// ignoring case, as Graph's deserializer does, and are stored in Graph's spelling.
func (s schema) apply(doc, body map[string]any) error {
	names := make([]string, 0, len(body))
	for k := range body {
		names = append(names, k)
	}
	slices.Sort(names) // report the first bad property deterministically
	for _, k := range names {
		name, r := s.lookup(k)
		if r == nil {
			if i := slices.IndexFunc(s.readOnly, func(ro string) bool { return strings.EqualFold(ro, k) }); i >= 0 {
				return graph.BadRequest("The property '%s' is read-only and cannot be set.", s.readOnly[i])
			}
			return graph.BadRequest("The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", k, s.typeName)
		}
		v, err := r(name, body[k])
		if err != nil {
			return err
		}
		doc[name] = v
	}
	return nil
}

func (s schema) lookup(k string) (string, rule) {
	for name, r := range s.writable {
		if strings.EqualFold(name, k) {
			return name, r
		}
	}
	return "", nil
}

// convertError is OData's 400 for a value of the wrong type.
func convertError(v any, typ string) error {
	lit := fmt.Sprint(v)
	if v == nil {
		lit = "null"
	}
	return graph.BadRequest("Cannot convert the literal '%s' to the expected type '%s'.", lit, typ)
}

func requiredString(name string, v any) (any, error) {
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return nil, graph.BadRequest("The property '%s' must be a non-empty string.", name)
	}
	return s, nil
}

func str(_ string, v any) (any, error) {
	if _, ok := v.(string); !ok && v != nil {
		return nil, convertError(v, "Edm.String")
	}
	return v, nil
}

func boolean(_ string, v any) (any, error) {
	if _, ok := v.(bool); !ok {
		return nil, convertError(v, "Edm.Boolean")
	}
	return v, nil
}

func strList(_ string, v any) (any, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, convertError(v, "Collection(Edm.String)")
	}
	for _, e := range list {
		if _, ok := e.(string); !ok {
			return nil, convertError(e, "Edm.String")
		}
	}
	return list, nil
}

// enum accepts one of values (case-insensitively, stored as spelled here), as
// OData reads an enumeration member.
func enum(typ string, values ...string) rule {
	return func(_ string, v any) (any, error) {
		s, _ := v.(string)
		for _, want := range values {
			if strings.EqualFold(s, want) {
				return want, nil
			}
		}
		return nil, convertError(v, typ)
	}
}

// dateTimeTimeZone accepts null or {"dateTime", "timeZone"} and stores the time in
// Graph's seven-digit form.
func dateTimeTimeZone(name string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, convertError(v, "microsoft.graph.dateTimeTimeZone")
	}
	for k := range m {
		if !strings.EqualFold(k, "dateTime") && !strings.EqualFold(k, "timeZone") {
			return nil, graph.BadRequest("The property '%s' does not exist on type 'microsoft.graph.dateTimeTimeZone'. Make sure to only use property names that are defined by the type or mark the type as open type.", k)
		}
	}
	var dt, tz string
	for k, val := range m {
		s, ok := val.(string)
		if !ok {
			return nil, convertError(val, "Edm.String")
		}
		if strings.EqualFold(k, "dateTime") {
			dt = s
		} else {
			tz = s
		}
	}
	t, err := parseLocal(dt)
	if err != nil {
		return nil, graph.BadRequest("The value '%s' of property '%s' is not a valid date and time.", dt, name)
	}
	if tz == "" {
		tz = "UTC"
	}
	return map[string]any{"dateTime": t.Format(localLayout), "timeZone": tz}, nil
}

// localLayout is the dateTime of a dateTimeTimeZone as Graph writes it.
const localLayout = "2006-01-02T15:04:05.0000000"

// parseLocal reads the dateTime of a dateTimeTimeZone: a date and time without an
// offset, with or without fractional seconds (an offset or Z is tolerated).
func parseLocal(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("todo: bad dateTime %q", s)
}

// itemBody accepts {"content", "contentType"}; To Do keeps text and html bodies.
func itemBody(_ string, v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, convertError(v, "microsoft.graph.itemBody")
	}
	out := map[string]any{"content": "", "contentType": "text"}
	for k, val := range m {
		switch {
		case strings.EqualFold(k, "content"):
			s, ok := val.(string)
			if !ok && val != nil {
				return nil, convertError(val, "Edm.String")
			}
			out["content"] = s
		case strings.EqualFold(k, "contentType"):
			ct, err := enum("microsoft.graph.bodyType", "text", "html")("contentType", val)
			if err != nil {
				return nil, err
			}
			out["contentType"] = ct
		default:
			return nil, graph.BadRequest("The property '%s' does not exist on type 'microsoft.graph.itemBody'. Make sure to only use property names that are defined by the type or mark the type as open type.", k)
		}
	}
	return out, nil
}

// recurrence accepts null or a patternedRecurrence object with a pattern and a
// range; the members are kept as given.
func recurrence(_ string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, convertError(v, "microsoft.graph.patternedRecurrence")
	}
	for k, val := range m {
		if !strings.EqualFold(k, "pattern") && !strings.EqualFold(k, "range") {
			return nil, graph.BadRequest("The property '%s' does not exist on type 'microsoft.graph.patternedRecurrence'. Make sure to only use property names that are defined by the type or mark the type as open type.", k)
		}
		if _, ok := val.(map[string]any); !ok {
			return nil, convertError(val, "microsoft.graph.recurrence"+strings.ToUpper(k[:1])+strings.ToLower(k[1:]))
		}
	}
	return m, nil
}
