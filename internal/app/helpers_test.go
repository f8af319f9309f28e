package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/wait"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Run(m)) // stops the PostgreSQL server of the multi-node tests
}

// Demo tenant facts, from the built-in fixture.
const (
	demoTenant    = "6f1c2d3e-0000-4000-8000-000000000001"
	demoAppID     = "11111111-0000-4000-8000-000000000001"
	demoAppSecret = "demo-app-secret"
	demoAdele     = "22222222-0000-4000-8000-000000000001"
)

// start runs a Main with cfg on 127.0.0.1:0 and a temporary data folder (unless cfg
// names a database), shut down when the test ends.
func start(t *testing.T, cfg app.Config) *app.Main {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Database == "" {
		cfg.Data = t.TempDir()
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "error"
	}
	m := app.New(cfg, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Shutdown(ctx)
	})
	return m
}

// appToken gets an application token of the demo app from the server at base.
func appToken(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/"+demoTenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {demoAppID}, "client_secret": {demoAppSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("token from %s = %d, want 200 and a token", base, resp.StatusCode)
	}
	return body.AccessToken
}

// call sends a JSON request to base+path, fails the test unless the status is want,
// and returns the decoded body (nil when it is not an object).
func call(t *testing.T, base, token, method, path string, body any, want int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, out, want)
	}
	var v map[string]any
	json.Unmarshal(out, &v)
	return v
}

// hookReceiver is a loopback webhook: it answers validation handshakes and then
// each notification POST with the next status of its script (202 once it runs out).
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	script []int
	posts  int
}

func newHookReceiver(t *testing.T, script ...int) *hookReceiver {
	t.Helper()
	r := &hookReceiver{script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if tok := req.URL.Query().Get("validationToken"); tok != "" {
			io.WriteString(w, tok)
			return
		}
		io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		status := http.StatusAccepted
		if r.posts < len(r.script) {
			status = r.script[r.posts]
		}
		r.posts++
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.posts
}

// scrape reads GET /metrics into series → value, the series written as Prometheus
// writes them (name{label="value",…}).
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200", resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if !wait.Poll(within, cond) {
		t.Fatalf("%s: not within %v", what, within)
	}
}
