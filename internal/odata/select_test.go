package odata

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSelect(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"subject", []string{"subject"}},
		{"Subject,bodyPreview", []string{"Subject", "bodyPreview"}},
		{" subject , from ,isRead ", []string{"subject", "from", "isRead"}},
		{"subject,Subject,SUBJECT", []string{"subject"}},
		{"_private,x1", []string{"_private", "x1"}},
	}
	for _, tt := range tests {
		got, err := ParseSelect(tt.in)
		if err != nil {
			t.Errorf("ParseSelect(%q) error: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseSelect(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseSelectErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "Invalid $select clause: the list of properties is empty"},
		{"  ", "Invalid $select clause: the list of properties is empty"},
		{"subject,", "Invalid $select clause: empty property name in 'subject,'"},
		{",subject", "Invalid $select clause: empty property name in ',subject'"},
		{"subject,,from", "Invalid $select clause: empty property name in 'subject,,from'"},
		{"sub ject", "Invalid $select clause: 'sub ject' is not a valid property name"},
		{"from/emailAddress", "Invalid $select clause: 'from/emailAddress' is not a valid property name"},
		{"*", "Invalid $select clause: '*' is not a valid property name"},
		{"1st", "Invalid $select clause: '1st' is not a valid property name"},
		{"subject;drop", "Invalid $select clause: 'subject;drop' is not a valid property name"},
		{"sübject", "Invalid $select clause: 'sübject' is not a valid property name"},
	}
	for _, tt := range tests {
		got, err := ParseSelect(tt.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("ParseSelect(%q) = %q, %v, want *Error %q", tt.in, got, err, tt.want)
			continue
		}
		if e.Message != tt.want || e.Option != "$select" {
			t.Errorf("ParseSelect(%q) error = %s %q, want $select %q", tt.in, e.Option, e.Message, tt.want)
		}
	}
}

func TestSelect(t *testing.T) {
	doc := map[string]any{
		"@odata.type":       "#microsoft.graph.group",
		"@odata.etag":       "W/\"1\"",
		"@removed":          map[string]any{"reason": "changed"},
		"id":                "g1",
		"displayName":       "Sales",
		"description":       "Sales team",
		"members@delta":     []any{map[string]any{"id": "u1"}},
		"members":           []any{},
		"owners@delta":      []any{},
		"mail":              "sales@contoso.com",
		"securityEnabled":   true,
		"MailNickname":      "sales",
		"createdDateTime":   "2026-01-01T00:00:00Z",
		"resourceProvision": nil,
	}
	tests := []struct {
		name   string
		fields []string
		want   map[string]any
	}{
		{
			name:   "one property, id and instance annotations kept",
			fields: []string{"displayName"},
			want: map[string]any{
				"@odata.type": "#microsoft.graph.group",
				"@odata.etag": "W/\"1\"",
				"@removed":    map[string]any{"reason": "changed"},
				"id":          "g1",
				"displayName": "Sales",
			},
		},
		{
			name:   "names matched ignoring case, document spelling kept",
			fields: []string{"DISPLAYNAME", "mailNickname", "ID"},
			want: map[string]any{
				"@odata.type":  "#microsoft.graph.group",
				"@odata.etag":  "W/\"1\"",
				"@removed":     map[string]any{"reason": "changed"},
				"id":           "g1",
				"displayName":  "Sales",
				"MailNickname": "sales",
			},
		},
		{
			name:   "property annotations follow their property",
			fields: []string{"members", "resourceProvision", "notThere"},
			want: map[string]any{
				"@odata.type":       "#microsoft.graph.group",
				"@odata.etag":       "W/\"1\"",
				"@removed":          map[string]any{"reason": "changed"},
				"id":                "g1",
				"members":           []any{},
				"members@delta":     []any{map[string]any{"id": "u1"}},
				"resourceProvision": nil,
			},
		},
	}
	for _, tt := range tests {
		got := Select(doc, tt.fields)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Select(doc, %q) diff (-want +got):\n%s", tt.name, tt.fields, diff)
		}
	}

	all := Select(doc, nil)
	if diff := cmp.Diff(doc, all); diff != "" {
		t.Errorf("Select(doc, nil) diff (-want +got):\n%s", diff)
	}
	all["displayName"] = "changed"
	if doc["displayName"] != "Sales" {
		t.Errorf("Select(doc, nil) returned doc itself, want a copy")
	}
	if got := Select(nil, []string{"id"}); len(got) != 0 {
		t.Errorf("Select(nil, [id]) = %v, want empty", got)
	}
}
