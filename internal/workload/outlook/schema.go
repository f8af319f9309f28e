package outlook

import (
	"encoding/json"
	"math"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
)

// A rule checks and normalises the value a client sent for one property. It returns
// an ErrorInvalidProperty error naming the property when the value has the wrong shape.
type rule func(name string, v any) (any, error)

// schema is the writable properties of one resource type, and the read-only ones a
// client may name only to be told they cannot be set.
type schema struct {
	typeName string // Exchange's type, for error messages
	writable map[string]rule
	readOnly []string
}

// apply checks body against the schema and copies its values into doc. Property names
// match ignoring case (as Graph's deserializer does) and are stored in Graph's spelling.
// allowed, when not nil, further limits which writable properties may be set.
func (s schema) apply(doc, body map[string]any, allowed func(name string) error) error {
	names := make([]string, 0, len(body))
	for k := range body {
		names = append(names, k)
	}
	slices.Sort(names) // report the first bad property deterministically
	for _, k := range names {
		name, r := s.lookup(k)
		if r == nil {
			for _, ro := range s.readOnly {
				if strings.EqualFold(ro, k) {
					return graph.ExchangeInvalidProperty("The property '%s' is read-only and cannot be set.", ro)
				}
			}
			return graph.ExchangeInvalidProperty("The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type.", k, s.typeName)
		}
		if allowed != nil {
			if err := allowed(name); err != nil {
				return err
			}
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
	if r, ok := s.writable[k]; ok {
		return k, r
	}
	for name, r := range s.writable {
		if strings.EqualFold(name, k) {
			return name, r
		}
	}
	return "", nil
}

func badValue(name, want string) error {
	return graph.ExchangeInvalidProperty("Invalid value for property '%s': %s is expected.", name, want)
}

// str accepts a string or null.
func str(name string, v any) (any, error) {
	switch v.(type) {
	case nil, string:
		return v, nil
	}
	return nil, badValue(name, "a string")
}

// requiredStr accepts a non-empty string.
func requiredStr(name string, v any) (any, error) {
	if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
		return s, nil
	}
	return nil, badValue(name, "a non-empty string")
}

func boolean(name string, v any) (any, error) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return nil, badValue(name, "a Boolean")
}

// integer accepts a whole number within int32, as Graph's Int32 properties.
func integer(name string, v any) (any, error) {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil && i >= math.MinInt32 && i <= math.MaxInt32 {
			return i, nil
		}
	}
	return nil, badValue(name, "an Int32 number")
}

// enum accepts one of values, ignoring case, and stores Graph's spelling.
func enum(values ...string) rule {
	return func(name string, v any) (any, error) {
		if s, ok := v.(string); ok {
			for _, e := range values {
				if strings.EqualFold(e, s) {
					return e, nil
				}
			}
		}
		return nil, badValue(name, "one of '"+strings.Join(values, "', '")+"'")
	}
}

// strList accepts an array of strings (null reads as empty).
func strList(name string, v any) (any, error) {
	if v == nil {
		return []any{}, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, badValue(name, "an array of strings")
	}
	for _, e := range arr {
		if _, ok := e.(string); !ok {
			return nil, badValue(name, "an array of strings")
		}
	}
	return arr, nil
}

// object checks a nested object against its own schema and returns a copy holding
// only the known properties, missing ones filled from defaults.
func object(typeName string, fields map[string]rule, defaults map[string]any) rule {
	inner := schema{typeName: typeName, writable: fields}
	return func(name string, v any) (any, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, badValue(name, "an object of type '"+typeName+"'")
		}
		out := map[string]any{}
		for k, d := range defaults {
			out[k] = d
		}
		if err := inner.apply(out, m, nil); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// nullable lets a rule also accept null.
func nullable(r rule) rule {
	return func(name string, v any) (any, error) {
		if v == nil {
			return nil, nil
		}
		return r(name, v)
	}
}

// list applies r to each element of an array.
func list(r rule) rule {
	return func(name string, v any) (any, error) {
		if v == nil {
			return []any{}, nil
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, badValue(name, "an array")
		}
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			x, err := r(name, e)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	}
}

// address accepts an SMTP address: something@domain, no spaces.
func address(name string, v any) (any, error) {
	s, ok := v.(string)
	at := strings.IndexByte(s, '@')
	if !ok || at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n<>") {
		return nil, graph.ExchangeInvalidProperty("Invalid value for property '%s': '%v' is not a valid SMTP address.", name, v)
	}
	return s, nil
}

var emailAddress = object("Microsoft.OutlookServices.EmailAddress", map[string]rule{
	"name":    str,
	"address": address,
}, map[string]any{"name": nil})

// recipient is {"emailAddress": {"name", "address"}}; the address is required, and a
// missing name becomes the address, as Exchange resolves it.
func recipient(name string, v any) (any, error) {
	r, err := object("Microsoft.OutlookServices.Recipient", map[string]rule{"emailAddress": emailAddress}, nil)(name, v)
	if err != nil {
		return nil, err
	}
	m := r.(map[string]any)
	ea, _ := m["emailAddress"].(map[string]any)
	if ea == nil || ea["address"] == nil {
		return nil, graph.ExchangeInvalidProperty("Invalid value for property '%s': a recipient needs emailAddress/address.", name)
	}
	if ea["name"] == nil {
		ea["name"] = ea["address"]
	}
	return m, nil
}

var recipients = list(recipient)

var itemBody = object("Microsoft.OutlookServices.ItemBody", map[string]rule{
	"contentType": enum("text", "html"),
	"content":     str,
}, map[string]any{"contentType": "text", "content": ""})

var followupFlag = object("Microsoft.OutlookServices.FollowupFlag", map[string]rule{
	"flagStatus":        enum("notFlagged", "complete", "flagged"),
	"startDateTime":     nullable(dateTimeTimeZone),
	"dueDateTime":       nullable(dateTimeTimeZone),
	"completedDateTime": nullable(dateTimeTimeZone),
}, map[string]any{"flagStatus": "notFlagged"})

var physicalAddress = object("Microsoft.OutlookServices.PhysicalAddress", map[string]rule{
	"street": str, "city": str, "state": str, "countryOrRegion": str, "postalCode": str,
}, nil)

// dateTimeTimeZone checks {"dateTime": "...", "timeZone": "..."} and normalises it to
// UTC with seven fractional digits, the form Graph returns by default.
func dateTimeTimeZone(name string, v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badValue(name, "an object of type 'Microsoft.OutlookServices.DateTimeTimeZone'")
	}
	t, _, err := parseDateTimeTimeZone(m)
	if err != nil {
		return nil, graph.ExchangeInvalidProperty("Invalid value for property '%s': %v.", name, err)
	}
	return map[string]any{"dateTime": t.UTC().Format(localLayout), "timeZone": "UTC"}, nil
}

// dateTimeOffset accepts an RFC 3339 time and stores it in Graph's form.
func dateTimeOffset(name string, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, badValue(name, "a DateTimeOffset string")
	}
	t, err := graph.ParseTime(s)
	if err != nil {
		return nil, badValue(name, "a DateTimeOffset string")
	}
	return t.Format("2006-01-02T15:04:05Z"), nil
}
