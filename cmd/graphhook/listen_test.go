package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/app"
)

// TestListenExitStatus runs the subcommand's entry point: usage errors exit 2, server
// errors 1 with the code and message on stderr.
func TestListenExitStatus(t *testing.T) {
	t.Parallel()
	m := app.New(app.Config{Addr: "127.0.0.1:0", Data: t.TempDir(), LogLevel: "error"}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tests := []struct {
		args       []string
		wantStatus int
		wantErr    string
	}{
		{[]string{"listen", "--server", m.URL, "--resource", "/users", "--change-type", "created"}, 1,
			"graphhook listen: create subscription: POST /v1.0/subscriptions: 400 InvalidRequest: Invalid 'changeType' attribute: 'created'."},
		{[]string{"listen", "--server", m.URL, "--change-type", "updated"}, 2, "--resource is required"},
		{[]string{"listen", "--resource", "/users", "--change-type", "moved"}, 2, `--change-type "moved"`},
		{[]string{"listen", "--resource", "/users", "--change-type", "updated", "--expiration", "soon"}, 2, "invalid value"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		status := run(context.Background(), tt.args, &stdout, &stderr)
		if status != tt.wantStatus || !strings.Contains(stderr.String(), tt.wantErr) {
			t.Errorf("run(%q) = %d, stderr %q; want %d and %q", tt.args, status, stderr.String(), tt.wantStatus, tt.wantErr)
		}
	}
}
