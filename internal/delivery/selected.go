package delivery

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
)

// selectedProperties returns the $select list of s's resource (nil when it has
// none): Outlook's rich notifications carry only those properties ("Change
// notifications for Outlook resources").
func selectedProperties(s *store.Subscription) []string {
	var d struct {
		Resource string `json:"resource"`
	}
	if err := json.Unmarshal(s.Data, &d); err != nil {
		return nil
	}
	_, query, ok := strings.Cut(d.Resource, "?")
	if !ok {
		return nil
	}
	// The subscriptions API read the query the same way: names with or without
	// '$', any case; values percent-decoded.
	for part := range strings.SplitSeq(query, "&") {
		name, value, _ := strings.Cut(part, "=")
		if n, err := url.PathUnescape(name); err == nil {
			name = n
		}
		if !strings.EqualFold(strings.TrimPrefix(name, "$"), "select") {
			continue
		}
		if v, err := url.PathUnescape(value); err == nil {
			value = v
		}
		fields, err := odata.ParseSelect(value)
		if err != nil {
			return nil
		}
		return fields
	}
	return nil
}

// project keeps the selected properties of a JSON object (names compared
// case-insensitively, written as the item names them); doc is returned unchanged
// when it is not an object.
func project(doc []byte, fields []string) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return doc
	}
	out := make(map[string]json.RawMessage, len(fields))
	for k, v := range m {
		for _, f := range fields {
			if strings.EqualFold(k, f) {
				out[k] = v
				break
			}
		}
	}
	data, err := json.Marshal(out)
	if err != nil {
		return doc
	}
	return data
}
