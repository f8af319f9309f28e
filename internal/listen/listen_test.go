package listen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
)

// lineWriter turns writes into lines on a channel, for tests that wait on output.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	all   bytes.Buffer
	lines chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 1000)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			return len(p), nil
		}
		w.lines <- strings.TrimSuffix(line, "\n")
	}
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// waitLine returns the first line with prefix, failing after 30 s.
func waitLine(t *testing.T, lines <-chan string, prefix string, what fmt.Stringer) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before a line starting %q; output:\n%s", prefix, what)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("no line starting %q within 30s; output:\n%s", prefix, what)
		}
	}
}

func TestListenLifecycleRenewsAndRecreates(t *testing.T) {
	t.Parallel()
	f := newFakeGraph(t)
	cfg := validConfig()
	cfg.Server, cfg.Lifecycle, cfg.ClientState = f.srv.URL, true, "state"
	rl := startListen(t, cfg)

	first := waitLine(t, rl.out.lines, "listening for notifications on ", rl.out)
	recvURL := strings.TrimPrefix(first, "listening for notifications on ")
	if got := waitLine(t, rl.out.lines, "subscription ", rl.out); got != "subscription sub-1 created for /users" {
		t.Fatalf("created line = %q, want %q", got, "subscription sub-1 created for /users")
	}
	if got := f.waitCall(t); got != "POST /v1.0/subscriptions" {
		t.Fatalf("first call = %q, want POST /v1.0/subscriptions", got)
	}
	s := f.subscriptions()["sub-1"]
	if s.NotificationURL != recvURL || s.LifecycleNotificationURL != recvURL || s.ClientState != "state" || s.ChangeType != "updated" || s.IncludeResourceData {
		t.Errorf("created subscription = %+v, want both URLs %s and clientState state", s, recvURL)
	}

	lifecycle := func(subID, event string) {
		resp := postJSON(t, recvURL, graph.ChangeNotificationCollection{Value: []graph.ChangeNotification{{
			SubscriptionID: subID, SubscriptionExpirationDateTime: graph.FormatTime(time.Now().Add(time.Hour)),
			ClientState: "state", LifecycleEvent: event, TenantID: DemoTenant}}})
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("lifecycle %s answered %d, want 202", event, resp.StatusCode)
		}
	}
	// reauthorizationRequired: renewed by a PATCH of expirationDateTime alone.
	lifecycle("sub-1", "reauthorizationRequired")
	if got := f.waitCall(t); got != "PATCH /v1.0/subscriptions/sub-1" {
		t.Fatalf("after reauthorizationRequired call = %q, want PATCH /v1.0/subscriptions/sub-1", got)
	}
	waitLine(t, rl.out.lines, "subscription sub-1 renewed until ", rl.out)
	f.mu.Lock()
	exp, _ := f.patchBody["expirationDateTime"].(string)
	keys := len(f.patchBody)
	f.mu.Unlock()
	if at, err := graph.ParseTime(exp); err != nil || keys != 1 || at.Before(time.Now().Add(55*time.Minute)) {
		t.Errorf("PATCH body = %v, want only expirationDateTime about an hour ahead", f.patchBody)
	}
	// missed: printed, nothing to call.
	lifecycle("sub-1", "missed")
	waitLine(t, rl.out.lines, "  (some notifications were not delivered", rl.out)

	// subscriptionRemoved: a new subscription replaces the old.
	f.mu.Lock()
	delete(f.subs, "sub-1")
	f.mu.Unlock()
	lifecycle("sub-1", "subscriptionRemoved")
	if got := f.waitCall(t); got != "POST /v1.0/subscriptions" {
		t.Fatalf("after subscriptionRemoved call = %q, want POST /v1.0/subscriptions", got)
	}
	waitLine(t, rl.out.lines, "subscription sub-2 created for /users", rl.out)

	// A late event about the replaced subscription changes nothing: the next call is
	// the renewal asked for sub-2, not another creation.
	lifecycle("sub-1", "subscriptionRemoved")
	lifecycle("sub-2", "reauthorizationRequired")
	if got := f.waitCall(t); got != "PATCH /v1.0/subscriptions/sub-2" {
		t.Fatalf("after a stale subscriptionRemoved and a reauthorizationRequired, call = %q, want PATCH /v1.0/subscriptions/sub-2", got)
	}

	// Ctrl-C deletes the current subscription.
	if err := rl.stop(t); err != nil {
		t.Fatalf("run() = %v, want nil after cancellation", err)
	}
	if got := f.waitCall(t); got != "DELETE /v1.0/subscriptions/sub-2" {
		t.Errorf("last call = %q, want DELETE /v1.0/subscriptions/sub-2", got)
	}
	if n := len(f.subscriptions()); n != 0 {
		t.Errorf("%d subscriptions left after Ctrl-C, want 0", n)
	}
	if !strings.Contains(rl.out.String(), "subscription sub-2 deleted\n") {
		t.Errorf("output lacks the deletion line:\n%s", rl.out)
	}
}

func TestListenRenewsBeforeExpiry(t *testing.T) {
	t.Parallel()
	f := newFakeGraph(t)
	// Created with a minute left: renewed at once; the renewal gives an hour.
	answers := 0
	f.setExpiry(func() time.Time {
		answers++
		if answers == 1 {
			return time.Now().Add(time.Minute)
		}
		return time.Now().Add(time.Hour)
	})
	cfg := validConfig()
	cfg.Server = f.srv.URL
	rl := startListen(t, cfg)
	waitLine(t, rl.out.lines, "subscription sub-1 created", rl.out)
	if got := f.waitCall(t); got != "POST /v1.0/subscriptions" {
		t.Fatalf("call = %q", got)
	}
	if got := f.waitCall(t); got != "PATCH /v1.0/subscriptions/sub-1" {
		t.Fatalf("call after a create expiring in a minute = %q, want PATCH /v1.0/subscriptions/sub-1", got)
	}
	waitLine(t, rl.out.lines, "subscription sub-1 renewed until ", rl.out)
	// An hour left: no further renewal for 45 minutes, so the next call is Ctrl-C's.
	rl.stop(t)
	if got := f.waitCall(t); got != "DELETE /v1.0/subscriptions/sub-1" {
		t.Errorf("call after renewing for an hour = %q, want DELETE /v1.0/subscriptions/sub-1", got)
	}
}

func TestListenReportsServerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		createError string
		tokenError  string
		want        string
	}{
		{"graph error", `{"error":{"code":"InvalidRequest","message":"resource '/nope' is not supported."}}`, "",
			"create subscription: POST /v1.0/subscriptions: 400 InvalidRequest: resource '/nope' is not supported."},
		{"not an envelope", `oops`, "", "create subscription: POST /v1.0/subscriptions: 400 Bad Request: oops"},
		{"token refused", "", "AADSTS7000215: Invalid client secret provided.", "400 invalid_client: AADSTS7000215: Invalid client secret provided."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.createError, f.tokenError = tt.createError, tt.tokenError
			cfg := validConfig()
			cfg.Server = f.srv.URL
			cfg.fillDefaults()
			l, err := newListener(cfg, io.Discard, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			err = l.run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
