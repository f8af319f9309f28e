// Package httpapi is graphhook's HTTP adapter: Graph-style routing (case-insensitive
// segments, key syntax, the /me alias, colon paths), bearer authentication, request
// limits (body size, gzip bodies, content types), request ids, the OData error envelope
// (written in exactly one place, writeError), the token and key endpoints of the
// identity service, the admin API under /_graphhook/, health checks and metrics.
//
// Workloads register their handlers on Graph() (served under /v1.0 and /beta) and
// Admin() (served under /_graphhook/).
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/proxy"
)

// Config configures the server.
type Config struct {
	// PublicURL is the base URL in @odata links where the request does not say (required).
	PublicURL string
	// FollowRequestHost makes links follow the scheme and host of each request
	// instead of PublicURL (set when no public URL was configured).
	FollowRequestHost bool
	// MaxBody caps request bodies in bytes (default 4 MiB, Graph's limit for most
	// requests); routes may set their own.
	MaxBody int64
	// AdminKey authorises /_graphhook/ requests; empty disables the admin API.
	AdminKey string
	// Identity validates bearer tokens and serves the token endpoint (required).
	Identity *identity.Service
	// Ready reports whether the store is usable (for /readyz); nil means always.
	Ready func(ctx context.Context) error
	// Logger receives request and error logs (default slog.Default()).
	Logger *slog.Logger
	// Registry collects metrics (default a new registry).
	Registry *prometheus.Registry
	// Clock tells request time (default the system clock).
	Clock clock.Clock
	// MaxPendingWrites caps the Graph API writes (POST, PUT, PATCH, DELETE) in
	// flight: one more is answered 429 with Retry-After at once, as Graph throttles,
	// instead of waiting in the store's queue behind the others, so that the
	// latency of the writes taken stays bounded at any offered load (0: no cap).
	MaxPendingWrites int
	// Unavailable reports errors that mean the service cannot serve the request just
	// now but may a moment later (the store's writes kept losing conflicts): they
	// are answered 503 serviceNotAvailable with Retry-After, which Microsoft's
	// client libraries retry by themselves, instead of 500.
	Unavailable func(error) bool
}

// Server is the HTTP front of graphhook.
type Server struct {
	cfg      Config
	graphAPI *Router
	adminAPI *Router
	ui       AdminUI // nil without a dashboard
	log      *slog.Logger
	throttle Throttle
	writes   atomic.Int64 // Graph API writes in flight

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New returns a server with no Graph routes yet.
func New(cfg Config) *Server {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 4 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	s := &Server{cfg: cfg, graphAPI: NewRouter(), adminAPI: NewRouter(), log: cfg.Logger}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "graphhook_http_requests_total", Help: "HTTP requests served, by API, method, route and status.",
	}, []string{"api", "method", "route", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "graphhook_http_request_duration_seconds", Help: "HTTP request latency, by API.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"api"})
	cfg.Registry.MustRegister(s.requests, s.latency)
	return s
}

// Graph returns the router of the Graph API (/v1.0 and /beta).
func (s *Server) Graph() *Router { return s.graphAPI }

// Admin returns the router of the admin API (/_graphhook/).
func (s *Server) Admin() *Router { return s.adminAPI }

// statusWriter remembers the status for metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ServeHTTP dispatches on the first path segment.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := uuid.NewString()
	clientReqID := r.Header.Get("client-request-id")
	if clientReqID == "" {
		clientReqID = reqID
	}
	h := w.Header()
	h.Set("request-id", reqID)
	h.Set("client-request-id", clientReqID)
	h.Set("x-ms-ags-diagnostic", `{"ServerInfo":{"DataCenter":"graphhook","Slice":"E","Ring":"1","ScaleUnit":"000","RoleInstance":"graphhook"}}`)
	sw := &statusWriter{ResponseWriter: w}
	c := &Ctx{W: sw, R: r, srv: s, RequestID: reqID, ClientRequestID: clientReqID, Now: s.cfg.Clock.Now()}
	// Date is the server's clock, which the admin API may have moved forward: a
	// client that keeps something alive on this server (graphhook listen renewing its
	// subscription) reads the server's time from it.
	h.Set("Date", c.Now.UTC().Format(http.TimeFormat))

	path := r.URL.EscapedPath()
	first, rest, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	api, route := "other", ""
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "method", r.Method, "path", path, "panic", p, "request-id", reqID)
			if !c.written {
				s.writeError(c, fmt.Errorf("panic: %v", p))
			}
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		elapsed := time.Since(start)
		s.requests.WithLabelValues(api, r.Method, route, strconv.Itoa(status)).Inc()
		s.latency.WithLabelValues(api).Observe(elapsed.Seconds())
		// The access log: one line per request at info, except the probes and
		// scrapes that would drown it (debug). The path only: query strings may
		// carry tokens (validationToken, code).
		level := slog.LevelInfo
		if api == "health" || api == "metrics" {
			level = slog.LevelDebug
		}
		s.log.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.Duration("duration", elapsed), slog.String("request-id", reqID))
	}()
	switch strings.ToLower(first) {
	case "v1.0", "beta":
		api = "graph"
		c.Version = strings.ToLower(first)
		route = s.serveGraph(c, rest)
	case "_graphhook":
		api = "admin"
		route = s.serveAdmin(c, rest)
	case "healthz":
		api, route = "health", "healthz"
		c.Write(http.StatusOK, "text/plain; charset=utf-8", []byte("ok\n"))
	case "readyz":
		api, route = "health", "readyz"
		if s.cfg.Ready != nil {
			if err := s.cfg.Ready(r.Context()); err != nil {
				c.Write(http.StatusServiceUnavailable, "text/plain; charset=utf-8", []byte("not ready: "+err.Error()+"\n"))
				return
			}
		}
		c.Write(http.StatusOK, "text/plain; charset=utf-8", []byte("ready\n"))
	case "metrics":
		api, route = "metrics", "metrics"
		promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}).ServeHTTP(sw, r)
	default:
		api = "identity"
		route = s.serveIdentity(c, first, rest)
	}
}

func (s *Server) serveGraph(c *Ctx, rest string) string {
	segs, err := SplitPath(rest)
	if err != nil {
		s.writeError(c, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Invalid request path: %v", err))
		return ""
	}
	if n, _, _ := s.graphAPI.match(segs); n != nil && n.routes[c.R.Method] != nil && n.routes[c.R.Method].Options.NoAuth {
		// Pre-authenticated URLs (upload sessions) carry their credential in the path;
		// Graph's SDKs send them without a bearer token.
		c.Segments = segs
		return s.dispatch(c, s.graphAPI, segs)
	}
	p, err := s.cfg.Identity.Authenticate(c.R.Context(), c.R.Header.Get("Authorization"))
	if err != nil {
		var ae *identity.AuthError
		msg := "Access token validation failure."
		if errors.As(err, &ae) {
			msg = ae.Message
		}
		s.writeError(c, graph.Errorf(http.StatusUnauthorized, graph.CodeInvalidAuthenticationToken, "%s", msg).
			WithHeader("WWW-Authenticate", `Bearer realm="", authorization_uri="`+s.loginURL(c.R)+`/common/oauth2/v2.0/authorize", client_id="`+identity.GraphAppID+`"`))
		return ""
	}
	c.Principal = p
	if s.isWrite(c, segs) {
		n := s.writes.Add(1)
		defer s.writes.Add(-1)
		if limit := s.cfg.MaxPendingWrites; limit > 0 && n > int64(limit) {
			s.writeError(c, graph.Errorf(http.StatusTooManyRequests, graph.CodeTooManyRequests,
				"Too many requests: more than %d writes are in progress. Please try again later.", limit).WithHeader("Retry-After", "1"))
			return ""
		}
		if s.throttle != nil {
			done, retry, ok := s.throttle(c.R.Context())
			if ok {
				s.writeError(c, graph.Errorf(http.StatusTooManyRequests, graph.CodeTooManyRequests,
					"Too many requests: change notifications are being delivered more slowly than changes arrive. Please try again later.").
					WithHeader("Retry-After", strconv.Itoa(int(retry/time.Second))))
				return ""
			}
			defer done()
		}
	}
	if len(segs) > 0 && strings.EqualFold(segs[0], "me") {
		if !p.Type.Delegated() {
			s.writeError(c, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "/me request is only valid with delegated authentication flow."))
			return ""
		}
		segs = append([]string{"users", p.UserID}, segs[1:]...)
		c.Me = true
	}
	c.Segments = segs
	return s.dispatch(c, s.graphAPI, segs)
}

func (s *Server) dispatch(c *Ctx, router *Router, segs []string) string {
	if len(segs) == 0 {
		s.writeError(c, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Invalid request: the path names no resource."))
		return ""
	}
	n, vals, bad := router.match(segs)
	if n == nil {
		if bad >= len(segs) {
			bad = len(segs) - 1
		}
		s.writeError(c, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Resource not found for the segment '%s'.", segs[bad]))
		return ""
	}
	rt := n.routes[c.R.Method]
	if rt == nil {
		c.W.Header().Set("Allow", strings.Join(n.methods(), ", "))
		s.writeError(c, graph.Errorf(http.StatusMethodNotAllowed, "Request_BadRequest", "The HTTP method '%s' is not allowed on this resource; allowed: %s.", c.R.Method, strings.Join(n.methods(), ", ")))
		return ""
	}
	c.route, c.params = rt, vals
	if !rt.Options.RawBody && c.R.ContentLength != 0 && c.R.Method != http.MethodGet && c.R.Method != http.MethodDelete {
		if err := c.checkJSONContentType(); err != nil {
			s.writeError(c, err)
			return rt.Pattern
		}
	}
	if err := rt.Handler(c); err != nil {
		if c.written {
			s.log.Error("handler failed after writing", "route", rt.Pattern, "err", err, "request-id", c.RequestID)
		} else {
			s.writeError(c, err)
		}
	}
	return rt.Pattern
}

func (s *Server) serveAdmin(c *Ctx, rest string) string {
	if s.ui != nil && s.cfg.AdminKey != "" && s.ui.ServeUI(c.W, c.R, rest) {
		c.written = true
		return "ui"
	}
	authorized := s.adminKeyOK(c.R)
	if !authorized && s.ui != nil && s.cfg.AdminKey != "" {
		var refusal error
		if authorized, refusal = s.ui.Authorize(c.R); refusal != nil {
			s.writeError(c, refusal)
			return ""
		}
	}
	if !authorized {
		s.writeError(c, graph.Errorf(http.StatusUnauthorized, graph.CodeInvalidAuthenticationToken, "The admin API needs 'Authorization: Bearer <admin key>' with the key graphhook was started with.").
			WithHeader("WWW-Authenticate", `Bearer realm="graphhook-admin"`))
		return ""
	}
	segs, err := SplitPath(rest)
	if err != nil {
		s.writeError(c, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Invalid request path: %v", err))
		return ""
	}
	c.Segments = segs
	return s.dispatch(c, s.adminAPI, segs)
}

// serveIdentity serves the identity service's endpoints (/{tenant}/oauth2/v2.0/token,
// the OpenID configuration, the keys, instance discovery, the sign-in pages) and the
// home page.
func (s *Server) serveIdentity(c *Ctx, tenant, rest string) string {
	if route := s.cfg.Identity.ServeEndpoint(c.W, c.R, tenant, rest); route != "" {
		c.written = true
		return route
	}
	if tenant == "" {
		c.Write(http.StatusOK, "text/plain; charset=utf-8", []byte("graphhook: Microsoft Graph change notifications, self-hosted. API under /v1.0 and /beta.\n"))
		return "root"
	}
	s.writeError(c, graph.Errorf(http.StatusNotFound, graph.CodeBadRequest, "Resource not found for the segment '%s'.", tenant))
	return ""
}

func writeRaw(c *Ctx, status int, v any) {
	data, _ := json.Marshal(v)
	c.W.Header().Set("Content-Type", "application/json; charset=utf-8")
	c.W.WriteHeader(status)
	c.written = true
	c.W.Write(data)
}

// writeError is the one place errors become responses.
func (s *Server) writeError(c *Ctx, err error) {
	ge, ok := graph.AsError(err)
	switch {
	case !ok && s.cfg.Unavailable != nil && s.cfg.Unavailable(err):
		s.log.Warn("service busy", "method", c.R.Method, "path", c.R.URL.Path, "err", err, "request-id", c.RequestID)
		ge = graph.Errorf(http.StatusServiceUnavailable, graph.CodeServiceNotAvailable,
			"The service is temporarily unavailable: the request kept colliding with concurrent writes. Please retry after 1 second.").WithHeader("Retry-After", "1")
	case !ok:
		s.log.Error("internal error", "method", c.R.Method, "path", c.R.URL.Path, "err", err, "request-id", c.RequestID)
		ge = graph.Errorf(http.StatusInternalServerError, graph.CodeGeneralException, "An internal server error occurred while processing the request.")
	case ge.Err != nil:
		s.log.Warn("request failed", "status", ge.Status, "code", ge.Code, "err", ge.Err, "request-id", c.RequestID)
	}
	for k, vs := range ge.Header {
		for _, v := range vs {
			c.W.Header().Add(k, v)
		}
	}
	writeRaw(c, ge.Status, graph.NewErrorBody(ge.Code, ge.Message, c.RequestID, c.ClientRequestID, c.Now))
}

// baseURL is the base of the links a response to r carries (see Ctx.PublicURL).
func (s *Server) baseURL(r *http.Request) string {
	if host, ok := proxy.Via(r); ok {
		return "https://" + host
	}
	if !s.cfg.FollowRequestHost || r.Host == "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// loginURL is the sign-in authority named in a 401's WWW-Authenticate: Entra's own
// through the proxy front, otherwise this server.
func (s *Server) loginURL(r *http.Request) string {
	if _, ok := proxy.Via(r); ok {
		return "https://login.microsoftonline.com"
	}
	return s.baseURL(r)
}

// Throttle tells whether a write should be refused for now and when to come back
// (the delivery pipeline's push-back); it may first hold the write for a while.
// A write it lets through calls done when it is over.
type Throttle func(ctx context.Context) (done func(), retryAfter time.Duration, throttled bool)

// SetThrottle installs the push-back the Graph API applies to writes: while it
// says so, POST, PUT, PATCH and DELETE requests get 429 with Retry-After, as
// Graph throttles. Subscription requests pass (they make no changes to deliver).
// Set once, before serving.
func (s *Server) SetThrottle(t Throttle) { s.throttle = t }

// isWrite tells a request that changes resources: any method but GET, HEAD and
// OPTIONS, outside /subscriptions (which makes nothing to deliver).
func (s *Server) isWrite(c *Ctx, segs []string) bool {
	switch c.R.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return len(segs) == 0 || !strings.EqualFold(segs[0], "subscriptions")
}
