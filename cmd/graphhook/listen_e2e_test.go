package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/graphclient"
)

// End-to-end tests of graphhook listen: the real binary against the real server.

// startBinary runs the built graphhook with args (a subcommand first).
func startBinary(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	stdout, _ := cmd.StdoutPipe()
	p := &proc{cmd: cmd, lines: make(chan string, 1000), stderr: &strings.Builder{}, done: make(chan error, 1)}
	cmd.Stderr = &lockedWriter{w: p.stderr}
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

// lockedWriter lets the test read a process's stderr while it is written.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// lineWith returns the first line of p containing s, after skipping the others.
func (p *proc) lineWith(t *testing.T, s string) string {
	t.Helper()
	for {
		if l := p.line(t); strings.Contains(l, s) {
			return l
		}
	}
}

var subscriptionCreatedRE = regexp.MustCompile(`^subscription ([0-9a-f-]{36}) created for (.+)$`)

// TestListenEndToEnd drives `graphhook listen` as a user would, against a real
// `graphhook serve`: start both, create a message in Adele's mailbox, see the
// notification printed and forwarded, press Ctrl-C, and find the subscription gone.
func TestListenEndToEnd(t *testing.T) {
	t.Parallel()
	server := start(t, nil, "--addr", "127.0.0.1:0", "--data", t.TempDir())
	m := listeningRE.FindStringSubmatch(server.line(t))
	if m == nil {
		t.Fatal("serve printed no listening line")
	}
	base := m[1]

	forwarded := make(chan []byte, 10)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		forwarded <- body
		w.WriteHeader(http.StatusAccepted)
	}))
	defer target.Close()

	resource := "/users/" + adeleID + "/messages"
	listen := startBinary(t, "listen", "--server", base, "--resource", resource, "--change-type", "created", "--forward-to", target.URL+"/api/notifications")
	if l := listen.line(t); !strings.HasPrefix(l, "listening for notifications on http://127.0.0.1:") {
		t.Fatalf("listen's first line = %q, want %q", l, "listening for notifications on http://127.0.0.1:PORT/notifications")
	}
	created := subscriptionCreatedRE.FindStringSubmatch(listen.lineWith(t, "subscription "))
	// listen prints the resource as the API echoed it: without the leading slash.
	if created == nil || created[2] != strings.TrimPrefix(resource, "/") {
		t.Fatalf("listen printed %q, want %q", created, "subscription <id> created for "+strings.TrimPrefix(resource, "/"))
	}
	subID := created[1]

	appTok := tokenFrom(t, graphclient.TokenEndpoint(base, demoTenant), graphclient.ClientCredentials(demoAppID, demoAppSecret))
	call := func(method, path string, body any) (int, map[string]any) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Authorization", "Bearer "+appTok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if status, sub := call("GET", "/v1.0/subscriptions/"+subID, nil); status != http.StatusOK || sub["resource"] != strings.TrimPrefix(resource, "/") || sub["changeType"] != "created" {
		t.Fatalf("GET the subscription = %d %v, want 200 with resource %s", status, sub, strings.TrimPrefix(resource, "/"))
	}
	status, msg := call("POST", "/v1.0/users/"+adeleID+"/messages", map[string]any{
		"subject": "listen end to end", "body": map[string]any{"contentType": "text", "content": "hello"}})
	msgID, _ := msg["id"].(string)
	if status != http.StatusCreated || msgID == "" {
		t.Fatalf("POST message = %d %v, want 201", status, msg)
	}

	// Printed: one block naming the change and the subscription.
	head := listen.lineWith(t, "] created ")
	if !strings.HasSuffix(head, "/Messages/"+msgID) && !strings.HasSuffix(head, "/messages/"+msgID) {
		t.Errorf("printed %q, want the created message's resource", head)
	}
	if l := listen.line(t); l != "  subscriptionId: "+subID {
		t.Errorf("printed %q after the block head, want %q", l, "  subscriptionId: "+subID)
	}
	// Forwarded: the notification collection as the server sent it.
	var body []byte
	select {
	case body = <-forwarded:
	case <-time.After(30 * time.Second):
		t.Fatalf("nothing forwarded within 30s; listen stderr:\n%s", listen.stderr)
	}
	var c struct {
		Value []struct {
			SubscriptionID string `json:"subscriptionId"`
			ChangeType     string `json:"changeType"`
			ClientState    string `json:"clientState"`
			Resource       string `json:"resource"`
			ResourceData   struct {
				ID string `json:"id"`
			} `json:"resourceData"`
		} `json:"value"`
	}
	if err := json.Unmarshal(body, &c); err != nil || len(c.Value) != 1 {
		t.Fatalf("forwarded body = %s, want a collection of one notification", body)
	}
	if n := c.Value[0]; n.SubscriptionID != subID || n.ChangeType != "created" || n.ResourceData.ID != msgID || n.ClientState == "" {
		t.Errorf("forwarded notification = %+v, want created message %s on subscription %s with a clientState", n, msgID, subID)
	}
	listen.lineWith(t, "  forwarded: 202 Accepted")

	// Ctrl-C: the subscription is deleted before listen exits 0.
	listen.cmd.Process.Signal(syscall.SIGINT)
	if l := listen.lineWith(t, "subscription "+subID); l != "subscription "+subID+" deleted" {
		t.Errorf("after SIGINT listen printed %q, want %q", l, "subscription "+subID+" deleted")
	}
	select {
	case err := <-listen.done:
		if err != nil {
			t.Errorf("listen exit after SIGINT: %v; stderr:\n%s", err, listen.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("listen did not exit within 30s of SIGINT")
	}
	if status, body := call("GET", "/v1.0/subscriptions/"+subID, nil); status != http.StatusNotFound {
		t.Errorf("GET the subscription after Ctrl-C = %d %v, want 404", status, body)
	}
}

// TestListenBinaryRefusedSubscription: a subscription the server refuses ends listen
// with status 1 and the Graph error's code and message.
func TestListenBinaryRefusedSubscription(t *testing.T) {
	t.Parallel()
	server := start(t, nil, "--addr", "127.0.0.1:0", "--data", t.TempDir())
	m := listeningRE.FindStringSubmatch(server.line(t))
	if m == nil {
		t.Fatal("serve printed no listening line")
	}
	cmd := exec.Command(binary(t), "listen", "--server", m[1], "--resource", "/users", "--change-type", "created")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("listen on a refused subscription: %v, want exit status 1; output:\n%s", err, out)
	}
	want := "400 InvalidRequest: Invalid 'changeType' attribute: 'created'."
	if !strings.Contains(string(out), want) {
		t.Errorf("output = %q, want it to contain %q", out, want)
	}
}

// TestListenRichEndToEnd: `graphhook listen --include-resource-data` on a chat prints
// the chat message decrypted, which takes the throwaway certificate being accepted,
// the validation token verifying against the server's JWKS, and the decryption.
func TestListenRichEndToEnd(t *testing.T) {
	t.Parallel()
	server := start(t, nil, "--addr", "127.0.0.1:0", "--data", t.TempDir())
	m := listeningRE.FindStringSubmatch(server.line(t))
	if m == nil {
		t.Fatal("serve printed no listening line")
	}
	base := m[1]
	tokenURL := graphclient.TokenEndpoint(base, demoTenant)
	appTok := tokenFrom(t, tokenURL, graphclient.ClientCredentials(demoAppID, demoAppSecret))
	adeleTok := tokenFrom(t, tokenURL, graphclient.Password(demoDelegatedAppID, demoDelegatedSecret, "adele@contoso.onmicrosoft.com", "Passw0rd!"))
	call := func(tok, method, path string, body any, want int) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("%s %s = %d %v, want %d", method, path, resp.StatusCode, out, want)
		}
		return out
	}
	member := func(id string) map[string]any {
		return map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": []string{"owner"},
			"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + id + "')"}
	}
	chat := call(appTok, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "listen",
		"members": []any{member(adeleID), member("22222222-0000-4000-8000-000000000002")}}, http.StatusCreated)
	chatID, _ := chat["id"].(string)

	resource := "/chats/" + chatID + "/messages"
	listen := startBinary(t, "listen", "--server", base, "--resource", resource, "--change-type", "created", "--include-resource-data")
	created := subscriptionCreatedRE.FindStringSubmatch(listen.lineWith(t, "subscription "))
	// listen prints the resource as the API echoed it: without the leading slash.
	if created == nil || created[2] != strings.TrimPrefix(resource, "/") {
		t.Fatalf("listen printed %q, want %q", created, "subscription <id> created for "+strings.TrimPrefix(resource, "/"))
	}
	msg := call(adeleTok, "POST", "/v1.0/chats/"+chatID+"/messages", map[string]any{"body": map[string]any{"content": "decrypt me"}}, http.StatusCreated)
	msgID, _ := msg["id"].(string)

	head := listen.lineWith(t, "] created ")
	if !strings.HasSuffix(head, "/messages('"+msgID+"')") {
		t.Errorf("printed %q, want the created message's resource", head)
	}
	listen.lineWith(t, "  data (decrypted):")
	var data []string
	for l := listen.line(t); l != "    }"; l = listen.line(t) {
		data = append(data, l)
	}
	text := strings.Join(data, "\n")
	// The JSON is indented under the block: keys at six spaces, nested ones at eight.
	for _, want := range []string{"\n        \"content\": \"decrypt me\"", "\n      \"id\": \"" + msgID + "\"", "\n      \"chatId\": \"" + chatID + "\""} {
		if !strings.Contains(text, want) {
			t.Errorf("decrypted block lacks %q:\n%s", want, text)
		}
	}
	listen.cmd.Process.Signal(syscall.SIGINT)
	if l := listen.lineWith(t, "subscription "+created[1]); l != "subscription "+created[1]+" deleted" {
		t.Errorf("after SIGINT listen printed %q, want the deletion", l)
	}
	if err := <-listen.done; err != nil {
		t.Errorf("listen exit after SIGINT: %v; stderr:\n%s", err, listen.stderr)
	}
}
