package fault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Demo tenant facts, from the built-in fixture the server loads into an empty store.
const (
	tenant    = "6f1c2d3e-0000-4000-8000-000000000001"
	appID     = "11111111-0000-4000-8000-000000000001"
	appSecret = "demo-app-secret"
	adele     = "22222222-0000-4000-8000-000000000001"
)

// startWithin bounds a node's start: the process printing its first line, and its
// first token.
const startWithin = 30 * time.Second

var listeningRE = regexp.MustCompile(`^graphhook listening on (http://127\.0\.0\.1:[0-9]+)$`)

// node is one running `graphhook serve` process.
type node struct {
	name   string
	URL    string
	Token  string // an application token of the demo app, issued by this node
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited and been reaped
	stderr *tail
}

// startNode runs graphhook serve on a free loopback port with args added (the data
// folder or database) and returns once it has printed its address and issued a token.
// It is killed when the test ends, if it still runs.
func startNode(t testing.TB, name string, args ...string) *node {
	t.Helper()
	n := &node{name: name, exited: make(chan struct{}), stderr: &tail{max: 16 << 10}}
	first := &firstLine{line: make(chan string, 1)}
	// No HTTPS listener: its default port is fixed, and two nodes (or a developer's
	// own graphhook) would fight over it.
	n.cmd = exec.Command(binPath, append([]string{"serve", "--addr", "127.0.0.1:0", "--https-addr", "off", "--log-level", "error"}, args...)...)
	// A fixed admin key keeps the server from generating and printing one.
	n.cmd.Env = append(os.Environ(), "GRAPHHOOK_ADMIN_KEY=fault-test")
	n.cmd.Stdout, n.cmd.Stderr = first, n.stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { n.cmd.Wait(); close(n.exited) }()
	t.Cleanup(func() {
		n.cmd.Process.Signal(syscall.SIGKILL)
		<-n.exited
	})
	timer := time.NewTimer(startWithin)
	defer timer.Stop()
	select {
	case l := <-first.line:
		m := listeningRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("%s: first line = %q, want %q; stderr:\n%s", name, l, "graphhook listening on http://127.0.0.1:PORT", n.stderr)
		}
		n.URL = m[1]
	case <-n.exited:
		t.Fatalf("%s exited before listening (%v); stderr:\n%s", name, n.cmd.ProcessState, n.stderr)
	case <-timer.C:
		t.Fatalf("%s did not print its address within %v; stderr:\n%s", name, startWithin, n.stderr)
	}
	tok, err := n.appToken()
	if err != nil {
		t.Fatalf("%s: %v; stderr:\n%s", name, err, n.stderr)
	}
	n.Token = tok
	return n
}

// appToken gets an application token of the demo app from the node's token endpoint.
func (n *node) appToken() (string, error) {
	c := http.Client{Timeout: startWithin}
	resp, err := c.PostForm(n.URL+"/"+tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {appID}, "client_secret": {appSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Description string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		return "", fmt.Errorf("token = %d %s, want 200 and an access_token", resp.StatusCode, body.Description)
	}
	return body.AccessToken, nil
}

// stop sends sig and waits up to within for the process to exit; it returns how long
// the exit took.
func (n *node) stop(t testing.TB, sig syscall.Signal, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := n.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to %s: %v", sig, n.name, err)
	}
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case <-n.exited:
	case <-timer.C:
		t.Fatalf("%s did not exit within %v of %v; stderr:\n%s", n.name, within, sig, n.stderr)
	}
	return time.Since(start)
}

// firstLine hands the first line the process writes to stdout to a channel and drops
// the rest.
type firstLine struct {
	mu   sync.Mutex
	buf  []byte
	done bool
	line chan string
}

func (f *firstLine) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return len(p), nil
	}
	f.buf = append(f.buf, p...)
	if i := bytes.IndexByte(f.buf, '\n'); i >= 0 {
		f.done = true
		f.line <- string(bytes.TrimSuffix(f.buf[:i], []byte("\r")))
	}
	return len(p), nil
}

// tail keeps the last max bytes a process writes, for failure messages.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if len(w.b) > w.max {
		w.b = append([]byte(nil), w.b[len(w.b)-w.max:]...)
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}
