package odata

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzDoc is a Graph-shaped document with a value of every JSON kind, nested objects,
// collections of objects and strings, and nulls, for fuzzed filters to walk.
const fuzzDoc = `{
	"@odata.type": "#microsoft.graph.message",
	"id": "AAMkAGI2",
	"subject": "Quarterly Report",
	"isRead": false,
	"importance": "high",
	"receivedDateTime": "2026-01-15T10:30:00.1234567Z",
	"birthday": "1990-05-17",
	"size": 2048,
	"ratio": 0.25,
	"flag": null,
	"conversationId": "6f8a2c1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b",
	"from": {"emailAddress": {"name": "Adele Vance", "address": "AdeleV@contoso.com"}},
	"toRecipients": [{"emailAddress": {"address": "alexw@contoso.com"}}, {"emailAddress": null}, 7],
	"categories": ["Red category", "Blue category"],
	"emptyList": [],
	"members@delta": [{"id": "x"}]
}`

// FuzzFilter parses arbitrary $filter text and matches what parses against documents:
// parsing never panics, its errors are the client-facing *Error, and a compiled
// filter matches any document, including ones missing or mistyping what it reads.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		"isRead eq false",
		"IsRead eq false and Missing eq null",
		"hasAttachments eq true AND importance eq 'High' and not(isRead eq true)",
		"contains(subject, 'report') or toRecipients/any(r: r/emailAddress/address eq 'x@y.z')",
		"endswith(from/emailAddress/address, '@CONTOSO.com')",
		"startswith(subject, 'Q') and size ge 1024 and ratio lt 0.5",
		"importance eq microsoft.graph.importance'high'",
		"birthday eq 1990-05-17",
		"receivedDateTime ge 2026-01-01T00:00:00Z",
		"conversationId eq 6F8A2C1E-3B4D-4E5F-9A0B-1C2D3E4F5A6B",
		"categories/any(c: c eq 'Red category')",
		"toRecipients/all(r: r/emailAddress/address ne null)",
		"toRecipients/any(r: r/emailAddress/any(a: a eq 1))",
		"flag eq null",
		"not (size gt 1 or (isRead eq true and flag ne null))",
		"contains(subject, 'a',)",
		"any(x: x eq 1)",
		"a eq 1, b eq 2",
		"subject eq 'it''s'",
		"size eq -1.5e3",
		"((((((((((a eq 1))))))))))",
		"", " ", "(", ")", "'", "eq", "not", "/any(", "a/any(x:",
	} {
		f.Add(s)
	}
	var docs []map[string]any
	for _, d := range []string{fuzzDoc, `{}`, `{"subject": 1, "toRecipients": "x", "from": [], "size": "big", "categories": [null]}`} {
		var m map[string]any
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			f.Fatal(err)
		}
		docs = append(docs, m)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("ParseFilter(%q) error = %#v, want an *Error with a message", s, err)
			}
			return
		}
		if flt.String() != s {
			t.Errorf("ParseFilter(%q).String() = %q, want the input", s, flt.String())
		}
		for _, p := range flt.Properties() {
			if p == "" {
				t.Errorf("ParseFilter(%q).Properties() = %q, has an empty path", s, flt.Properties())
			}
		}
		for _, d := range docs {
			flt.Match(d)
		}
	})
}

// FuzzSelect parses arbitrary $select text: never a panic, errors are *Error, and
// what parses is a list of distinct identifiers that Select keeps (with id).
func FuzzSelect(f *testing.F) {
	for _, s := range []string{"subject", "subject,from", " id , subject ", "Subject,subject", "a,,b", ",", "a/b", "*",
		"displayName,mail,userPrincipalName", "members@delta", "é", "a b"} {
		f.Add(s)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(fuzzDoc), &doc); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fields, err := ParseSelect(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("ParseSelect(%q) error = %#v, want an *Error with a message", s, err)
			}
			return
		}
		if len(fields) == 0 {
			t.Fatalf("ParseSelect(%q) = no fields and no error", s)
		}
		for i, name := range fields {
			if name == "" || strings.ContainsAny(name, ", /*") || !utf8.ValidString(name) {
				t.Errorf("ParseSelect(%q) = %q: %q is not a property name", s, fields, name)
			}
			for _, other := range fields[:i] {
				if strings.EqualFold(name, other) {
					t.Errorf("ParseSelect(%q) = %q: %q twice", s, fields, name)
				}
			}
		}
		out := Select(doc, fields)
		if out["id"] != doc["id"] || out["@odata.type"] != doc["@odata.type"] {
			t.Errorf("Select(doc, %q) dropped id or @odata.type: %v", fields, out)
		}
		for k := range out {
			if _, ok := doc[k]; !ok {
				t.Errorf("Select(doc, %q) has %q, which doc lacks", fields, k)
			}
		}
	})
}

// FuzzSkipToken decodes arbitrary $skiptoken text into the shapes the workloads page
// with: never a panic, errors are *Error, and what decodes encodes back to a token
// that decodes to the same value.
func FuzzSkipToken(f *testing.F) {
	type after struct {
		Offset int    `json:"o"`
		ID     string `json:"id"`
		Time   string `json:"t,omitempty"`
	}
	f.Add(EncodeSkipToken("AAMkAGI2"))
	f.Add(EncodeSkipToken(after{Offset: 20, ID: "x", Time: "2026-01-15T10:30:00Z"}))
	f.Add(EncodeSkipToken(map[string]any{"o": -1}))
	f.Add(EncodeSkipToken(after{Offset: 1}) + "==")
	for _, s := range []string{"", "=", "e30", "bnVsbA", "!!!", "eyJvIjoxZTEwMDB9", strings.Repeat("A", maxSkipTokenLen+1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var str string
		checkDecode(t, s, &str)
		var a after
		if checkDecode(t, s, &a) {
			var again after
			if err := DecodeSkipToken(EncodeSkipToken(a), &again); err != nil || again != a {
				t.Errorf("DecodeSkipToken(EncodeSkipToken(%+v)) = %+v, %v, want the same value", a, again, err)
			}
		}
		var m map[string]any
		checkDecode(t, s, &m)
	})
}

// checkDecode decodes s into v and reports whether it succeeded, failing the test on
// an error that is not the client-facing *Error.
func checkDecode(t *testing.T, s string, v any) bool {
	t.Helper()
	err := DecodeSkipToken(s, v)
	if err == nil {
		return true
	}
	var e *Error
	if !errors.As(err, &e) || e.Option != "$skiptoken" || e.Message == "" {
		t.Fatalf("DecodeSkipToken(%q) error = %#v, want an *Error for $skiptoken", s, err)
	}
	return false
}
