package proxy_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/proxy"
	"github.com/graphhook/graphhook/internal/tlsca"
)

// fixture is a proxy in front of an echo handler, on a loopback port.
type fixture struct {
	ca    *tlsca.CA
	proxy *proxy.Proxy
	addr  string // the proxy's 127.0.0.1:PORT
	url   *url.URL
}

// echo answers with what graphhook's handler would see of the request.
func echo(w http.ResponseWriter, r *http.Request) {
	via, _ := proxy.Via(r)
	sni := ""
	if r.TLS != nil {
		sni = r.TLS.ServerName
	}
	body, _ := io.ReadAll(r.Body)
	fmt.Fprintf(w, "method=%s host=%s path=%s proto=%s tls=%v sni=%s via=%s body=%s",
		r.Method, r.Host, r.URL.Path, r.Proto, r.TLS != nil, sni, via, body)
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ca, err := tlsca.Open(context.Background(), tlsca.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := proxy.New(proxy.Config{CA: ca, Handler: http.HandlerFunc(echo)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(p)
	// The outer server's own timeouts must not reach into the tunnels.
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	srv.Start()
	t.Cleanup(func() {
		p.Close()
		srv.Close()
	})
	u, _ := url.Parse(srv.URL)
	return &fixture{ca: ca, proxy: p, addr: u.Host, url: u}
}

// dialer returns a dial function that connects only to the addresses routes maps
// (the test's resolver) and fails the test on any other: every test talks only to
// 127.0.0.1, even if a client ignored its proxy.
func dialer(t *testing.T, routes map[string]string) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		to, ok := routes[addr]
		if !ok {
			t.Errorf("dial %s %s: not an address this test may reach", network, addr)
			return nil, fmt.Errorf("test dialer: %s is off limits", addr)
		}
		return (&net.Dialer{}).DialContext(ctx, "tcp", to)
	}
}

// client returns an HTTP client that uses the proxy (HTTPS_PROXY's way) and trusts
// the CA; h2 says whether it offers HTTP/2.
func (f *fixture) client(t *testing.T, h2 bool, routes map[string]string) *http.Client {
	t.Helper()
	if routes == nil {
		routes = map[string]string{}
	}
	routes[f.addr] = f.addr
	tr := &http.Transport{
		Proxy:             http.ProxyURL(f.url),
		DialContext:       dialer(t, routes),
		TLSClientConfig:   &tls.Config{RootCAs: f.ca.Pool()},
		ForceAttemptHTTP2: h2,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func do(t *testing.T, c *http.Client, method, u, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestTunnel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		h2    bool
		proto string
	}{{"http1", false, "HTTP/1.1"}, {"h2", true, "HTTP/2.0"}} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			c := f.client(t, tc.h2, nil)
			// No DNS: the client sends CONNECT by name and the proxy never resolves it.
			code, body := do(t, c, "GET", "https://graph.microsoft.com/v1.0/users?$top=1", "")
			want := "method=GET host=graph.microsoft.com path=/v1.0/users proto=" + tc.proto +
				" tls=true sni=graph.microsoft.com via=graph.microsoft.com body="
			if code != 200 || body != want {
				t.Errorf("GET graph.microsoft.com = %d %q, want 200 %q", code, body, want)
			}
			// A second request, to another intercepted host, with a body.
			code, body = do(t, c, "POST", "https://LOGIN.microsoftonline.com/common/oauth2/v2.0/token", "grant_type=x")
			want = "method=POST host=login.microsoftonline.com path=/common/oauth2/v2.0/token proto=" + tc.proto +
				" tls=true sni=LOGIN.microsoftonline.com via=login.microsoftonline.com body=grant_type=x"
			if code != 200 || body != want {
				t.Errorf("POST login.microsoftonline.com = %d %q, want 200 %q", code, body, want)
			}
			// Keep-alive: the tunnel serves the next request too.
			if code, _ := do(t, c, "GET", "https://graph.microsoft.com/v1.0/me", ""); code != 200 {
				t.Errorf("second GET graph.microsoft.com = %d, want 200", code)
			}
		})
	}
}

// TestRefusesOtherHosts points a non-Microsoft name at a loopback listener through the
// test's resolver and shows that the proxy refuses it and the listener never sees a
// connection.
func TestRefusesOtherHosts(t *testing.T) {
	f := setup(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	evil := "evil.example:" + port
	routes := map[string]string{evil: l.Addr().String()}
	c := f.client(t, true, routes)

	// Through HTTPS_PROXY: CONNECT evil.example:PORT.
	if _, err := c.Get("https://" + evil + "/"); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("GET https://%s/ through the proxy: err = %v, want the proxy's 403 Forbidden", evil, err)
	}
	// Through HTTP_PROXY: an absolute-form GET.
	code, body := do(t, c, "GET", "http://"+evil+"/", "")
	if code != 403 || !strings.Contains(body, evil) || !strings.Contains(body, "only intercepts Microsoft Graph and Entra hosts") {
		t.Errorf("GET http://%s/ through the proxy = %d %q, want 403 naming the host", evil, code, body)
	}
	// By hand, to read the refusal.
	code, body = rawConnect(t, f.addr, evil)
	if code != 403 || !strings.Contains(body, "refusing CONNECT "+evil) || !strings.Contains(body, "graph.microsoft.com") {
		t.Errorf("CONNECT %s = %d %q, want 403 naming the host and the hosts graphhook intercepts", evil, code, body)
	}

	// Names any dialler, not only the test's resolver, would take to the listener.
	for _, target := range []string{"localhost:" + port, l.Addr().String()} {
		if code, body := rawConnect(t, f.addr, target); code != 403 || !strings.Contains(body, target) {
			t.Errorf("CONNECT %s = %d %q, want 403 naming the target", target, code, body)
		}
	}

	// The control: the resolver does reach the listener. Connections are accepted in
	// order, so if the proxy had dialled, its connection would come first.
	ctl, err := dialer(t, routes)(context.Background(), "tcp", evil)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	select {
	case got := <-accepted:
		defer got.Close()
		if got.RemoteAddr().String() != ctl.LocalAddr().String() {
			t.Errorf("the listener's first connection came from %v, want the control dial from %v: the proxy dialled out",
				got.RemoteAddr(), ctl.LocalAddr())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the control dial was not accepted")
	}
}

// rawConnect sends CONNECT target to the proxy at addr and returns the answer.
func rawConnect(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	return raw(t, addr, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
}

// raw sends req on a fresh connection to addr and reads one response.
func raw(t *testing.T, addr, req string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%q: %v", req, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProxyRequests(t *testing.T) {
	f := setup(t)
	_, port, _ := net.SplitHostPort(f.addr)
	for _, tc := range []struct {
		name, req string
		code      int
		body      string // a part of the body
	}{
		{"CONNECT to another port", "CONNECT graph.microsoft.com:80 HTTP/1.1\r\nHost: graph.microsoft.com:80\r\n\r\n", 403, "on port 443 only"},
		{"CONNECT without port", "CONNECT graph.microsoft.com HTTP/1.1\r\nHost: graph.microsoft.com\r\n\r\n", 403, "needs host:port"},
		{"CONNECT to an address", "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n", 403, "only intercepts"},
		{"CONNECT to a national cloud", "CONNECT graph.microsoft.us:443 HTTP/1.1\r\nHost: graph.microsoft.us:443\r\n\r\n", 403, "only intercepts"},
		{"CONNECT to graphhook itself", "CONNECT " + f.addr + " HTTP/1.1\r\nHost: " + f.addr + "\r\n\r\n", 403, "only intercepts"},
		{"plain http to Graph", "GET http://graph.microsoft.com/v1.0/me HTTP/1.1\r\nHost: graph.microsoft.com\r\n\r\n", 403, "over https only"},
		{"plain http to another host", "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", 403, "refusing GET example.com"},
		{"https in absolute form", "GET https://graph.microsoft.com/v1.0/me HTTP/1.1\r\nHost: graph.microsoft.com\r\n\r\n", 403, "over https only"},
		{"absolute form to graphhook", "GET http://127.0.0.1:" + port + "/v1.0/me HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n", 200, "host=127.0.0.1:" + port + " path=/v1.0/me proto=HTTP/1.1 tls=false sni= via= "},
		{"absolute form to localhost", "GET http://localhost:" + port + "/x HTTP/1.1\r\nHost: localhost:" + port + "\r\n\r\n", 200, "path=/x"},
		{"absolute form to another port of this host", "GET http://127.0.0.1:1/x HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", 403, "refusing GET 127.0.0.1:1"},
		{"direct request", "GET /v1.0/me HTTP/1.1\r\nHost: graph.microsoft.com\r\n\r\n", 200, "host=graph.microsoft.com path=/v1.0/me proto=HTTP/1.1 tls=false sni= via= "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := raw(t, f.addr, tc.req)
			if code != tc.code || !strings.Contains(body, tc.body) {
				t.Errorf("%q = %d %q, want %d and a body with %q", tc.req, code, body, tc.code, tc.body)
			}
		})
	}
}

// pipelinedConn sends CONNECT together with the first bytes the TLS client writes
// (its ClientHello) and, on the first read, consumes the proxy's answer: a client
// that does not wait for "200 Connection Established".
type pipelinedConn struct {
	net.Conn
	connect []byte
	br      *bufio.Reader
	status  int
}

func (c *pipelinedConn) Write(b []byte) (int, error) {
	if c.connect != nil {
		msg := append(c.connect, b...)
		c.connect = nil
		if _, err := c.Conn.Write(msg); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *pipelinedConn) Read(b []byte) (int, error) {
	if c.br == nil {
		c.br = bufio.NewReader(c.Conn)
		resp, err := http.ReadResponse(c.br, &http.Request{Method: "CONNECT"})
		if err != nil {
			return 0, err
		}
		c.status = resp.StatusCode
	}
	return c.br.Read(b)
}

func TestPipelinedClientHello(t *testing.T) {
	f := setup(t)
	conn, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	pc := &pipelinedConn{Conn: conn, connect: []byte("CONNECT login.microsoft.com:443 HTTP/1.1\r\nHost: login.microsoft.com:443\r\n\r\n")}
	tc := tls.Client(pc, &tls.Config{ServerName: "login.microsoft.com", RootCAs: f.ca.Pool(), NextProtos: []string{"http/1.1"}})
	if _, err := io.WriteString(tc, "GET /common/discovery/instance HTTP/1.1\r\nHost: login.microsoft.com\r\n\r\n"); err != nil {
		t.Fatalf("write through the tunnel: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		t.Fatalf("read through the tunnel: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if pc.status != 200 || resp.StatusCode != 200 || !strings.Contains(string(b), "host=login.microsoft.com path=/common/discovery/instance") {
		t.Errorf("CONNECT %d, then GET = %d %q, want 200 and 200 from the handler", pc.status, resp.StatusCode, b)
	}
}

func TestCloseEndsTunnels(t *testing.T) {
	f := setup(t)
	conn, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	pc := &pipelinedConn{Conn: conn, connect: []byte("CONNECT graph.microsoft.com:443 HTTP/1.1\r\nHost: graph.microsoft.com:443\r\n\r\n")}
	tc := tls.Client(pc, &tls.Config{ServerName: "graph.microsoft.com", RootCAs: f.ca.Pool(), NextProtos: []string{"http/1.1"}})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake through the tunnel: %v", err)
	}
	if err := f.proxy.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if n, err := tc.Read(make([]byte, 1)); err == nil {
		t.Errorf("Read on a tunnel after Close = %d, nil; want an error (the tunnel closed)", n)
	}
	// A tunnel asked for after Close is not opened.
	if code, body := rawConnect(t, f.addr, "graph.microsoft.com:443"); code != http.StatusServiceUnavailable {
		t.Errorf("CONNECT after Close = %d %q, want 503", code, body)
	}
}

func TestNewValidates(t *testing.T) {
	ca, err := tlsca.Open(context.Background(), tlsca.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	h := http.NotFoundHandler()
	for _, cfg := range []proxy.Config{
		{Handler: h},
		{CA: ca},
		{CA: ca, Handler: h, Hosts: []string{"bad host"}},
		{CA: ca, Handler: h, Hosts: []string{"127.0.0.1"}},
		{CA: ca, Handler: h, Hosts: []string{"*.microsoft.com"}},
	} {
		if _, err := proxy.New(cfg); err == nil {
			t.Errorf("New(CA %v, handler %v, hosts %q) = nil error, want one", cfg.CA != nil, cfg.Handler != nil, cfg.Hosts)
		}
	}
}

func TestVia(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if host, ok := proxy.Via(r); ok {
		t.Errorf("Via(direct request) = %q, true; want false", host)
	}
	r = r.WithContext(proxy.WithVia(r.Context(), "graph.microsoft.com"))
	if host, ok := proxy.Via(r); !ok || host != "graph.microsoft.com" {
		t.Errorf("Via(marked request) = %q, %v; want graph.microsoft.com, true", host, ok)
	}
}

func TestClientMustTrustTheCA(t *testing.T) {
	f := setup(t)
	c := f.client(t, true, nil)
	c.Transport.(*http.Transport).TLSClientConfig.RootCAs = x509.NewCertPool()
	_, err := c.Get("https://graph.microsoft.com/v1.0/me")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("GET through the proxy without trusting the CA: err = %v, want x509.UnknownAuthorityError", err)
	}
}
