package interop

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
)

// The interop fixture's tenant (interop/fixture.yaml): graphhook's demo tenant plus a
// public client app.
const (
	tenantID        = "6f1c2d3e-0000-4000-8000-000000000001"
	tenantDomain    = "contoso.onmicrosoft.com"
	appID           = "11111111-0000-4000-8000-000000000001"
	appSecret       = "demo-app-secret"
	publicAppID     = "11111111-0000-4000-8000-0000000000c1"
	adeleID         = "22222222-0000-4000-8000-000000000001"
	adeleUPN        = "adele@contoso.onmicrosoft.com"
	password        = "Passw0rd!"
	graphScope      = "https://graph.microsoft.com/.default"
	entraAuthority  = "https://login.microsoftonline.com/"
	graphV1BaseURL  = "https://graph.microsoft.com/v1.0"
	guardTestTarget = "203.0.113.1:443" // TEST-NET-3: never routed, and never reachable from the namespace
)

// server is the graphhook that scripts/interop.sh started inside the namespace before
// running this test binary.
type server struct {
	httpURL  string // http://127.0.0.1:PORT: plain HTTP and the CONNECT proxy
	httpsURL string // https://127.0.0.1:PORT: direct HTTPS mode
	caFile   string // the local CA's certificate (PEM)
	startErr string // why graphhook did not start, when it did not
}

var srv server

// TestMain refuses to run anywhere but in a network namespace that has only loopback,
// so that a client that ignores the proxy fails instead of reaching Microsoft.
func TestMain(m *testing.M) {
	if err := onlyLoopback(); err != nil {
		fmt.Fprintf(os.Stderr, "interop: %v\n", err)
		fmt.Fprintln(os.Stderr, "interop: these tests run only inside a loopback-only network namespace: use scripts/interop.sh")
		os.Exit(2)
	}
	srv = server{
		httpURL:  os.Getenv("GRAPHHOOK_HTTP_URL"),
		httpsURL: os.Getenv("GRAPHHOOK_HTTPS_URL"),
		caFile:   os.Getenv("GRAPHHOOK_CA_FILE"),
		startErr: os.Getenv("GRAPHHOOK_START_ERROR"),
	}
	os.Exit(m.Run())
}

// onlyLoopback reports an error unless every network interface is a loopback one.
func onlyLoopback() error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("listing network interfaces: %w", err)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagLoopback == 0 {
			return fmt.Errorf("network interface %q is not loopback", ifc.Name)
		}
	}
	return nil
}

// graphhook returns the running server, or fails the test with the reason it is not
// running.
func graphhook(t *testing.T) server {
	t.Helper()
	if srv.startErr != "" {
		t.Fatalf("graphhook did not start:\n%s", srv.startErr)
	}
	if !strings.HasPrefix(srv.httpURL, "http://") || !strings.HasPrefix(srv.httpsURL, "https://") || srv.caFile == "" {
		t.Fatalf("GRAPHHOOK_HTTP_URL=%q GRAPHHOOK_HTTPS_URL=%q GRAPHHOOK_CA_FILE=%q: scripts/interop.sh sets these", srv.httpURL, srv.httpsURL, srv.caFile)
	}
	if _, err := os.Stat(srv.caFile); err != nil {
		t.Fatalf("graphhook's CA certificate: %v", err)
	}
	return srv
}

// proxied checks that the process environment sends HTTPS through graphhook's proxy and
// trusts its CA, as scripts/interop.sh sets it: the only settings proxy mode needs.
func (s server) proxied(t *testing.T) {
	t.Helper()
	if p := os.Getenv("HTTPS_PROXY"); p != s.httpURL {
		t.Fatalf("HTTPS_PROXY = %q, want graphhook's %q", p, s.httpURL)
	}
	if f := os.Getenv("SSL_CERT_FILE"); f != s.caFile {
		t.Fatalf("SSL_CERT_FILE = %q, want graphhook's CA %q", f, s.caFile)
	}
}

// authorityHost is the direct mode's authority host: graphhook's HTTPS root.
func (s server) authorityHost() string { return strings.TrimSuffix(s.httpsURL, "/") + "/" }

// hostname is the host of the direct mode's URL without its port.
func (s server) hostname(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(s.httpsURL)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", s.httpsURL, err)
	}
	return u.Hostname()
}
