package app_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/bodyrate"
)

// loopbackOnly is a dialer that reaches only addr and fails the test on any other:
// a client here must never leave the machine, even when it ignores its proxy.
func loopbackOnly(t *testing.T, addr string) func(ctx context.Context, network, a string) (net.Conn, error) {
	return func(ctx context.Context, network, a string) (net.Conn, error) {
		if a != addr {
			t.Errorf("client dialled %s; only %s is allowed", a, addr)
			return nil, errors.New("refused: not the allowed loopback address")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, a)
	}
}

// getJSON sends a request and decodes the JSON answer, failing on any other status.
func getJSON(t *testing.T, c *http.Client, method, u, token string, form url.Values, want int) map[string]any {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", method, u, resp.StatusCode, data, want)
	}
	var out map[string]any
	json.Unmarshal(data, &out)
	return out
}

// TestHTTPSAndProxy: the HTTPS listener serves with a certificate of the local CA and
// links that stay on HTTPS; through the proxy front, the same server answers as
// login.microsoftonline.com and graph.microsoft.com, with Entra's and Graph's own
// issuer and links, and refuses every other host.
func TestHTTPSAndProxy(t *testing.T) {
	t.Parallel()
	m := start(t, app.Config{HTTPSAddr: "127.0.0.1:0"})
	if !strings.HasPrefix(m.HTTPSURL, "https://127.0.0.1:") {
		t.Fatalf("HTTPSURL = %q, want https://127.0.0.1:PORT", m.HTTPSURL)
	}
	creds := url.Values{"grant_type": {"client_credentials"}, "client_id": {demoAppID}, "client_secret": {demoAppSecret},
		"scope": {"https://graph.microsoft.com/.default"}}

	// Direct HTTPS, trusting only the local CA.
	httpsAddr := strings.TrimPrefix(m.HTTPSURL, "https://")
	direct := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: m.CA.Pool()}, DialContext: loopbackOnly(t, httpsAddr)}}
	tok := getJSON(t, direct, "POST", m.HTTPSURL+"/"+demoTenant+"/oauth2/v2.0/token", "", creds, 200)["access_token"].(string)
	users := getJSON(t, direct, "GET", m.HTTPSURL+"/v1.0/users?$top=1", tok, nil, 200)
	if got, want := users["@odata.context"], m.HTTPSURL+"/v1.0/$metadata#users"; got != want {
		t.Errorf("direct HTTPS @odata.context = %v, want %v", got, want)
	}
	if next, _ := users["@odata.nextLink"].(string); !strings.HasPrefix(next, m.HTTPSURL+"/v1.0/users?") {
		t.Errorf("direct HTTPS @odata.nextLink = %q, want a link on %s", next, m.HTTPSURL)
	}
	oidc := getJSON(t, direct, "GET", m.HTTPSURL+"/"+demoTenant+"/v2.0/.well-known/openid-configuration", "", nil, 200)
	if got, want := oidc["issuer"], m.HTTPSURL+"/"+demoTenant+"/v2.0"; got != want {
		t.Errorf("direct OIDC issuer = %v, want %v", got, want)
	}

	// Through the proxy front: the client names Microsoft's hosts and dials only the
	// proxy; nothing is resolved.
	proxyAddr := strings.TrimPrefix(m.URL, "http://")
	proxyURL, _ := url.Parse(m.URL)
	viaProxy := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL),
		TLSClientConfig: &tls.Config{RootCAs: m.CA.Pool()}, DialContext: loopbackOnly(t, proxyAddr)}}
	oidc = getJSON(t, viaProxy, "GET", "https://login.microsoftonline.com/"+demoTenant+"/v2.0/.well-known/openid-configuration", "", nil, 200)
	if got, want := oidc["issuer"], "https://login.microsoftonline.com/"+demoTenant+"/v2.0"; got != want {
		t.Errorf("proxied OIDC issuer = %v, want %v", got, want)
	}
	tok = getJSON(t, viaProxy, "POST", "https://login.microsoftonline.com/"+demoTenant+"/oauth2/v2.0/token", "", creds, 200)["access_token"].(string)
	users = getJSON(t, viaProxy, "GET", "https://graph.microsoft.com/v1.0/users?$top=1", tok, nil, 200)
	if got, want := users["@odata.context"], "https://graph.microsoft.com/v1.0/$metadata#users"; got != want {
		t.Errorf("proxied @odata.context = %v, want %v", got, want)
	}

	// Any other host is refused by the proxy, never dialled.
	resp, err := viaProxy.Get("https://example.com/")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET https://example.com/ through the proxy = %d, want the CONNECT refused", resp.StatusCode)
	}
	if !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("GET https://example.com/ through the proxy: %v, want a 403 Forbidden CONNECT", err)
	}
}

// TestSlowBodyIsCut: a client that trickles a request body (a byte at a time, to
// hold a connection) is answered 408 and cut after one window, while the server
// keeps serving others.
func TestSlowBodyIsCut(t *testing.T) {
	t.Parallel()
	m := start(t, app.Config{BodyRate: bodyrate.Config{Window: 300 * time.Millisecond, MinRate: 1000}})
	conn, err := net.Dial("tcp", strings.TrimPrefix(m.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1.0/subscriptions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", appToken(t, m.URL))
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a hang fails the test
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 408 ") {
		t.Fatalf("trickled body: status line %q (%v), want 408", line, err)
	}
	if resp, err := http.Get(m.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz after the cut = %v, %v; want 200", resp, err)
	}
}
