package listen

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/graphclient"
	"github.com/graphhook/graphhook/internal/testserver"
)

// TestListenAcrossClockAdvance runs listen against a real server whose clock the
// admin API moves 90 minutes forward, past the subscription's hour and the token's:
// listen gets a new token, replaces the subscription it lost and says so, still
// prints notifications, and deletes its subscription on exit.
func TestListenAcrossClockAdvance(t *testing.T) {
	t.Parallel()
	m := app.New(app.Config{Addr: "127.0.0.1:0", Data: t.TempDir(), HTTPSAddr: "off", LogLevel: "error"}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() { m.Close() })

	cfg := validConfig()
	cfg.Server, cfg.Resource, cfg.ChangeType = m.URL, "/users/"+testserver.Adele+"/messages", "created"
	cfg.fillDefaults()
	rl := &runningListen{out: newLineWriter(), errOut: newLineWriter(), done: make(chan error, 1)}
	l, err := newListener(cfg, rl.out, rl.errOut)
	if err != nil {
		t.Fatal(err)
	}
	l.checkEvery = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	rl.cancel = cancel
	go func() { rl.done <- l.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-rl.done
	})
	created := waitLine(t, rl.out.lines, "subscription ", rl.out)
	first := strings.Fields(created)[1]

	admin := func(path, body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", m.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m.Config.AdminKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s = %d, want 200", path, resp.StatusCode)
		}
	}
	admin("/_graphhook/clock/advance", `{"duration":"90m"}`)
	gone := waitLine(t, rl.out.lines, "subscription "+first+" is gone from the server", rl.out)
	if !strings.Contains(gone, "expired at ") {
		t.Errorf("listen said %q, want it to name the expiry", gone)
	}
	second := strings.Fields(waitLine(t, rl.out.lines, "subscription ", rl.out))[1]
	if second == first {
		t.Fatalf("listen kept subscription %s after it expired", first)
	}

	// The new subscription is live in the server's time and delivers.
	app := graphclient.New(graphclient.Config{Server: m.URL, Tenant: DemoTenant, ClientID: demoAppID, ClientSecret: demoAppSecret})
	var sub subscription
	if err := app.Do(context.Background(), "GET", "/v1.0/subscriptions/"+second, nil, &sub); err != nil {
		t.Fatalf("GET the new subscription: %v", err)
	}
	if left := sub.expiry().Sub(m.Clock.Now()); left < 50*time.Minute {
		t.Errorf("new subscription expires %s, %v after the server's now; want about an hour", sub.ExpirationDateTime, left)
	}
	var msg struct {
		ID string `json:"id"`
	}
	if err := app.Do(context.Background(), "POST", "/v1.0/users/"+testserver.Adele+"/messages", map[string]any{"subject": "after the clock moved"}, &msg); err != nil {
		t.Fatal(err)
	}
	if head := waitLine(t, rl.out.lines, "[", rl.out); !strings.HasSuffix(strings.ToLower(head), "/messages/"+strings.ToLower(msg.ID)) {
		t.Errorf("printed %q, want the created message", head)
	}

	// Another 90 minutes: the token listen holds expired too; the delete on exit gets
	// a new one.
	admin("/_graphhook/clock/advance", `{"duration":"90m"}`)
	if err := rl.stop(t); err != nil {
		t.Fatalf("listen ended with %v after the clock moved; stderr:\n%s", err, rl.errOut)
	}
	out := rl.out.String()
	i := strings.LastIndex(out, " deleted\n")
	if i < 0 {
		t.Fatalf("output lacks the deletion line:\n%s", out)
	}
	deleted := out[strings.LastIndex(out[:i], " ")+1 : i]
	err = app.Do(context.Background(), "GET", "/v1.0/subscriptions/"+deleted, nil, nil)
	if ge, ok := err.(*graphclient.Error); !ok || ge.Status != http.StatusNotFound {
		t.Errorf("GET subscription %s after listen deleted it = %v, want 404", deleted, err)
	}
	var list struct {
		Value []subscription `json:"value"`
	}
	if err := app.Do(context.Background(), "GET", "/v1.0/subscriptions", nil, &list); err != nil || len(list.Value) != 0 {
		t.Errorf("subscriptions left after listen exited = %+v, %v; want none", list.Value, err)
	}
}
