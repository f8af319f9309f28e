package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/graphclient"
	"github.com/graphhook/graphhook/internal/store/pgtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := pgtest.Run(m) // stops the PostgreSQL server of the multi-node tests
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds graphhook once per test run; the end-to-end tests run the real thing.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "graphhook-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "graphhook")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return binPath
}

// proc is a running graphhook serve.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *strings.Builder
	done   chan error
}

func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve"}, args...)...)
	// Parallel servers each take a free HTTPS port, not the default 8443.
	cmd.Env = append(append(os.Environ(), "GRAPHHOOK_HTTPS_ADDR=127.0.0.1:0"), env...)
	stdout, _ := cmd.StdoutPipe()
	p := &proc{cmd: cmd, lines: make(chan string, 100), stderr: &strings.Builder{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

func (p *proc) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			t.Fatalf("graphhook exited; stderr:\n%s", p.stderr)
		}
		return l
	case <-time.After(30 * time.Second):
		t.Fatalf("no output within 30s; stderr:\n%s", p.stderr)
	}
	return ""
}

var listeningRE = regexp.MustCompile(`^graphhook listening on (http://127\.0\.0\.1:[1-9][0-9]*)$`)

func TestServeDemoTenantEndToEnd(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p := start(t, nil, "--addr", "127.0.0.1:0", "--data", data)
	first := p.line(t)
	m := listeningRE.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first line = %q, want %q", first, "graphhook listening on http://127.0.0.1:PORT")
	}
	base := m[1]
	var banner []string
	for {
		l := p.line(t)
		banner = append(banner, l)
		if strings.HasPrefix(l, "get a token: ") {
			break
		}
	}
	text := strings.Join(banner, "\n")
	for _, want := range []string{"admin key: ", "demo tenant: 6f1c2d3e-0000-4000-8000-000000000001", "client id 11111111-0000-4000-8000-000000000001", "adele@contoso.onmicrosoft.com  password Passw0rd!", "sam@outlook.com"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}
	// The printed curl line, run as a user would paste it (minus curl itself).
	curl := strings.TrimPrefix(banner[len(banner)-1], "get a token: curl -s -X POST ")
	fields := strings.Fields(curl)
	form := url.Values{}
	for i := 1; i+1 < len(fields); i += 2 {
		k, v, _ := strings.Cut(fields[i+1], "=")
		form.Set(k, v)
	}
	appTok := tokenFrom(t, fields[0], form)

	get := func(tok, path string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if status, body := get(appTok, "/v1.0/users"); status != 200 || len(body["value"].([]any)) != 5 {
		t.Fatalf("app GET /v1.0/users = %d %v", status, body)
	}
	if status, _ := get(appTok, "/v1.0/me"); status != 400 {
		t.Errorf("app GET /v1.0/me = %d, want 400", status)
	}
	work := tokenFrom(t, base+"/contoso.onmicrosoft.com/oauth2/v2.0/token", url.Values{"grant_type": {"password"}, "client_id": {"11111111-0000-4000-8000-000000000002"}, "client_secret": {"demo-delegated-secret"},
		"username": {"adele@contoso.onmicrosoft.com"}, "password": {"Passw0rd!"}, "scope": {"https://graph.microsoft.com/User.Read.All"}})
	if status, body := get(work, "/v1.0/me"); status != 200 || body["userPrincipalName"] != "adele@contoso.onmicrosoft.com" {
		t.Errorf("work GET /v1.0/me = %d %v", status, body)
	}
	if status, _ := get(work, "/v1.0/users"); status != 200 {
		t.Errorf("work GET /v1.0/users with User.Read.All = %d, want 200", status)
	}
	// Entra has no password grant for personal accounts: sign in as a CLI would, with
	// the device code flow of the public client app.
	personal := deviceCodeTokenFrom(t, base, "consumers", "11111111-0000-4000-8000-000000000003", "sam@outlook.com", "Passw0rd!", "https://graph.microsoft.com/User.Read")
	if status, body := get(personal, "/v1.0/me"); status != 200 || body["displayName"] != "Sam" {
		t.Errorf("personal GET /v1.0/me = %d %v", status, body)
	}
	if status, _ := get(personal, "/v1.0/users"); status != 403 {
		t.Errorf("personal GET /v1.0/users = %d, want 403", status)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("GET %s = %v %v", path, resp, err)
		}
	}

	// SIGTERM: graceful shutdown well within 10 seconds, exit status 0.
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v; stderr:\n%s", err, p.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("graphhook did not stop within 10s of SIGTERM")
	}

	// Restarting on the same data keeps the tenant (and its signing key: the old token
	// still works).
	p2 := start(t, []string{"GRAPHHOOK_ADDR=127.0.0.1:0", "GRAPHHOOK_DATA=" + data})
	m = listeningRE.FindStringSubmatch(p2.line(t))
	if m == nil {
		t.Fatal("restart: no listening line")
	}
	base = m[1]
	// The issuer names the old port, so get a fresh token; the signing key is the same.
	form.Set("client_id", "11111111-0000-4000-8000-000000000001")
	tok := tokenFrom(t, base+"/6f1c2d3e-0000-4000-8000-000000000001/oauth2/v2.0/token", form)
	if status, _ := get(tok, "/v1.0/users/adele@contoso.onmicrosoft.com"); status != 200 {
		t.Errorf("after restart GET user = %d", status)
	}
	p2.cmd.Process.Signal(syscall.SIGINT)
	if err := <-p2.done; err != nil {
		t.Errorf("exit after SIGINT: %v", err)
	}
}

// tokenFrom gets an access token from endpoint, failing the test when refused.
func tokenFrom(t *testing.T, endpoint string, form url.Values) string {
	t.Helper()
	tok, err := graphclient.FetchToken(context.Background(), nil, endpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// deviceCodeTokenFrom runs the device code flow against a running server: start it,
// sign in on /devicelogin as the user would, and redeem the device code.
func deviceCodeTokenFrom(t *testing.T, base, tenant, clientID, upn, password, scope string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/"+tenant+"/oauth2/v2.0/devicecode", url.Values{"client_id": {clientID}, "scope": {scope}})
	if err != nil {
		t.Fatal(err)
	}
	var dc map[string]any
	json.NewDecoder(resp.Body).Decode(&dc)
	resp.Body.Close()
	verify, _ := dc["verification_uri"].(string)
	if resp.StatusCode != 200 || verify == "" {
		t.Fatalf("devicecode = %d %v", resp.StatusCode, dc)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	page, err := browser.Get(verify)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(html)
	if m == nil {
		t.Fatalf("devicelogin page = %s", html)
	}
	page, err = browser.PostForm(verify, url.Values{"csrf": {string(m[1])}, "otc": {dc["user_code"].(string)}, "username": {upn}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	html, _ = io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(html), `id="done"`) {
		t.Fatalf("devicelogin sign-in = %s", html)
	}
	return tokenFrom(t, base+"/"+tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {clientID}, "device_code": {dc["device_code"].(string)}})
}

func TestServeRefusesBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "tenants.yaml")
	os.WriteFile(bad, []byte("tenants:\n  - id: 6f1c2d3e-0000-4000-8000-000000000001\n    domain: contoso.onmicrosoft.com\n    displayName: Contoso\n    colour: blue\n"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--fixture", bad}, bad + ":5: colour: unknown key"},
		{[]string{"--fixture", filepath.Join(dir, "missing.yaml")}, "no such file"},
		{[]string{"--profile", "lax"}, "--profile must be dev or strict"},
		{[]string{"--profile", "strict"}, "the strict profile needs --admin-key"},
		// The demo tenant's credentials are published: strict never loads (or prints) them.
		{[]string{"--profile", "strict", "--admin-key", "k"}, "the strict profile needs --fixture"},
		{[]string{"--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--database", "mysql://x"}, "--database must be empty"},
		// Start-up failures are one clear error, never a panic.
		{[]string{"--database", "postgres://nobody@127.0.0.1:1/x"}, "database: postgres: failed to connect"},
		{[]string{"--data", bad}, "data folder " + bad},
		{[]string{"--public-url", "ftp://x"}, "--public-url must be an absolute http(s) URL"},
		{[]string{"--addr", "127.0.0.1:99999"}, "listen"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"--push-back", "-1ms"}, "--push-back must not be negative"},
		{[]string{"--push-back-hold", "-1ms"}, "--push-back-hold must not be negative"},
	}
	for _, tt := range tests {
		cmd := exec.Command(binary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--https-addr", "127.0.0.1:0", "--data", t.TempDir()}, tt.args...)...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.want) || strings.Contains(string(out), "panic") {
			t.Errorf("serve %v: err %v, output %q, want a failure mentioning %q", tt.args, err, out, tt.want)
		}
	}
}

func TestHelpListsCommands(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(binary(t), "help").Output()
	if err != nil || !strings.Contains(string(out), "serve") || !strings.Contains(string(out), "GRAPHHOOK_") {
		t.Errorf("graphhook help = %q, %v", out, err)
	}
	cmd := exec.Command(binary(t), "frobnicate")
	if err := cmd.Run(); err == nil {
		t.Error("an unknown command exited 0")
	}
}

// TestHelpAndVersion: a command's help goes to stdout with its flags; help for an
// unknown command and an unknown flag are usage errors (exit 2); version says what
// was built.
func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	var stdout, stderr strings.Builder
	if code := run(context.Background(), []string{"help", "serve"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "\n  --https-addr string\n") {
		t.Errorf("help serve = exit %d, stdout %q, want 0 and the flags on stdout", code, stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"help", "frobnicate"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), `unknown command "frobnicate"`) {
		t.Errorf("help frobnicate = exit %d, stderr %q, want 2 naming the command", code, stderr.String())
	}
	if code := run(context.Background(), []string{"serve", "--no-such-flag"}, &stdout, &stderr); code != 2 {
		t.Errorf("serve --no-such-flag = exit %d, want 2", code)
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"version"}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "graphhook ") || !strings.Contains(stdout.String(), "go1.") {
		t.Errorf("version = exit %d, %q, want 0 and a version line", code, stdout.String())
	}
}
