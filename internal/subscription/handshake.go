package subscription

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/graph"
)

// TLS versions of latestSupportedTlsVersion.
var tlsVersions = map[string]uint16{
	"v1_0": tls.VersionTLS10,
	"v1_1": tls.VersionTLS11,
	"v1_2": tls.VersionTLS12,
	"v1_3": tls.VersionTLS13,
}

// defaultTLSVersion is latestSupportedTlsVersion when the client sets none.
const defaultTLSVersion = "v1_2"

// Handshaker performs the endpoint validation handshake of spec §3: it POSTs to the
// URL with a validationToken query parameter and checks that the endpoint answers 200
// with the decoded token as its body, within the time limit.
//
// It follows no redirects (a 3xx is a failed validation, so a subscription cannot be
// pointed at a host through a redirect), reads at most MaxBody bytes of the answer,
// connects with at most the subscription's TLS version, and in the strict profile
// refuses loopback, private and link-local addresses when connecting, after name
// resolution, so that DNS names pointing inside the network are caught too.
type Handshaker struct {
	timeout time.Duration
	maxBody int64
	// clients by latestSupportedTlsVersion; each keeps its own connection pool.
	clients map[string]*http.Client
}

// NewHandshaker returns a handshaker for cfg (defaults applied).
func NewHandshaker(cfg Config) *Handshaker {
	cfg = cfg.withDefaults()
	h := &Handshaker{timeout: cfg.HandshakeTimeout, maxBody: cfg.HandshakeMaxBody, clients: map[string]*http.Client{}}
	for name, version := range tlsVersions {
		h.clients[name] = newHandshakeClient(cfg.Profile == ProfileStrict, version, cfg.RootCAs)
	}
	return h
}

func newHandshakeClient(strict bool, maxTLS uint16, roots *x509.CertPool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if strict {
		dialer.Control = refusePrivate
	}
	transport := &http.Transport{
		// No proxy: the address check must see the receiver's address, not a proxy's.
		Proxy:       nil,
		DialContext: dialer.DialContext,
		TLSClientConfig: &tls.Config{
			// Go's client refuses TLS below 1.2 unless told; an endpoint that only
			// speaks v1_0 and says so must still be reachable.
			MinVersion: min(tls.VersionTLS10, maxTLS),
			MaxVersion: maxTLS,
			RootCAs:    roots,
		},
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// refusePrivate is the dialer's Control hook in the strict profile: it runs after
// name resolution, on the address actually being connected to.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("handshake: cannot check address %q: %w", address, err)
	}
	if !publicAddr(ap.Addr()) {
		return fmt.Errorf("handshake: address %s is not public; the strict profile refuses loopback, private and link-local targets", ap.Addr())
	}
	return nil
}

// publicAddr reports whether a is a routable public unicast address.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() &&
		!a.IsLinkLocalMulticast() && !a.IsInterfaceLocalMulticast() && !a.IsMulticast() && !a.IsUnspecified() &&
		!sharedAddressSpace.Contains(a)
}

// sharedAddressSpace is RFC 6598 carrier-grade NAT space, private in all but name.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// NewToken returns a validation token in the form Graph sends (spec §3).
func NewToken() string {
	return "Validation: Testing client application reachability for subscription Request-Id: " + uuid.NewString()
}

// ValidationURL returns target with the validationToken query parameter added
// (after '&' when target already has a query).
func ValidationURL(target, token string) string {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	if strings.HasSuffix(target, "?") || strings.HasSuffix(target, "&") {
		sep = ""
	}
	return target + sep + "validationToken=" + url.QueryEscape(token)
}

// Validate runs the handshake against target with a fresh token. tlsVersion is the
// subscription's latestSupportedTlsVersion ("" for the default). The error is a
// *graph.Error with the message of spec §1.3 for the failure; internal detail (why
// the connection failed) is kept in its Err for the log.
func (h *Handshaker) Validate(ctx context.Context, target, tlsVersion string) error {
	client := h.clients[tlsVersion]
	if client == nil {
		client = h.clients[defaultTLSVersion]
	}
	token := NewToken()
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ValidationURL(target, token), http.NoBody)
	if err != nil {
		return failed(msgNot200, err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("User-Agent", "graphhook-validation")
	resp, err := client.Do(req)
	if err != nil {
		if timedOut(ctx, err) {
			return &graph.Error{Status: http.StatusBadRequest, Code: graph.CodeInvalidRequest, Message: msgTimedOut, Err: err}
		}
		return failed(msgNot200, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return failed(msgNot200, fmt.Errorf("endpoint answered %s", resp.Status))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, h.maxBody+1))
	if err != nil {
		if timedOut(ctx, err) {
			return &graph.Error{Status: http.StatusBadRequest, Code: graph.CodeInvalidRequest, Message: msgTimedOut, Err: err}
		}
		return failed(msgNot200, err)
	}
	if !bytes.Equal(body, []byte(token)) {
		return failed(msgMismatch, fmt.Errorf("endpoint answered %d bytes that are not the token", len(body)))
	}
	return nil
}

func failed(msg string, err error) *graph.Error {
	return &graph.Error{Status: http.StatusBadRequest, Code: graph.CodeValidationError, Message: msg, Err: err}
}

func timedOut(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
