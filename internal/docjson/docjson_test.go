package docjson

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// same fails the test unless Marshal writes v exactly as encoding/json does, or
// both refuse it.
func same(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	got, err := Marshal(v)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("Marshal(%#v): error %v, encoding/json's %v", v, err, wantErr)
	}
	if err == nil && !bytes.Equal(got, want) {
		t.Fatalf("Marshal(%#v):\n got %s\nwant %s", v, got, want)
	}
}

func TestAsEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "\x00\x01\b\f\n\r\t\x1f\x7f", "é ☃ 😀",
		"bad \xff utf-8 \xe2\x82", "line\u2028para\u2029", "\u2028", "\xed\xa0\x80"}
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 123456789012345678, 1.5e300, -2.5e-300, 5e-324, math.MaxFloat64}
	for _, s := range strs {
		same(t, s)
		same(t, map[string]any{s: s})
	}
	for _, f := range floats {
		same(t, f)
	}
	for _, v := range []any{
		nil, true, false, 42, int64(-7), []any{}, []any(nil), map[string]any{}, map[string]any(nil),
		[]string{"a", "<"}, []string(nil), []map[string]any{{"a": 1.0}, nil}, []map[string]any(nil),
		map[string]any{"b": 1.0, "a": []any{"x", nil, map[string]any{"z": false, "y": 2.5}}, "A": "upper", "": "empty", "é": "after ascii"},
		map[string]any{"n": json.Number("12.50"), "raw": json.RawMessage(`{"k":1}`), "m": map[string]string{"b": "2", "a": "1"}, "i": []int{1, 2}},
		math.NaN(), math.Inf(1), map[string]any{"bad": math.Inf(-1)}, map[string]any{"ch": make(chan int)},
	} {
		same(t, v)
	}
	var many = map[string]any{}
	for i := range 100 {
		many[string(rune('a'+i%26))+string(rune('A'+i/26))] = float64(i)
	}
	same(t, many)
}

// FuzzAsEncodingJSON: any JSON document, decoded as the workloads decode request
// bodies and stored documents (numbers as float64, or as json.Number), is written
// back as encoding/json writes it.
func FuzzAsEncodingJSON(f *testing.F) {
	for _, seed := range []string{`{}`, `[]`, `"s"`, `1e-7`, `{"a":[1,"<&>",null,true,{"b":{}}],"\u2028":"\ud800"}`, `{"z":1,"a":2,"m":-0.0,"e":1E+21}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		same(t, v)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&v) == nil {
			same(t, v)
		}
	})
}

func BenchmarkMessage(b *testing.B) {
	var doc map[string]any
	json.Unmarshal([]byte(`{"@odata.etag":"W/\"CQAAABYAAAAabcdefghijklmnop\"","id":"AAMkAGI2THVSAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","createdDateTime":"2026-12-06T10:00:00Z","lastModifiedDateTime":"2026-12-06T10:00:00Z","changeKey":"CQAAABYAAAAabcdefghijklmnop","categories":[],"receivedDateTime":"2026-12-06T10:00:00Z","sentDateTime":"2026-12-06T10:00:00Z","hasAttachments":false,"internetMessageId":"<abc@contoso.com>","subject":"bench 12345","bodyPreview":"hello","importance":"normal","parentFolderId":"AAMkAGI2inbox","conversationId":"AAQkAGI2conv","isRead":false,"isDraft":false,"body":{"contentType":"text","content":"hello <b>world</b>"},"from":{"emailAddress":{"name":"Adele","address":"adele@contoso.com"}},"toRecipients":[{"emailAddress":{"name":"Megan","address":"megan@contoso.com"}}],"ccRecipients":[],"flag":{"flagStatus":"notFlagged"}}`), &doc)
	b.Run("docjson", func(b *testing.B) {
		for b.Loop() {
			Marshal(doc)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(doc)
		}
	})
}
