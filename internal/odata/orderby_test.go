package odata

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOrderBy(t *testing.T) {
	tests := []struct {
		in   string
		want []OrderKey
	}{
		{"receivedDateTime", []OrderKey{{Property: "receivedDateTime"}}},
		{"receivedDateTime desc", []OrderKey{{Property: "receivedDateTime", Desc: true}}},
		{"receivedDateTime DESC", []OrderKey{{Property: "receivedDateTime", Desc: true}}},
		{"displayName asc", []OrderKey{{Property: "displayName"}}},
		{" displayName  Asc , id desc ", []OrderKey{{Property: "displayName"}, {Property: "id", Desc: true}}},
		{"from/emailAddress/name desc,subject", []OrderKey{{Property: "from/emailAddress/name", Desc: true}, {Property: "subject"}}},
	}
	for _, tt := range tests {
		got, err := ParseOrderBy(tt.in)
		if err != nil {
			t.Errorf("ParseOrderBy(%q) error: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseOrderBy(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseOrderByErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "Invalid $orderby clause: the list of properties is empty"},
		{"subject,", "Invalid $orderby clause: empty item in 'subject,'"},
		{"subject,,id", "Invalid $orderby clause: empty item in 'subject,,id'"},
		{"subject down", "Invalid $orderby clause: 'down' is not a sort direction; use asc or desc"},
		{"subject desc id", "Invalid $orderby clause: unexpected 'id' after 'subject desc'"},
		{"sub-ject", "Invalid $orderby clause: 'sub-ject' is not a valid property path"},
		{"from//name", "Invalid $orderby clause: 'from//name' is not a valid property path"},
		{"/subject", "Invalid $orderby clause: '/subject' is not a valid property path"},
	}
	for _, tt := range tests {
		got, err := ParseOrderBy(tt.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("ParseOrderBy(%q) = %+v, %v, want *Error %q", tt.in, got, err, tt.want)
			continue
		}
		if e.Message != tt.want || e.Option != "$orderby" {
			t.Errorf("ParseOrderBy(%q) error = %s %q, want $orderby %q", tt.in, e.Option, e.Message, tt.want)
		}
	}
}

func TestSortDocs(t *testing.T) {
	const docs = `[
		{"id": "a", "name": "bravo",   "size": 10,  "when": "2026-01-02T00:00:00Z",      "flag": true,  "from": {"name": "Zed"}},
		{"id": "b", "name": "Alpha",   "size": 9,   "when": "2026-01-01T23:00:00-02:00", "flag": false, "from": {"name": "amy"}},
		{"id": "c", "name": "charlie", "size": 100, "when": null,                        "flag": true},
		{"id": "d", "name": "alpha",   "size": 9.5, "when": "2026-01-01T12:00:00.5Z",    "flag": false, "from": {"name": "Bob"}},
		{"id": "e",                    "size": 9,   "when": "2026-01-01T12:00:00Z",      "flag": true,  "from": {"name": "bob"}}
	]`
	tests := []struct {
		orderby string
		want    []string // ids
	}{
		// Strings ignore case; ties keep input order (b before d); missing comes first.
		{"name", []string{"e", "b", "d", "a", "c"}},
		{"name desc", []string{"c", "a", "b", "d", "e"}},
		// Numbers numerically, not as text (100 after 10).
		{"size", []string{"b", "e", "d", "a", "c"}},
		{"size desc", []string{"c", "a", "d", "b", "e"}},
		// Times as instants: b is 2026-01-02T01:00Z, after a; null first.
		{"when", []string{"c", "e", "d", "a", "b"}},
		{"when desc", []string{"b", "a", "d", "e", "c"}},
		{"flag, size desc", []string{"d", "b", "c", "a", "e"}},
		{"From/Name, id desc", []string{"c", "b", "e", "d", "a"}},
		{"size, name desc", []string{"b", "e", "d", "a", "c"}},
	}
	for _, useNumber := range []bool{false, true} {
		for _, tt := range tests {
			keys, err := ParseOrderBy(tt.orderby)
			if err != nil {
				t.Fatalf("ParseOrderBy(%q) error: %v", tt.orderby, err)
			}
			list := decodeList(t, docs, useNumber)
			SortDocs(list, keys)
			if got := ids(list); !cmp.Equal(got, tt.want) {
				t.Errorf("SortDocs(docs, %q) (useNumber=%v) = %q, want %q", tt.orderby, useNumber, got, tt.want)
			}
		}
	}
}

func TestSortDocsMixedKinds(t *testing.T) {
	list := decodeList(t, `[
		{"id": "str", "v": "text"},
		{"id": "obj", "v": {"a": 1}},
		{"id": "time", "v": "2026-01-01T00:00:00Z"},
		{"id": "num", "v": 3},
		{"id": "bool", "v": true},
		{"id": "null", "v": null}
	]`, false)
	SortDocs(list, []OrderKey{{Property: "v"}})
	want := []string{"null", "bool", "num", "time", "str", "obj"}
	if got := ids(list); !cmp.Equal(got, want) {
		t.Errorf("SortDocs(mixed kinds, v) = %q, want %q", got, want)
	}
}

func decodeList(t *testing.T, s string, useNumber bool) []map[string]any {
	t.Helper()
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		t.Fatalf("decoding test documents: %v", err)
	}
	list := make([]map[string]any, len(raw))
	for i, r := range raw {
		list[i] = decode(t, string(r), useNumber)
	}
	return list
}

func ids(docs []map[string]any) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i], _ = d["id"].(string)
	}
	return out
}
