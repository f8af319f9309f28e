package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/certgen"
	"github.com/graphhook/graphhook/internal/graphclient"
)

// Demo tenant facts, from the built-in fixture the server loads into an empty store.
const (
	tenant          = "6f1c2d3e-0000-4000-8000-000000000001"
	appID           = "11111111-0000-4000-8000-000000000001"
	appSecret       = "demo-app-secret"
	delegatedAppID  = "11111111-0000-4000-8000-000000000002"
	delegatedSecret = "demo-delegated-secret"
	adele           = "22222222-0000-4000-8000-000000000001"
	adeleUPN        = "adele@contoso.onmicrosoft.com"
	bruno           = "22222222-0000-4000-8000-000000000002"
	brunoUPN        = "bruno@contoso.onmicrosoft.com"
	salesGroup      = "33333333-0000-4000-8000-000000000001"
	password        = "Passw0rd!"
)

// wait bounds every wait for the server or a notification.
const wait = 30 * time.Second

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "graphhook-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "graphhook")
	if out, err := exec.Command("go", "build", "-o", binPath, "github.com/graphhook/graphhook/cmd/graphhook").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build graphhook: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `graphhook serve`.
type server struct {
	URL    string
	cmd    *exec.Cmd
	stderr *syncBuffer
}

// syncBuffer is a buffer the process writes and the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listeningRE = regexp.MustCompile(`^graphhook listening on (http://127\.0\.0\.1:[0-9]+)$`)

// startServer runs graphhook serve with the demo tenant in a fresh data folder and
// returns once it accepts requests; extra flags follow the defaults. It is killed
// when the test ends.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	s := &server{stderr: &syncBuffer{}}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--https-addr", "127.0.0.1:0", "--data", t.TempDir()}, extra...)
	s.cmd = exec.Command(binPath, args...)
	s.cmd.Stderr = s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		if t.Failed() {
			t.Logf("graphhook serve stderr:\n%s", s.stderr)
		}
	})
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case l := <-first:
		m := listeningRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("graphhook serve's first line = %q, want %q; stderr:\n%s", l, "graphhook listening on http://127.0.0.1:PORT", s.stderr)
		}
		s.URL = m[1]
	case <-time.After(wait):
		t.Fatalf("graphhook serve did not start within %v; stderr:\n%s", wait, s.stderr)
	}
	return s
}

// token gets an access token from the server's token endpoint.
func (s *server) token(t *testing.T, form url.Values) string {
	t.Helper()
	tok, err := graphclient.FetchToken(context.Background(), nil, graphclient.TokenEndpoint(s.URL, tenant), form)
	if err != nil {
		t.Fatalf("token %v: %v", form.Get("grant_type"), err)
	}
	return tok.AccessToken
}

// appToken is an application token of the demo app.
func (s *server) appToken(t *testing.T) string {
	return s.token(t, graphclient.ClientCredentials(appID, appSecret))
}

// userToken is a delegated token of the demo delegated app for a work user.
func (s *server) userToken(t *testing.T, upn string) string {
	return s.token(t, graphclient.Password(delegatedAppID, delegatedSecret, upn, password))
}

// response is one Graph answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// object decodes the body as a JSON object.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.Body, err)
	}
	return m
}

// call sends a Graph request with a JSON body (when not nil).
func (s *server) call(t *testing.T, token, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// mustCall is call that fails the test unless the status is want.
func (s *server) mustCall(t *testing.T, token, method, path string, body any, want int) response {
	t.Helper()
	r := s.call(t, token, method, path, body)
	if r.Status != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	return r
}

// certificate is an app's encryption certificate for rich notifications.
type certificate struct {
	ID     string // encryptionCertificateId
	Base64 string // encryptionCertificate: base64 DER
	Cert   *x509.Certificate
	Key    *rsa.PrivateKey
}

// newCertificate makes an RSA-2048 key and a self-signed certificate for it, as an
// app would with openssl.
func newCertificate(t *testing.T, id string) certificate {
	t.Helper()
	c, err := certgen.New(certgen.Options{CommonName: id})
	if err != nil {
		t.Fatal(err)
	}
	return certificate{ID: id, Base64: c.Base64(), Cert: c.Cert, Key: c.Key}
}

// expiry is an expirationDateTime the given time from now, in Graph's form.
func expiry(d time.Duration) string {
	return time.Now().Add(d).UTC().Format("2006-01-02T15:04:05.0000000Z")
}
