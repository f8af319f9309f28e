package sortid

import (
	"encoding/base32"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestIDsSortInCreationOrder(t *testing.T) {
	for _, enc := range []struct {
		name string
		at   func(time.Time) string
	}{
		{"base64", func(at time.Time) string { return "AAMkAG" + base64Sorted.EncodeToString(bytesAt(at, 32)) }},
		{"base32", func(at time.Time) string { return "01" + base32Sorted.EncodeToString(bytesAt(at, 20)) }},
	} {
		start := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
		prev := enc.at(start)
		// Steps of one nanosecond to a year cross every byte of the time.
		for step := time.Duration(1); step < 365*24*time.Hour; step *= 3 {
			next := enc.at(start.Add(step))
			if next <= prev {
				t.Fatalf("%s: the id made %v later (%s) does not sort after %s", enc.name, step, next, prev)
			}
			prev = next
		}
	}
}

func TestIDsKeepTheirShape(t *testing.T) {
	a, b := Base64("AAMkAG", 32), Base64("AAMkAG", 32)
	if a == b {
		t.Fatal("two ids are equal")
	}
	if len(a) != len("AAMkAG")+43 {
		t.Errorf("len(%q) = %d, want %d", a, len(a), len("AAMkAG")+43)
	}
	if _, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(a, "AAMkAG")); err != nil {
		t.Errorf("%q is not in URL-safe base64's characters: %v", a, err)
	}
	d := Base32("01", 20)
	if len(d) != 34 {
		t.Errorf("len(%q) = %d, want 34", d, len(d))
	}
	if _, err := base32.StdEncoding.DecodeString(strings.TrimPrefix(d, "01")); err != nil {
		t.Errorf("%q is not in base32's characters: %v", d, err)
	}
}
