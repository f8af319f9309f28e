// Package proxy lets an unmodified Graph app reach graphhook by setting one variable,
// HTTPS_PROXY=http://127.0.0.1:PORT: graphhook's plain HTTP port also answers as an
// HTTP proxy, but one that never connects anywhere.
//
// A CONNECT to one of Microsoft's Graph or Entra hosts on port 443 is answered
// "200 Connection Established", and the tunnel's TLS is terminated right here with a
// certificate for that host from graphhook's CA (internal/tlsca). The requests inside,
// HTTP/1.1 or HTTP/2 as the client's ALPN chooses, are served by graphhook's own handler
// with r.Host set to the Microsoft host and a context marker (Via) so identity can
// speak as Entra does there: its issuers, links and JWKS URLs. Every other target, and
// every absolute-form plain-HTTP request except to graphhook itself, is refused with a
// 403 naming the host; nothing is dialled, so an app that reaches for a host graphhook
// does not emulate fails loudly instead of talking to the internet.
//
//	app ──CONNECT graph.microsoft.com:443──▶ Proxy ──200──▶ TLS (leaf from the CA)
//	                                                          └─▶ Handler (r.Host = graph.microsoft.com, Via)
//	app ──CONNECT evil.example:443─────────▶ Proxy ──403 (nothing dialled)
//	app ──GET /v1.0/users──────────────────▶ Proxy ──▶ Handler (as before)
package proxy

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/graphhook/graphhook/internal/tlsca"
)

// MicrosoftHosts returns the hosts the proxy intercepts by default: Microsoft Graph and
// the public cloud's Entra sign-in hosts. The four login names are the aliases Entra's
// instance discovery lists for the public cloud (MSAL treats them as one authority);
// sts.windows.net is also the issuer of v1 access tokens. National clouds, regional
// sign-in hosts ({region}.login.microsoft.com) and the retired Azure AD Graph are not
// intercepted.
func MicrosoftHosts() []string {
	return []string{
		"graph.microsoft.com",
		"login.microsoftonline.com",
		"login.microsoft.com",
		"login.windows.net",
		"sts.windows.net",
	}
}

// Config configures a Proxy.
type Config struct {
	// CA issues the certificates for the intercepted hosts. Required.
	CA *tlsca.CA
	// Handler serves every request: direct ones unchanged, tunnelled ones with r.Host
	// set to the Microsoft host. Required.
	Handler http.Handler
	// Hosts are the host names intercepted on port 443 (nil: MicrosoftHosts(); an
	// empty list intercepts nothing and refuses every proxy request).
	Hosts []string
	// Log receives one line per refused request and, at debug level, per tunnel
	// (default: discarded).
	Log *slog.Logger
	// ReadHeaderTimeout bounds the wait for a tunnelled request's headers (default 10s).
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a tunnel that carries no request for this long (default 2m).
	// No other deadline applies: a long request (a big upload, a slow delta round)
	// keeps its tunnel.
	IdleTimeout time.Duration
}

// Proxy is an http.Handler in front of graphhook's handler. Close (or Shutdown) it
// after the server it serves on: tunnels outlive the request that opened them, so the
// outer server does not track them.
type Proxy struct {
	handler http.Handler
	ca      *tlsca.CA
	hosts   map[string]bool
	list    string // the hosts, for error messages
	log     *slog.Logger

	inner    *http.Server
	ln       *tunnels
	start    sync.Once
	tunnelOf sync.Map // *tls.Conn → host, until the inner server picks the conn up
}

// New returns a Proxy in front of cfg.Handler.
func New(cfg Config) (*Proxy, error) {
	if cfg.CA == nil {
		return nil, errors.New("proxy: no CA")
	}
	if cfg.Handler == nil {
		return nil, errors.New("proxy: no handler")
	}
	hosts := cfg.Hosts
	if hosts == nil {
		hosts = MicrosoftHosts()
	}
	p := &Proxy{
		handler: cfg.Handler,
		ca:      cfg.CA,
		hosts:   map[string]bool{},
		log:     cmp.Or(cfg.Log, slog.New(slog.DiscardHandler)),
	}
	var names []string
	for _, h := range hosts {
		n, err := tlsca.CanonicalName(h)
		if err != nil || net.ParseIP(n) != nil || strings.HasPrefix(n, "*") {
			return nil, fmt.Errorf("proxy: %q is not a host name to intercept", h)
		}
		if !p.hosts[n] {
			p.hosts[n] = true
			names = append(names, n)
		}
	}
	p.list = strings.Join(names, ", ")
	p.ln = newTunnels()
	p.inner = &http.Server{
		Handler:           http.HandlerFunc(p.serveTunnelled),
		ReadHeaderTimeout: cmp.Or(cfg.ReadHeaderTimeout, 10*time.Second),
		IdleTimeout:       cmp.Or(cfg.IdleTimeout, 2*time.Minute),
		ConnContext:       p.connContext,
		// Handshake failures land here: most often an app that does not trust the CA.
		ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	return p, nil
}

// ServeHTTP answers CONNECT and absolute-form proxy requests and passes every other
// request to the handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		p.connect(w, r)
	case r.URL.IsAbs() || r.URL.Host != "":
		p.absolute(w, r)
	default:
		p.handler.ServeHTTP(w, r)
	}
}

// connect opens a tunnel to an intercepted host or refuses.
func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	target := r.Host // authority-form: host:port
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		p.refuse(w, r, target, fmt.Sprintf("CONNECT needs host:port, got %q.", target))
		return
	}
	host = canonicalHost(host)
	if !p.hosts[host] {
		p.refuse(w, r, target, fmt.Sprintf("graphhook only intercepts Microsoft Graph and Entra hosts (%s), on port 443; it never connects anywhere else.", p.list))
		return
	}
	if port != "443" {
		p.refuse(w, r, target, fmt.Sprintf("graphhook intercepts %s on port 443 only; it never connects anywhere else.", host))
		return
	}
	if p.ln.closed() {
		http.Error(w, "graphhook: shutting down", http.StatusServiceUnavailable)
		return
	}
	rc := http.NewResponseController(w)
	conn, brw, err := rc.Hijack()
	if err != nil {
		// HTTP/2 streams cannot be hijacked; the plain port speaks HTTP/1.1 only.
		p.log.Warn("proxy: cannot open a tunnel", "target", target, "proto", r.Proto, "err", err)
		http.Error(w, "graphhook: CONNECT is served over HTTP/1.1 only.", http.StatusHTTPVersionNotSupported)
		return
	}
	// The outer server may have left its read deadline on the conn; the tunnel has
	// only the inner server's idle and header timeouts.
	conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		conn.Close()
		return
	}
	var raw net.Conn = conn
	if n := brw.Reader.Buffered(); n > 0 {
		// The client sent its ClientHello without waiting for our answer.
		buffered, _ := brw.Reader.Peek(n)
		raw = &prefixConn{Conn: conn, prefix: append([]byte(nil), buffered...)}
	}
	tc := tls.Server(raw, &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		// The CONNECT target names the certificate, not the SNI: what the tunnel was
		// opened for is what it serves.
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return p.ca.Leaf(host) },
	})
	p.log.Debug("proxy: tunnel", "host", host, "remote", r.RemoteAddr)
	p.start.Do(func() { go p.inner.Serve(p.ln) })
	p.tunnelOf.Store(tc, host)
	if !p.ln.push(tc) {
		p.tunnelOf.Delete(tc)
		tc.Close()
	}
}

// absolute handles an absolute-form request (GET http://host/path): a plain-HTTP proxy
// request. One aimed at graphhook itself (a client that proxies even loopback URLs) is
// served; Microsoft's hosts are served over https only, through CONNECT, as the real
// ones are; everything else is refused.
func (p *Proxy) absolute(w http.ResponseWriter, r *http.Request) {
	if r.URL.Scheme == "http" && p.isSelf(r) {
		r2 := r.Clone(r.Context())
		r2.URL.Scheme, r2.URL.Host = "", ""
		p.handler.ServeHTTP(w, r2)
		return
	}
	host := canonicalHost(r.URL.Hostname())
	if p.hosts[host] {
		p.refuse(w, r, r.URL.Host, fmt.Sprintf("graphhook serves %s over https only (HTTPS_PROXY, which tunnels with CONNECT); it never connects anywhere else.", host))
		return
	}
	p.refuse(w, r, r.URL.Host, fmt.Sprintf("graphhook only intercepts Microsoft Graph and Entra hosts (%s), over https; it never connects anywhere else.", p.list))
}

// isSelf reports whether an absolute-form request names the address it arrived on
// (or a loopback name for it).
func (p *Proxy) isSelf(r *http.Request) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	lhost, lport, err := net.SplitHostPort(local.String())
	if err != nil {
		return false
	}
	port := cmp.Or(r.URL.Port(), "80")
	if port != lport {
		return false
	}
	host := canonicalHost(r.URL.Hostname())
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.Equal(net.ParseIP(lhost)))
}

// refuse answers a proxy request graphhook will not serve. The body is plain text: it
// is read by developers (curl shows it, Go's transport names the status) rather than
// by a Graph client.
func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, target, why string) {
	p.log.Info("proxy: refused", "method", r.Method, "target", target, "remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, "graphhook: refusing %s %s: %s\n", r.Method, target, why)
}

// connContext marks the inner server's connection with the host its tunnel was opened
// for.
func (p *Proxy) connContext(ctx context.Context, c net.Conn) context.Context {
	if host, ok := p.tunnelOf.LoadAndDelete(c); ok {
		return WithVia(ctx, host.(string))
	}
	return ctx
}

// serveTunnelled serves one request that came through a tunnel.
func (p *Proxy) serveTunnelled(w http.ResponseWriter, r *http.Request) {
	host, ok := ViaContext(r.Context())
	if !ok {
		// Every conn of the inner server comes from connect; this would be a bug.
		http.Error(w, "graphhook: tunnel without a host", http.StatusInternalServerError)
		return
	}
	r.Host = host
	p.handler.ServeHTTP(w, r)
}

// Shutdown closes the tunnels once their requests have finished (or ctx is done).
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.start.Do(func() {}) // no tunnel will start the inner server any more
	p.ln.Close()
	err := p.inner.Shutdown(ctx)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close closes every tunnel at once.
func (p *Proxy) Close() error {
	p.start.Do(func() {})
	p.ln.Close()
	return p.inner.Close()
}

// canonicalHost lower-cases a host name and drops its trailing dot.
func canonicalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}
