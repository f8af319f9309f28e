package egress

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"maps"
	"net"
	"net/http"
	"time"
)

// DefaultTLSVersion is latestSupportedTlsVersion when a subscription sets none.
const DefaultTLSVersion = "v1_2"

var tlsVersions = map[string]uint16{
	"v1_0": tls.VersionTLS10,
	"v1_1": tls.VersionTLS11,
	"v1_2": tls.VersionTLS12,
	"v1_3": tls.VersionTLS13,
}

// TLSVersions returns the values of latestSupportedTlsVersion and the TLS versions
// they stand for.
func TLSVersions() map[string]uint16 { return maps.Clone(tlsVersions) }

// Config says how outbound clients behave. Zero fields take their defaults.
type Config struct {
	// Strict refuses non-public addresses when connecting (the strict profile;
	// default false, the dev profile, which reaches receivers on loopback).
	Strict bool
	// RootCAs verifies endpoints' certificates (default the system roots); tests
	// set it to trust their own https receivers.
	RootCAs *x509.CertPool
	// DialTimeout bounds connecting, TLS handshake apart (default 10s).
	DialTimeout time.Duration
	// MaxIdleConns caps idle connections over all hosts (default 100).
	MaxIdleConns int
	// MaxIdleConnsPerHost caps idle connections to one host (default 4).
	MaxIdleConnsPerHost int
}

// Clients holds one client per latestSupportedTlsVersion; each keeps its own
// connection pool, since a connection's TLS version is fixed at its handshake.
type Clients struct {
	byVersion map[string]*http.Client
}

// New returns the clients for cfg.
func New(cfg Config) *Clients {
	cfg.DialTimeout = cmp.Or(cfg.DialTimeout, 10*time.Second)
	cfg.MaxIdleConns = cmp.Or(cfg.MaxIdleConns, 100)
	cfg.MaxIdleConnsPerHost = cmp.Or(cfg.MaxIdleConnsPerHost, 4)
	c := &Clients{byVersion: make(map[string]*http.Client, len(tlsVersions))}
	for name, version := range tlsVersions {
		c.byVersion[name] = newClient(cfg, version)
	}
	return c
}

// For returns the client for a subscription's latestSupportedTlsVersion; "" or an
// unknown value (the subscriptions API accepts none) gets DefaultTLSVersion's.
func (c *Clients) For(tlsVersion string) *http.Client {
	if cl, ok := c.byVersion[tlsVersion]; ok {
		return cl
	}
	return c.byVersion[DefaultTLSVersion]
}

// CloseIdleConnections closes every idle pooled connection.
func (c *Clients) CloseIdleConnections() {
	for _, cl := range c.byVersion {
		cl.CloseIdleConnections()
	}
}

func newClient(cfg Config, maxTLS uint16) *http.Client {
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	if cfg.Strict {
		dialer.Control = CheckAddress
	}
	transport := &http.Transport{
		Proxy:       nil,
		DialContext: dialer.DialContext,
		TLSClientConfig: &tls.Config{
			// Go's client refuses TLS below 1.2 unless told; an endpoint that only
			// speaks v1_0 and says so must still be reachable.
			MinVersion: min(tls.VersionTLS10, maxTLS),
			MaxVersion: maxTLS,
			RootCAs:    cfg.RootCAs,
		},
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConns:        cfg.MaxIdleConns,
		MaxIdleConnsPerHost: cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:     90 * time.Second,
		// Notification bodies are small JSON; asking for gzip answers only costs CPU.
		DisableCompression: true,
		ForceAttemptHTTP2:  true,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
