package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTargets(t *testing.T) {
	got := targets(" http://127.0.0.1:1/ ,http://127.0.0.1:2,, ")
	if diff := cmp.Diff([]string{"http://127.0.0.1:1", "http://127.0.0.1:2"}, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if got := targets(""); got != nil {
		t.Errorf("targets(\"\") = %v, want nil", got)
	}
}

func TestValidateNodes(t *testing.T) {
	tests := []struct {
		cfg     Config
		wantErr string // "" for none
	}{
		{Config{Scenario: "single", Target: "http://a:1,http://b:2", PGSample: "postgres://u@127.0.0.1/db"}, ""},
		{Config{Scenario: "single", Target: ","}, "names no URL"},
		{Config{Scenario: "single", Target: "http://a:1,ftp://b"}, "not an http(s) base URL"},
		{Config{Scenario: "mixed", Target: "http://a:1,http://b:2"}, "takes one URL"},
		{Config{Scenario: "single", PGSample: "postgres://%zz"}, "--pg-sample"},
	}
	for _, tt := range tests {
		tt.cfg.Duration = time.Second
		err := tt.cfg.Validate()
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.cfg, err, tt.wantErr)
		}
	}
}

// TestRunMark: a run's subscriptions are distinct from each other's and from
// another run's, and its messages pass its own filter only.
func TestRunMark(t *testing.T) {
	a, b := newRunMark(), newRunMark()
	if a.subject == b.subject {
		t.Fatalf("two runs share the subject %q", a.subject)
	}
	if a.filter(0) == a.filter(1) || a.filter(0) == b.filter(0) {
		t.Errorf("filters not distinct: %q %q %q", a.filter(0), a.filter(1), b.filter(0))
	}
	if !strings.Contains(string(a.body()), `"subject":"`+a.subject+`"`) {
		t.Errorf("body %s lacks the run's subject %s", a.body(), a.subject)
	}
}
