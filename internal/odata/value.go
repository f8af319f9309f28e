package odata

import (
	"cmp"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// kind is the type of a value. The order of the constants is the order $orderby puts
// values of different kinds in (nulls first), so a column of mixed types still sorts
// into one total order.
type kind uint8

const (
	kindNull   kind = iota // JSON null, or a property the document does not have
	kindBool               // JSON true/false
	kindNumber             // JSON number (float64, json.Number, or a Go integer)
	kindTime               // an instant: a DateTimeOffset or Date literal, or (in $orderby) a time string
	kindString             // JSON string; also enum members and GUIDs
	kindOther              // JSON object or array: equal to nothing, ordered after everything
)

// value is a scalar taken from a document or a literal, unpacked once so that
// comparisons do no type switches on interfaces.
type value struct {
	kind kind
	b    bool
	n    float64
	s    string
	t    time.Time
}

// valueOf unpacks a value as encoding/json produces it into map[string]any, with
// numbers as float64 or json.Number. Go integers are accepted too, for documents built
// in code rather than decoded.
func valueOf(v any) value {
	switch v := v.(type) {
	case nil:
		return value{}
	case string:
		return value{kind: kindString, s: v}
	case bool:
		return value{kind: kindBool, b: v}
	case float64:
		return value{kind: kindNumber, n: v}
	case json.Number:
		n, err := strconv.ParseFloat(string(v), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return value{kind: kindOther}
		}
		return value{kind: kindNumber, n: n}
	case int:
		return value{kind: kindNumber, n: float64(v)}
	case int64:
		return value{kind: kindNumber, n: float64(v)}
	case float32:
		return value{kind: kindNumber, n: float64(v)}
	default:
		return value{kind: kindOther}
	}
}

// equal reports whether a eq b: null equals only null, values of kinds that cannot be
// compared are unequal, and strings are equal regardless of case.
func equal(a, b value) bool {
	if a.kind == kindNull || b.kind == kindNull {
		return a.kind == b.kind
	}
	c, ok := compare(a, b)
	return ok && c == 0
}

// compare orders a and b when they are comparable: two booleans (false first), two
// numbers, two strings (case-insensitive), or two instants, where a string is read as
// an instant when the other side is one (receivedDateTime ge 2026-01-01T00:00:00Z).
// Anything else, null included, is not comparable, so gt/ge/lt/le on it are false.
func compare(a, b value) (int, bool) {
	if a.kind == kindTime && b.kind == kindString {
		t, ok := parseTime(b.s)
		if !ok {
			return 0, false
		}
		return a.t.Compare(t), true
	}
	if a.kind == kindString && b.kind == kindTime {
		t, ok := parseTime(a.s)
		if !ok {
			return 0, false
		}
		return t.Compare(b.t), true
	}
	if a.kind != b.kind {
		return 0, false
	}
	switch a.kind {
	case kindBool:
		return compareBool(a.b, b.b), true
	case kindNumber:
		return cmp.Compare(a.n, b.n), true
	case kindString:
		return compareFold(a.s, b.s), true
	case kindTime:
		return a.t.Compare(b.t), true
	}
	return 0, false
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	default:
		return 1
	}
}

// timeLayouts are the shapes of time strings found in Graph documents: RFC 3339 with
// any number of fractional digits (Graph writes seven), the zone-less form of
// dateTimeTimeZone values, and plain dates. Zone-less values are taken as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	time.DateOnly,
}

// parseTime reads s as an instant. It rejects most non-time strings on their shape
// before trying any layout, because it runs on the evaluation path.
func parseTime(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02") || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// compareFold orders strings ignoring case. Strings that strings.EqualFold calls equal
// compare as 0, so eq and ge/le agree with each other.
func compareFold(a, b string) int {
	if strings.EqualFold(a, b) {
		return 0
	}
	for a != "" && b != "" {
		ra, na := lowerRune(a)
		rb, nb := lowerRune(b)
		if ra != rb {
			return cmp.Compare(ra, rb)
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// lowerRune returns the lower-case first rune of s and its width in bytes.
func lowerRune(s string) (rune, int) {
	if c := s[0]; c < utf8.RuneSelf {
		return rune(lowerASCII(c)), 1
	}
	r, n := utf8.DecodeRuneInString(s)
	return unicode.ToLower(r), n
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalRuneFold reports whether a and b are the same letter under Unicode simple case
// folding, the rule strings.EqualFold applies.
func equalRuneFold(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return lowerASCII(byte(a)) == lowerASCII(byte(b))
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// hasPrefixFold is strings.HasPrefix ignoring case, without allocating.
func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		rs, ns := utf8.DecodeRuneInString(s)
		rp, np := utf8.DecodeRuneInString(prefix)
		if !equalRuneFold(rs, rp) {
			return false
		}
		s, prefix = s[ns:], prefix[np:]
	}
	return true
}

// hasSuffixFold is strings.HasSuffix ignoring case, without allocating.
func hasSuffixFold(s, suffix string) bool {
	for suffix != "" {
		if s == "" {
			return false
		}
		rs, ns := utf8.DecodeLastRuneInString(s)
		rp, np := utf8.DecodeLastRuneInString(suffix)
		if !equalRuneFold(rs, rp) {
			return false
		}
		s, suffix = s[:len(s)-ns], suffix[:len(suffix)-np]
	}
	return true
}

// containsFold is strings.Contains ignoring case, without allocating. It is quadratic
// in the worst case, which is fine for the short strings Graph filters test.
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	for i := range s {
		if hasPrefixFold(s[i:], sub) {
			return true
		}
	}
	return false
}
