package odata

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestParseTop(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"1", 1},
		{"10", 10},
		{"999", 999},
		{"0999", 999},
	}
	for _, tt := range tests {
		got, err := ParseTop(tt.in, 999)
		if err != nil || got != tt.want {
			t.Errorf("ParseTop(%q, 999) = %d, %v, want %d, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseTopErrors(t *testing.T) {
	for _, in := range []string{"", "0", "-1", "+5", "1000", "abc", "1.5", " 5", "5 ", "1e3", "99999999999999999999999"} {
		got, err := ParseTop(in, 999)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("ParseTop(%q, 999) = %d, %v, want *Error", in, got, err)
			continue
		}
		want := "Invalid value '" + in + "' for $top: it must be an integer from 1 to 999."
		if e.Message != want || e.Option != "$top" {
			t.Errorf("ParseTop(%q, 999) error = %s %q, want $top %q", in, e.Option, e.Message, want)
		}
	}
}

type pageState struct {
	After string `json:"a"`
	Seq   int64  `json:"s"`
}

func TestSkipTokenRoundTrip(t *testing.T) {
	in := pageState{After: "AAMkAGI2/+?&= é", Seq: 1 << 60}
	tok := EncodeSkipToken(in)
	if strings.ContainsAny(tok, "+/=?&%# ") {
		t.Errorf("EncodeSkipToken(%+v) = %q, want URL-safe characters only", in, tok)
	}
	var out pageState
	if err := DecodeSkipToken(tok, &out); err != nil || out != in {
		t.Errorf("DecodeSkipToken(%q) = %+v, %v, want %+v, nil", tok, out, err, in)
	}
	// Clients that restore base64 padding are forgiven.
	out = pageState{}
	if err := DecodeSkipToken(tok+"==", &out); err != nil || out != in {
		t.Errorf("DecodeSkipToken(%q) = %+v, %v, want %+v, nil", tok+"==", out, err, in)
	}
}

func TestDecodeSkipTokenErrors(t *testing.T) {
	tests := []struct {
		name, token string
	}{
		{"empty", ""},
		{"not base64", "!!!!"},
		{"standard alphabet", base64.StdEncoding.EncodeToString([]byte(`{"a":"??>"}`))},
		{"not JSON", base64.RawURLEncoding.EncodeToString([]byte("hello"))},
		{"wrong shape", base64.RawURLEncoding.EncodeToString([]byte(`{"a": 1}`))},
		{"trailing data", base64.RawURLEncoding.EncodeToString([]byte(`{"a":"x"} {}`))},
		{"truncated", EncodeSkipToken(pageState{After: "abcdef"})[:10]},
		{"too long", strings.Repeat("A", maxSkipTokenLen+4)},
	}
	for _, tt := range tests {
		var out pageState
		err := DecodeSkipToken(tt.token, &out)
		var e *Error
		if !errors.As(err, &e) || e.Option != "$skiptoken" || !strings.HasPrefix(e.Message, "Invalid $skiptoken: ") {
			t.Errorf("%s: DecodeSkipToken(%q) = %v, want a $skiptoken *Error", tt.name, tt.token, err)
		}
	}
}

func TestEncodeSkipTokenPanicsOnUnencodable(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("EncodeSkipToken(func) did not panic, want a panic")
		}
	}()
	EncodeSkipToken(func() {})
}

func FuzzDecodeSkipToken(f *testing.F) {
	f.Add(EncodeSkipToken(pageState{After: "x", Seq: 1}))
	f.Add("")
	f.Add("e30")
	f.Fuzz(func(t *testing.T, s string) {
		var out pageState
		if err := DecodeSkipToken(s, &out); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("DecodeSkipToken(%q) error = %T, want *Error", s, err)
			}
		}
	})
}
