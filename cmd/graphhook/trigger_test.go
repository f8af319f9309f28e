package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/graphclient"
	"github.com/graphhook/graphhook/internal/wait"
)

// TestTriggerCommand runs `graphhook trigger` through run(): the message it creates
// reaches a subscription, whose id the command printed; --count with --rate makes
// each change on the beat; the admin key comes from the data folder's file.
func TestTriggerCommand(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	m := app.New(app.Config{Addr: "127.0.0.1:0", HTTPSAddr: "off", Data: data, LogLevel: "error"}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	defer m.Close()

	var mu sync.Mutex
	var got []string
	signal := make(chan struct{}, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			io.WriteString(w, tok)
			return
		}
		var batch struct {
			Value []struct {
				SubscriptionID string `json:"subscriptionId"`
				ChangeType     string `json:"changeType"`
			} `json:"value"`
		}
		json.NewDecoder(r.Body).Decode(&batch)
		mu.Lock()
		for _, it := range batch.Value {
			got = append(got, it.SubscriptionID+" "+it.ChangeType)
		}
		mu.Unlock()
		select {
		case signal <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hook.Close()
	client := graphclient.New(graphclient.Config{Server: m.URL, Tenant: "6f1c2d3e-0000-4000-8000-000000000001", ClientID: "11111111-0000-4000-8000-000000000001", ClientSecret: "demo-app-secret"})
	var sub struct {
		ID string `json:"id"`
	}
	if err := client.Do(context.Background(), "POST", "/v1.0/subscriptions", map[string]any{
		"changeType": "created", "notificationUrl": hook.URL, "resource": "/users/adele@contoso.onmicrosoft.com/messages",
		"expirationDateTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
	}, &sub); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	args := []string{"trigger", "message", "--server", m.URL, "--data", data}
	if status := run(context.Background(), args, &stdout, &stderr); status != 0 {
		t.Fatalf("run(%q) = %d, stderr %q; want 0", args, status, stderr.String())
	}
	if !strings.Contains(stdout.String(), "created  subscription "+sub.ID+"  to "+hook.URL) {
		t.Errorf("run(%q) printed %q; want the expected notification of subscription %s", args, stdout.String(), sub.ID)
	}
	received := func(n int) bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= n
	}
	if !wait.On(signal, 10*time.Second, func() bool { return received(1) }) {
		t.Fatalf("no notification received")
	}

	stdout.Reset()
	args = []string{"trigger", "message", "--count", "3", "--rate", "20/s", "--server", m.URL, "--admin-key", m.Config.AdminKey}
	began := time.Now()
	if status := run(context.Background(), args, &stdout, &stderr); status != 0 {
		t.Fatalf("run(%q) = %d, stderr %q; want 0", args, status, stderr.String())
	}
	if took := time.Since(began); took < 100*time.Millisecond {
		t.Errorf("run(%q) took %v; 3 changes at 20/s take at least 100ms", args, took)
	}
	if n := strings.Count(stdout.String(), "message created: "); n != 3 {
		t.Errorf("run(%q) printed %d changes, want 3:\n%s", args, n, stdout.String())
	}
	if !wait.On(signal, 10*time.Second, func() bool { return received(4) }) {
		t.Fatalf("received %v, want 4 notifications", got)
	}
	mu.Lock()
	for _, g := range got {
		if g != sub.ID+" created" {
			t.Errorf("received %q, want %q", g, sub.ID+" created")
		}
	}
	mu.Unlock()

	stdout.Reset()
	if status := run(context.Background(), []string{"trigger", "list", "--server", m.URL, "--data", data}, &stdout, &stderr); status != 0 || !strings.Contains(stdout.String(), "message          created, updated, deleted") {
		t.Errorf("trigger list = %d, %q; want 0 and message's change types", status, stdout.String())
	}
}

// TestTriggerCommandErrors: bad input exits 2 with a message on stderr.
func TestTriggerCommandErrors(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	m := app.New(app.Config{Addr: "127.0.0.1:0", HTTPSAddr: "off", Data: data, LogLevel: "error"}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	defer m.Close()
	if raw, err := os.ReadFile(filepath.Join(data, "admin-key")); err != nil || strings.TrimSpace(string(raw)) != m.Config.AdminKey {
		t.Fatalf("<data>/admin-key = %q, %v; want the server's admin key", raw, err)
	}
	if fi, err := os.Stat(filepath.Join(data, "admin-key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("<data>/admin-key mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	srv := []string{"--server", m.URL, "--data", data}
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{append([]string{"trigger", "widget"}, srv...), "Unknown type 'widget'"},
		{append([]string{"trigger", "user", "--change", "created"}, srv...), "Type 'user' has no 'created' change; it has updated, deleted."},
		{append([]string{"trigger", "message", "--tenant", "nowhere.example"}, srv...), "Tenant 'nowhere.example' does not exist."},
		{append([]string{"trigger", "message", "--user", "nobody@contoso.onmicrosoft.com"}, srv...), "User 'nobody@contoso.onmicrosoft.com' does not exist"},
		{append([]string{"trigger", "message", "--set", "chat"}, srv...), "want name=value"},
		{append([]string{"trigger", "message", "--set", "colour=red"}, srv...), `unknown name "colour"`},
		{append([]string{"trigger", "message", "--rate", "fast"}, srv...), `--rate "fast"`},
		{append([]string{"trigger", "message", "--count", "0"}, srv...), "--count must be between 1 and 1000"},
		{append([]string{"trigger"}, srv...), "name a type"},
		{[]string{"trigger", "message", "--server", m.URL, "--data", t.TempDir()}, "no admin key"},
	} {
		var stdout, stderr bytes.Buffer
		if status := run(context.Background(), tt.args, &stdout, &stderr); status != 2 || !strings.Contains(stderr.String(), tt.wantErr) {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and %q", tt.args, status, stderr.String(), tt.wantErr)
		}
	}
	var stdout, stderr bytes.Buffer
	if status := run(context.Background(), []string{"help", "trigger"}, &stdout, &stderr); status != 0 || !strings.Contains(stdout.String(), "--count") || !strings.Contains(stdout.String(), "graphhook trigger message --change updated") {
		t.Errorf("help trigger = %d, stdout %q; want 0 and the flags and examples on stdout", status, stdout.String())
	}
}
