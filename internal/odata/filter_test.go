package odata

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// message is a Graph-shaped document with a bit of every kind of value; the filter
// tables below test against it.
const message = `{
	"@odata.type": "#Microsoft.Graph.Message",
	"id": "AAMkAGI2",
	"subject": "Quarterly Report",
	"isRead": false,
	"hasAttachments": true,
	"importance": "high",
	"receivedDateTime": "2026-01-15T10:30:00.1234567Z",
	"sentDateTime": "2026-01-15T12:30:00+02:00",
	"birthday": "1990-05-17",
	"size": 2048,
	"ratio": 0.25,
	"flag": null,
	"from": {"emailAddress": {"name": "Adele Vance", "address": "AdeleV@contoso.com"}},
	"toRecipients": [
		{"emailAddress": {"name": "Alex", "address": "alexw@contoso.com"}},
		{"emailAddress": {"name": "Megan", "address": "meganb@contoso.com"}}
	],
	"categories": ["Red category", "Blue category"],
	"emptyList": [],
	"displayName": "Adele Vance",
	"accountEnabled": false,
	"department": "Sales",
	"status": "newAlert",
	"severity": "high",
	"vendorInformation": {"provider": "ASC", "vendor": "Microsoft"},
	"conversationId": "6f8a2c1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b",
	"note": "it's done",
	"nullable": "yes",
	"date": 7,
	"mentions": [
		{"id": 0, "mentionText": "Megan", "mentioned": {"user": {"id": "5e1c7f9a-0000-4000-8000-000000000001", "displayName": "Megan"}}}
	],
	"participants": [
		{"user": {"id": "p-1", "displayName": "One"}},
		{"user": {"id": "p-2", "displayName": "Two"}}
	],
	"attachments": [
		{"name": "a.txt", "tags": ["x", "y"]},
		{"name": "b.txt", "tags": ["y", "z"]}
	]
}`

// decode reads a JSON object the two ways callers do: numbers as float64, or as
// json.Number.
func decode(t testing.TB, s string, useNumber bool) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	if useNumber {
		dec.UseNumber()
	}
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decoding test document: %v", err)
	}
	return doc
}

func TestFilterMatch(t *testing.T) {
	tests := []struct {
		filter string
		want   bool
	}{
		// The filters the brief and the Graph docs use.
		{"isRead eq false", true},
		{"isRead eq true", false},
		{"IsRead eq false", true},
		{"hasAttachments eq true AND importance eq 'High'", true},
		{"hasAttachments eq true AND importance eq 'Low'", false},
		{"receivedDateTime ge 2026-01-01T00:00:00Z", true},
		{"receivedDateTime ge 2026-02-01T00:00:00Z", false},
		{"startswith(displayName,'Ad')", true},
		{"startswith(displayName,'Al')", false},
		{"status eq 'newAlert' and severity eq 'high'", true},
		{"status eq 'newAlert' and severity eq 'low'", false},
		{"mentions/any(u: u/mentioned/user/id eq '5e1c7f9a-0000-4000-8000-000000000001')", true},
		{"mentions/any(u: u/mentioned/user/id eq '5e1c7f9a-0000-4000-8000-000000000002')", false},
		{"not(isRead eq true)", true},
		{"not(isRead eq false)", false},
		{"accountEnabled eq true or department eq 'Sales'", true},
		{"accountEnabled eq true or department eq 'Marketing'", false},
		{"participants/any(p: p/user/id eq 'p-2')", true},
		{"participants/any(p: p/user/id eq 'p-3')", false},
		{"participants/any(p:p/user/id in ('p-9', 'p-1'))", true},
		{"toRecipients/any(r: r/emailAddress/address eq 'MeganB@contoso.com')", true},
		{"toRecipients/any(r: r/emailAddress/address eq 'nobody@contoso.com')", false},
		{"from/emailAddress/address eq 'adelev@contoso.com'", true},
		{"vendorInformation/provider eq 'ASC'", true},
		{"vendorInformation/provider eq 'MCAS'", false},

		// eq and ne on every kind of literal.
		{"subject eq 'Quarterly Report'", true},
		{"subject eq 'quarterly report'", true},
		{"subject eq 'Quarterly'", false},
		{"subject ne 'Quarterly'", true},
		{"subject ne 'QUARTERLY REPORT'", false},
		{"note eq 'it''s done'", true},
		{"note eq 'its done'", false},
		{"size eq 2048", true},
		{"size eq 2048.0", true},
		{"size eq 2.048e3", true},
		{"size eq 2049", false},
		{"size ne 2049", true},
		{"ratio eq 0.25", true},
		{"ratio eq -0.25", false},
		{"flag eq null", true},
		{"flag ne null", false},
		{"missing eq null", true},
		{"missing ne null", false},
		{"subject eq null", false},
		{"subject ne null", true},
		{"missing ne 'x'", true},
		{"importance eq microsoft.graph.importance'high'", true},
		{"importance eq microsoft.graph.importance'low'", false},
		{"conversationId eq 6F8A2C1E-3B4D-4E5F-9A0B-1C2D3E4F5A6B", true},
		{"conversationId eq 6f8a2c1e-3b4d-4e5f-9a0b-000000000000", false},
		{"isRead eq FALSE", true},
		{"hasAttachments eq True", true},

		// Ordering operators.
		{"size gt 2047", true},
		{"size gt 2048", false},
		{"size ge 2048", true},
		{"size ge 2049", false},
		{"size lt 2049", true},
		{"size lt 2048", false},
		{"size le 2048", true},
		{"size le 2047", false},
		{"ratio lt 1", true},
		{"subject gt 'quarterly'", true},
		{"subject lt 'R'", true},
		{"subject lt 'q'", false},
		{"hasAttachments gt false", true},
		{"receivedDateTime gt 2026-01-15T10:30:00Z", true},
		{"receivedDateTime lt 2026-01-15T10:30:00.2Z", true},
		{"receivedDateTime le 2026-01-15T11:30:00+01:00", false},
		{"receivedDateTime eq 2026-01-15T10:30:00.1234567Z", true},
		{"receivedDateTime eq 2026-01-15T11:30:00.1234567+01:00", true},
		{"sentDateTime eq 2026-01-15T10:30:00Z", true},
		{"receivedDateTime gt 2026-01-15", true},
		{"birthday eq 1990-05-17", true},
		{"birthday lt 1990-05-18T00:00:00Z", true},
		// Incomparable kinds and nulls: ordering is false both ways, ne is true.
		{"size gt 'a'", false},
		{"size lt 'a'", false},
		{"size ne 'a'", true},
		{"subject gt 2026-01-01T00:00:00Z", false},
		{"subject lt 2026-01-01T00:00:00Z", false},
		{"missing gt 1", false},
		{"missing lt 1", false},
		{"flag ge null", false},
		{"from eq 'x'", false},

		// and, or, not, precedence and parentheses.
		{"isRead eq false and size gt 1000", true},
		{"isRead eq false and size gt 3000", false},
		{"isRead eq true or size gt 3000", false},
		{"isRead eq true or size gt 1000 and size lt 3000", true},
		{"(isRead eq true or size gt 1000) and size lt 1000", false},
		{"isRead eq true or (size gt 1000 and size lt 1000)", false},
		{"not isRead", true},
		{"not (isRead)", true},
		{"NOT(hasAttachments eq true) OR (department eq 'sales')", true},
		{"not not isRead", false},
		{"hasAttachments", true},
		{"isRead", false},
		{"subject", false},
		{"true", true},
		{"false", false},
		{"hasAttachments eq true and true", true},

		// in.
		{"importance in ('low', 'High')", true},
		{"importance in ('low')", false},
		{"size in (1, 2048)", true},
		{"missing in (null)", true},

		// String functions ignore case.
		{"contains(subject, 'report')", true},
		{"contains(subject, 'LY re')", true},
		{"contains(subject, 'weekly')", false},
		{"contains(subject, '')", true},
		{"endswith(from/emailAddress/address, '@CONTOSO.com')", true},
		{"endswith(from/emailAddress/address, '@fabrikam.com')", false},
		{"startswith(subject, 'Quarterly Report and more')", false},
		{"Contains(Subject, 'port')", true},
		{"contains(size, '2')", false},
		{"contains(missing, 'a')", false},
		{"not contains(subject, 'weekly')", true},
		{"startswith(subject, from/emailAddress/name)", false},
		{"startswith(displayName, from/emailAddress/name)", true},

		// Lambdas.
		{"categories/any(c: c eq 'red CATEGORY')", true},
		{"categories/any(c: c eq 'Green category')", false},
		{"categories/all(c: endswith(c, 'category'))", true},
		{"categories/all(c: startswith(c, 'Red'))", false},
		{"categories/any()", true},
		{"emptyList/any()", false},
		{"missing/any()", false},
		{"emptyList/any(x: x eq 1)", false},
		{"emptyList/all(x: x eq 1)", true},
		{"missing/all(x: x eq 1)", true},
		{"subject/any(x: x eq 'Q')", false},
		{"attachments/any(a: a/tags/any(t: t eq 'z'))", true},
		{"attachments/all(a: a/tags/any(t: t eq 'y'))", true},
		{"attachments/all(a: a/tags/any(t: t eq 'x'))", false},
		{"attachments/any(a: a/name eq 'b.txt' and a/tags/any(t: t eq 'x'))", false},
		{"attachments/any(a: a/tags/any(t: t eq 'z') and a/tags/all(t: t ne 'x'))", true},
		{"attachments/any(a: a/tags/any(t: t eq 'x') and a/name eq 'a.txt')", true},
		{"attachments/any(a: A/Name eq 'A.TXT')", true},
		{"participants/any(p: p/user/displayName eq 'Two') and isRead eq false", true},
		{"participants/any(p: isRead eq true)", false},
		{"participants/ANY(p: p/user/id eq 'p-1')", true},

		// Names that start with a keyword are still property names.
		{"nullable eq 'yes'", true},
		{"date eq 7", true},
		{"notes eq null", true},
		{"ordering eq null and android eq null", true},
	}
	for _, useNumber := range []bool{false, true} {
		doc := decode(t, message, useNumber)
		for _, tt := range tests {
			f, err := ParseFilter(tt.filter)
			if err != nil {
				t.Errorf("ParseFilter(%q) error: %v", tt.filter, err)
				continue
			}
			if got := f.Match(doc); got != tt.want {
				t.Errorf("ParseFilter(%q).Match(message, useNumber=%v) = %v, want %v", tt.filter, useNumber, got, tt.want)
			}
		}
	}
}

func TestFilterMatchGoValues(t *testing.T) {
	// Documents built in Go rather than decoded: integers and nil maps.
	doc := map[string]any{"size": 10, "count": int64(3), "weight": float32(1.5)}
	tests := []struct {
		filter string
		want   bool
	}{
		{"size eq 10", true},
		{"count gt 2", true},
		{"weight eq 1.5", true},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Fatalf("ParseFilter(%q) error: %v", tt.filter, err)
		}
		if got := f.Match(doc); got != tt.want {
			t.Errorf("ParseFilter(%q).Match(%v) = %v, want %v", tt.filter, doc, got, tt.want)
		}
	}
	f, err := ParseFilter("missing eq null and not x/any()")
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(nil) {
		t.Errorf("ParseFilter(%q).Match(nil) = false, want true", f)
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		filter string
		want   string // after "Invalid filter clause: "
	}{
		{"", "the filter is empty"},
		{"  \t ", "the filter is empty"},
		{"(isRead eq true", "unbalanced parentheses"},
		{"isRead eq true)", "unbalanced parentheses"},
		{"((isRead eq true)", "unbalanced parentheses"},
		{"x in ('a'", "unbalanced parentheses"},
		{"foo(subject) eq 'x'", "unknown function 'foo'"},
		{"tolower(subject) eq 'x'", "unknown function 'tolower'"},
		{"isof('microsoft.graph.user')", "unknown function 'isof'"},
		{"isRead eq false foo", "unexpected 'foo' after 'false'"},
		{"isRead eqq false", "unexpected 'eqq' after 'isRead'"},
		{"size eq 1 add 2", "unexpected 'add' after '1'"},
		{"isRead eq true ()", "unexpected '()'"},
		{"isRead eq true (x)", "syntax error"},
		{"isRead eq", "operator 'eq' is missing an operand"},
		{"eq true", "operator 'eq' is missing an operand"},
		{"isRead eq true and", "operator 'and' is missing an operand"},
		{"not", "operator 'not' is missing an operand"},
		{"subject eq 'abc", "unterminated string literal at position 11"},
		{`subject eq "x"`, `unexpected '"x"' at position 11`},
		{"subject eq 'a' & size eq 1", "unexpected '&' at position 15"},
		{"size eq 12abc", "unexpected '12abc' at position 8"},
		{"contains(subject)", "function 'contains' takes 2 arguments, not 1"},
		{"contains(subject, 'a', 'b')", "function 'contains' takes 2 arguments, not 3"},
		{"contains eq 1", "function 'contains' must be followed by '('"},
		{"a eq 1, b eq 2", "unexpected ',' outside a function's arguments"},
		{"contains(subject, 'a',)", "unexpected ')' after ','"},
		{"x in 'a'", "'in' must be followed by a list of values in parentheses"},
		{"x in ()", "the list after 'in' is empty"},
		{"x in (y)", "'y' is not a literal value"},
		{"x eq ('a', 'b')", "a list of values may only follow 'in'"},
		{"'abc'", "'abc' is not a boolean expression"},
		{"42", "'42' is not a boolean expression"},
		{"null", "'null' is not a boolean expression"},
		{"(a eq 1) eq true", "'a eq 1' cannot be compared: only properties and literal values can"},
		{"not isRead eq true", "'not isRead' cannot be compared: only properties and literal values can"},
		{"contains(subject, 'a') eq true", "'contains(...)' cannot be compared: only properties and literal values can"},
		{"receivedDateTime ge 2026-13-01T00:00:00Z", "'2026-13-01T00:00:00Z' is not a valid date or time"},
		{"birthday eq 2026-02-30", "'2026-02-30' is not a valid date or time"},
		{"size eq 1e999", "number 1e999 is out of range"},
		{"tags/all()", "'all' needs a range variable and a condition, as in tags/all(t: t ne 'x')"},
		{"any(x: x eq 1)", "'any' must follow a collection property, as in tags/any(t: t eq 'x')"},
		{"tags/any(t)", "'any' takes a range variable and a condition, as in tags/any(t: t eq 'x')"},
		{"tags/any(1: 1 eq 1)", "'1' is not a valid range variable name"},
		{"tags/any(t: t eq 1) eq true", "'tags/any(...)' cannot be compared: only properties and literal values can"},
		{"a/any(x: x/b/any(y: y/c/any(z: z eq 1)))", "any and all may be nested at most 2 deep"},
		{"a/any(x: a/any(y: a/all(z: true)))", "any and all may be nested at most 2 deep"},
		{"a/'b' eq 1", "'b' is not a property name"},
		{"'a'/b eq 1", "'a' is not a property"},
		{"$it eq 1", "unexpected '$it' at position 0"},
		{"subject eq duration'P1D'", "unexpected ''P1D'' after 'duration'"},
		{strings.Repeat("not ", 70) + "isRead", "the filter is nested more than 64 levels deep"},
		{"subject eq '" + strings.Repeat("x", 5000) + "'", "the filter is longer than 4096 characters"},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err == nil {
			t.Errorf("ParseFilter(%q) = %q, want error %q", tt.filter, f, tt.want)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("ParseFilter(%q) error = %T %v, want *Error", tt.filter, err, err)
			continue
		}
		if want := "Invalid filter clause: " + tt.want; e.Message != want || e.Option != "$filter" {
			t.Errorf("ParseFilter(%q) error = %s %q, want $filter %q", tt.filter, e.Option, e.Message, want)
		}
	}
}

func TestFilterProperties(t *testing.T) {
	tests := []struct {
		filter string
		want   []string
	}{
		{"isRead eq false", []string{"isRead"}},
		{"hasAttachments eq true AND importance eq 'High'", []string{"hasAttachments", "importance"}},
		{"from/emailAddress/address eq 'a' or From/EmailAddress/Address eq 'b'", []string{"from/emailAddress/address"}},
		{"startswith(displayName, 'A') and not accountEnabled", []string{"displayName", "accountEnabled"}},
		{"mentions/any(u: u/mentioned/user/id eq 'x')", []string{"mentions", "mentions/mentioned/user/id"}},
		{"participants/any(p:p/id in ('a', 'b'))", []string{"participants", "participants/id"}},
		{"categories/any(c: c eq 'Red')", []string{"categories"}},
		{"attachments/any(a: a/tags/any(t: t eq 'x' and a/name eq 'y'))", []string{"attachments", "attachments/tags", "attachments/name"}},
		{"true", nil},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Fatalf("ParseFilter(%q) error: %v", tt.filter, err)
		}
		got := f.Properties()
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseFilter(%q).Properties() = %q, want %q", tt.filter, got, tt.want)
		}
		// The result is the caller's to keep.
		if len(got) > 0 {
			got[0] = "changed"
			if again := f.Properties(); again[0] == "changed" {
				t.Errorf("ParseFilter(%q).Properties() shares its slice with the Filter", tt.filter)
			}
		}
	}
}

func TestFilterString(t *testing.T) {
	const in = "hasAttachments eq true AND  importance eq 'High'"
	f, err := ParseFilter(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.String(); got != in {
		t.Errorf("ParseFilter(%q).String() = %q, want %q", in, got, in)
	}
}

// TestFilterMatchAllocs guards the notification hot path: a filter without lambdas
// matches without allocating; one with a lambda allocates its variable stack once.
func TestFilterMatchAllocs(t *testing.T) {
	doc := decode(t, message, false)
	tests := []struct {
		filter string
		want   float64
	}{
		{"hasAttachments eq true AND importance eq 'High' and not(isRead eq true)", 0},
		{"receivedDateTime ge 2026-01-01T00:00:00Z and contains(subject, 'REPORT')", 0},
		{"IsRead eq false and Missing eq null", 0},
		{"mentions/any(u: u/mentioned/user/id eq 'x') or participants/any(p: p/user/id eq 'p-2')", 1},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := testing.AllocsPerRun(100, func() { f.Match(doc) }); got != tt.want {
			t.Errorf("allocations of ParseFilter(%q).Match = %v, want %v", tt.filter, got, tt.want)
		}
	}
}

func TestFilterConcurrentMatch(t *testing.T) {
	f, err := ParseFilter("mentions/any(u: u/mentioned/user/id eq '5e1c7f9a-0000-4000-8000-000000000001') and isRead eq false")
	if err != nil {
		t.Fatal(err)
	}
	doc := decode(t, message, false)
	other := decode(t, `{"isRead": false, "mentions": []}`, false)
	done := make(chan string)
	for i := range 4 {
		go func() {
			for range 200 {
				d, want := doc, true
				if i%2 == 1 {
					d, want = other, false
				}
				if got := f.Match(d); got != want {
					done <- fmt.Sprintf("goroutine %d: Match = %v, want %v", i, got, want)
					return
				}
			}
			done <- ""
		}()
	}
	for range 4 {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}

func BenchmarkFilterMatch(b *testing.B) {
	doc := decode(b, message, false)
	for _, filter := range []string{
		"isRead eq false",
		"hasAttachments eq true AND importance eq 'High'",
		"receivedDateTime ge 2026-01-01T00:00:00Z",
		"mentions/any(u: u/mentioned/user/id eq '5e1c7f9a-0000-4000-8000-000000000001')",
		"contains(subject, 'report') or toRecipients/any(r: r/emailAddress/address eq 'x@y.z')",
	} {
		f, err := ParseFilter(filter)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filter, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.Match(doc)
			}
		})
	}
}

func BenchmarkParseFilter(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFilter("hasAttachments eq true AND importance eq 'High'"); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseFilter checks that no input makes ParseFilter or Match panic or hang, that
// every error is an *Error with a client message, and that a filter keeps its text.
func FuzzParseFilter(f *testing.F) {
	seeds := []string{
		"isRead eq false",
		"hasAttachments eq true AND importance eq 'High'",
		"receivedDateTime ge 2026-01-01T00:00:00Z",
		"startswith(displayName,'Ad')",
		"mentions/any(u: u/mentioned/user/id eq 'x')",
		"not(isRead eq true)",
		"attachments/any(a: a/tags/all(t: t in ('y', 'z')))",
		"x in ()", "(((", "a/any()", "contains(,)", "'it''s'", "a eq 6f8a2c1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b",
		"foo(x)(y)", "a/b/c/any(x: x/any(y: y))", "not not not", "a eq microsoft.graph.x'y'",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	doc := decode(f, message, true)
	f.Fuzz(func(t *testing.T, s string) {
		// A filter that takes seconds would stall the notification path. Only a
		// panic stops a hung call, and it makes the fuzzer record the input.
		watchdog := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("ParseFilter or Match hung on %q", s)) })
		defer watchdog.Stop()
		filter, err := ParseFilter(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Message, "Invalid filter clause: ") {
				t.Fatalf("ParseFilter(%q) error = %v, want an *Error for the client", s, err)
			}
			return
		}
		if got := filter.String(); got != s {
			t.Fatalf("ParseFilter(%q).String() = %q, want %q", s, got, s)
		}
		filter.Match(doc)
		filter.Match(nil)
		filter.Properties()
	})
}
