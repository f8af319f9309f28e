package interop

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNamespaceReachesNothingOutside shows the guard these tests rely on: a client that
// ignored the proxy would fail at once instead of reaching the Internet.
func TestNamespaceReachesNothingOutside(t *testing.T) {
	start := time.Now()
	c, err := net.DialTimeout("tcp", guardTestTarget, 5*time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("net.Dial(%s) connected: the namespace reaches beyond loopback", guardTestTarget)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("net.Dial(%s) failed after %v, want a failure at once (no route): %v", guardTestTarget, d, err)
	}
	t.Logf("net.Dial(%s) = %v (after %v)", guardTestTarget, err, time.Since(start))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, "graph.microsoft.com")
	if err == nil {
		t.Fatalf("LookupHost(graph.microsoft.com) = %v, want an error: the namespace resolves names", addrs)
	}
	t.Logf("LookupHost(graph.microsoft.com) = %v", err)
}

// connect sends a CONNECT for target to graphhook's proxy and returns the response status.
func connect(t *testing.T, s server, target string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.httpURL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatalf("dial graphhook: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n")); err != nil {
		t.Fatalf("write CONNECT: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("CONNECT %s: reading the response: %v", target, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestProxyServesOnlyMicrosoftHosts: graphhook's proxy tunnels Graph's and Entra's
// hosts to itself and refuses every other host.
func TestProxyServesOnlyMicrosoftHosts(t *testing.T) {
	s := graphhook(t)
	for _, host := range []string{"graph.microsoft.com:443", "login.microsoftonline.com:443"} {
		if got := connect(t, s, host); got != http.StatusOK {
			t.Errorf("CONNECT %s = %d, want 200", host, got)
		}
	}
	for _, host := range []string{"example.org:443", "203.0.113.1:443", "graph.microsoft.com.example.org:443"} {
		if got := connect(t, s, host); got < 400 {
			t.Errorf("CONNECT %s = %d, want a refusal (4xx or 5xx)", host, got)
		}
	}

	// The same through Go's HTTP client, as an app configured by HTTPS_PROXY sees it.
	s.proxied(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://example.org/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET https://example.org/ through graphhook's proxy = %s, want an error", resp.Status)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GET https://example.org/ through graphhook's proxy hung: %v", err)
	}
	t.Logf("GET https://example.org/ through graphhook's proxy: %v", err)
}
