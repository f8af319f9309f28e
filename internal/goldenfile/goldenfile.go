// Package goldenfile compares test output with files under testdata/ and rewrites them
// when the tests run with -update. Each test package keeps its own normalisation (what
// varies from run to run differs per workload); this package owns the file handling
// and the -update flag, so that every package refreshes its golden files the same way.
package goldenfile

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Updating reports whether the run rewrites golden files.
func Updating() bool { return *update }

// Compare checks got against testdata/<name>, where name without an extension means
// <name>.golden.json. With -update it writes got there instead. Leading and trailing
// white space is not significant.
func Compare(t testing.TB, name string, got []byte) {
	t.Helper()
	if filepath.Ext(name) == "" {
		name += ".golden.json"
	}
	path := filepath.Join("testdata", name)
	got = append(bytes.TrimSpace(got), '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run the tests with -update to create it): %v", err)
	}
	if diff := cmp.Diff(strings.TrimSpace(string(want)), strings.TrimSpace(string(got))); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// Indent renders a JSON value (bytes of JSON, or any value encoding/json accepts)
// indented by two spaces, without HTML escaping; object keys come out sorted when v
// is decoded data and in document order when v is JSON bytes.
func Indent(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if raw, ok := v.([]byte); ok {
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			t.Fatalf("goldenfile: not JSON: %v: %s", err, raw)
		}
		return buf.Bytes()
	}
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatalf("goldenfile: %v", err)
	}
	return buf.Bytes()
}

// Scrub replaces, anywhere in the decoded JSON value v, the non-null values of the
// named keys with "<key>".
func Scrub(v any, keys ...string) {
	switch vv := v.(type) {
	case map[string]any:
		for k, e := range vv {
			for _, key := range keys {
				if k == key && e != nil {
					vv[k] = "<" + key + ">"
				}
			}
			Scrub(vv[k], keys...)
		}
	case []any:
		for _, e := range vv {
			Scrub(e, keys...)
		}
	}
}
