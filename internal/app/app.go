// Package app is graphhook's one composition root: Main builds every concrete part
// of a server by hand, in one readable order, and runs it. `graphhook serve` runs a
// Main; `graphhook bench`, the end-to-end tests and package testserver run the same
// Main on 127.0.0.1:0.
//
// A Main owns everything it builds: its logger, clock, metrics registry (never
// Prometheus' global default), store and services. Every setting is a field of its
// Config, so two Mains in one process share nothing.
package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/bodyrate"
	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/dashboard"
	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/delta"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/leader"
	"github.com/graphhook/graphhook/internal/proxy"
	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/skew"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/sqlite"
	"github.com/graphhook/graphhook/internal/subscription"
	"github.com/graphhook/graphhook/internal/tlsca"
	"github.com/graphhook/graphhook/internal/trigger"
)

// Main is one server. Its exported fields are set by Run, in the order Run builds
// them; tests read them.
type Main struct {
	Config Config
	Stdout io.Writer
	Stderr io.Writer

	Log   *slog.Logger
	Clock *clock.Offset
	// Skew keeps Clock's offset in the store (across restarts, across nodes).
	Skew     *skew.Keeper
	Registry *prometheus.Registry
	Store    store.Store
	Identity *identity.Service
	// DemoLoaded tells whether the server serves the built-in demo tenant (no
	// fixture of its own; loaded now or on an earlier start of the same data).
	DemoLoaded bool
	HTTP       *httpapi.Server
	// URL is the base URL the server listens on (http://127.0.0.1:PORT).
	URL string
	// HTTPSURL is the HTTPS listener's base URL (https://127.0.0.1:PORT); "" without
	// one.
	HTTPSURL string
	// CA is the local certificate authority: it signs the HTTPS listener's
	// certificate and the proxy front's certificates for Microsoft's hosts.
	CA *tlsca.CA
	// Proxy is the proxy front on the plain HTTP port (CONNECT for Microsoft's hosts).
	Proxy *proxy.Proxy

	Workloads     []Workload
	Delivery      *delivery.Pipeline
	Subscriptions *subscription.Service
	// Trigger makes sample changes (GET and POST /_graphhook/trigger).
	Trigger *trigger.Trigger
	// Leader runs the leader-only services on a shared database; nil on the embedded
	// store, where this process is the only node.
	Leader *leader.Leader

	listener    net.Listener
	server      *http.Server
	tlsListener net.Listener
	tlsServer   *http.Server
	services    []service.Service // in start order
	started     []service.Service
	closeMu     sync.Mutex
	closed      bool
	fixture     *identity.Fixture    // the fixture file's, nil without one
	dashboard   *dashboard.Dashboard // nil when not wired (RunParts)
}

// New returns an unstarted server.
func New(cfg Config, stdout, stderr io.Writer) *Main {
	return &Main{Config: cfg, Stdout: stdout, Stderr: stderr}
}

// Run builds the server and starts it: the base every part stands on (openBase),
// graphhook's parts (wire), then the services, HTTP and the banner (serve). It
// returns once the server accepts connections. After an error, call Close.
func (m *Main) Run(ctx context.Context) error {
	if err := m.openBase(ctx); err != nil {
		return err
	}
	if err := m.wire(); err != nil {
		return err
	}
	return m.serve(ctx)
}

// RunParts is Run with wire in place of graphhook's parts: the base is built and
// served as Run does, but only what wire adds to m.HTTP's routers is served and only
// the services it hands to AddService run. Package testserver serves the parts a
// test names this way.
func (m *Main) RunParts(ctx context.Context, wire func(m *Main) error) error {
	if err := m.openBase(ctx); err != nil {
		return err
	}
	if err := wire(m); err != nil {
		return err
	}
	return m.serve(ctx)
}

// AddService adds a background service, started (in order) after the parts are
// wired and stopped in reverse order by Close.
func (m *Main) AddService(s service.Service) { m.services = append(m.services, s) }

// openBase builds, in order, what every part stands on: the logger, the clock, the
// metrics registry, the listener (its address is the default public URL), the
// store, the identity service with its fixture, and the HTTP server.
func (m *Main) openBase(ctx context.Context) error {
	m.Config = m.Config.withDefaults()
	cfg := &m.Config
	if err := cfg.validate(); err != nil {
		return err
	}
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	m.Log = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	m.Clock = &clock.Offset{}
	m.Registry = prometheus.NewRegistry()

	// Parse the fixture before touching the store, so that a bad file fails fast.
	fixture, err := readFixture(cfg.Fixture)
	if err != nil {
		return err
	}
	m.listener, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.URL = "http://" + m.listener.Addr().String()
	followHost := cfg.PublicURL == ""
	cfg.PublicURL = strings.TrimRight(cmp.Or(cfg.PublicURL, m.URL), "/")
	if cfg.HTTPSAddr != "" && cfg.HTTPSAddr != "off" {
		if m.tlsListener, err = net.Listen("tcp", cfg.HTTPSAddr); err != nil {
			return fmt.Errorf("listen (https): %w", err)
		}
		m.HTTPSURL = "https://" + m.tlsListener.Addr().String()
	}

	// Each backend's Open returns a typed pointer: it is stored in m.Store only on
	// success, so that Close never calls Close on a nil *Store held in the interface.
	if cfg.Database != "" {
		if err := resolveDatabaseHost(ctx, cfg.Database); err != nil {
			return err
		}
		st, err := postgres.Open(ctx, postgres.Config{URL: cfg.Database, Tracer: cfg.PGTracer, Logger: m.Log.With("part", "store"), SubscriberKind: identity.KindApp})
		if err != nil {
			return fmt.Errorf("database: %w", err)
		}
		m.Store = st
	} else {
		st, err := sqlite.Open(ctx, sqlite.Config{Dir: cfg.Data, Synchronous: cfg.Synchronous, CachedKinds: readMostlyKinds(), RerunWrites: cfg.RerunWrites})
		if err != nil {
			return fmt.Errorf("data folder %s: %w", cfg.Data, err)
		}
		m.Store = st
	}
	// The clock offset an earlier run (or another node) moved to is kept in the
	// store: applied before anything reads the time.
	m.Skew = skew.New(m.Store, m.Clock, m.Log.With("part", "clock"))
	if err := m.Skew.Sync(ctx); err != nil {
		return fmt.Errorf("clock offset: %w", err)
	}
	// The local CA lives with the data: in the data folder, or in the database so
	// that every node serves certificates of one CA.
	caCfg := tlsca.Config{}
	if cfg.Database != "" {
		caCfg.Store = m.Store
	}
	if cfg.Data != "" {
		caCfg.Dir = filepath.Join(cfg.Data, "tls")
	}
	if m.CA, err = tlsca.Open(ctx, caCfg); err != nil {
		return err
	}
	m.Identity, err = identity.New(ctx, m.Store, identity.Config{PublicURL: cfg.PublicURL, Clock: m.Clock})
	if err != nil {
		return err
	}
	m.fixture = fixture
	if fixture == nil && !m.Identity.HasTenants() {
		fixture = identity.DemoFixture()
	}
	if fixture != nil {
		if err := m.Identity.ApplyFixture(ctx, fixture); err != nil {
			return err
		}
	}
	// Without a fixture of its own the server serves the built-in demo tenant,
	// loaded now or on an earlier start of the same data: the banner names its
	// credentials at every start, not only the first.
	if cfg.Fixture == "" {
		_, m.DemoLoaded = m.Identity.Tenant(identity.DemoFixture().Tenants[0].ID)
	}

	if cfg.AdminKey == "" {
		if cfg.AdminKey, err = devAdminKey(ctx, m.Store); err != nil {
			return err
		}
	}
	if err := m.writeAdminKeyFile(); err != nil {
		return err
	}
	m.HTTP = httpapi.New(httpapi.Config{
		PublicURL: cfg.PublicURL, FollowRequestHost: followHost, AdminKey: cfg.AdminKey, Identity: m.Identity,
		Ready: m.Store.Ping, Logger: m.Log, Registry: m.Registry, Clock: m.Clock, MaxPendingWrites: cfg.MaxPendingWrites,
		Unavailable: func(err error) bool { return errors.Is(err, store.ErrBusy) },
	})
	m.Proxy, err = proxy.New(proxy.Config{CA: m.CA, Handler: m.HTTP, Log: m.Log.With("part", "proxy")})
	return err
}

// wire builds graphhook's parts, in order: the workloads and the admin API; the
// delivery pipeline, whose matcher becomes the store's change hook; the
// subscriptions API, whose deletions discard the pipeline's queued notifications;
// and the background services, the heartbeat and the dispatcher on every node and
// the sweepers on the leader only.
func (m *Main) wire() error {
	cfg := &m.Config
	var err error
	m.Workloads, err = workloads(Deps{Store: m.Store, Identity: m.Identity, Clock: m.Clock, Log: m.Log}, *cfg)
	if err != nil {
		return err
	}
	for _, w := range m.Workloads {
		w.Routes(m.HTTP.Graph(), m.HTTP.Admin())
	}
	adminAPI, err := admin.New(admin.Config{Profile: cfg.Profile, Advance: func(ctx context.Context, d time.Duration) error {
		_, err := m.Skew.Advance(ctx, d)
		return err
	}}, m.Identity, m.Clock)
	if err != nil {
		return err
	}
	adminAPI.Routes(m.HTTP.Admin())
	if err := m.wireDashboard(); err != nil {
		return err
	}
	// What apps may subscribe to, as the workloads describe it: the subscriptions API
	// checks new subscriptions against it, the pipeline re-checks them at each change.
	described := resources(m.Workloads)

	deliveryCfg := cfg.Delivery
	// With the embedded store this process is the only dispatcher, so whatever is
	// left running at start was in flight when an earlier process died.
	deliveryCfg.RescueOnStart = cfg.Database == ""
	// The strict profile's address rule holds for notification POSTs as it does for
	// the handshake: a name that resolved to a public address at creation may point
	// inside the network later.
	deliveryCfg.Strict = cfg.Profile == "strict"
	if cfg.Database != "" {
		m.Leader = leader.New(leader.Config{Store: m.Store, TTL: cfg.LeaseTTL, Log: m.Log.With("part", "lease"), Registry: m.Registry})
		// On a shared database each node beats under its lease name, so that the
		// rows a dead node left in flight go back to the queue within about a lease
		// TTL of its death, as its leader-only work does, not after RescueAfter.
		deliveryCfg.Node = m.Leader.Node()
		deliveryCfg.HeartbeatTTL = m.Leader.TTL()
	}
	m.Delivery, err = delivery.New(deliveryCfg, delivery.Options{
		Store: m.Store, Clock: m.Clock, Signer: m.Identity, Registry: m.Registry,
		Logger: m.Log.With("part", "delivery"), Resources: described,
	})
	if err != nil {
		return err
	}
	m.Delivery.Install()
	m.HTTP.SetThrottle(m.Delivery.Throttle)

	subscriptionCfg := cfg.Subscription
	subscriptionCfg.Profile = cfg.Profile
	subscriptionCfg.Clock = m.Clock
	subscriptionCfg.Log = m.Log.With("part", "subscription")
	// A deleted subscription's backlog goes in the transaction that deletes it.
	subscriptionCfg.OnDelete = m.Delivery.DiscardQueued
	subscriptionCfg.Resources = described
	m.Subscriptions, err = subscription.New(m.Store, subscriptionCfg)
	if err != nil {
		return err
	}
	m.Subscriptions.Routes(m.HTTP.Graph())
	deliveries := &admin.Deliveries{Pipeline: m.Delivery, Store: m.Store, Identity: m.Identity, Clock: m.Clock,
		Expire: m.Subscriptions.ExpireNow}
	deliveries.Routes(m.HTTP.Admin())
	if err := m.wireTrigger(); err != nil {
		return err
	}

	if m.Leader != nil {
		// Another node's clock advance reaches this one within skew.DefaultEvery.
		m.AddService(m.Skew.Loop(0))
		// Before the dispatcher: the first beat covers the node's first claims.
		m.AddService(m.Delivery.Heartbeat())
	}
	m.AddService(m.Delivery.Dispatcher())
	for _, s := range m.Delivery.LeaderServices() {
		m.AddService(m.leaderOnly(s))
	}
	m.AddService(m.leaderOnly(m.Subscriptions.Sweeper()))
	// The change log keeps 7 days, the life of a delta token in Graph.
	m.AddService(m.leaderOnly(delta.NewRetention(m.Store, delta.RetentionConfig{Clock: m.Clock, Log: m.Log.With("part", "changelog")})))
	return nil
}

// leaderOnly returns s as the node's leader runs it: only while this node holds the
// lease, or always when this node is the only one.
func (m *Main) leaderOnly(s service.Service) service.Service {
	if m.Leader == nil {
		return s
	}
	return m.Leader.Only(s)
}

// serve starts the services, serves HTTP and prints the banner.
func (m *Main) serve(ctx context.Context) error {
	for _, s := range m.services {
		if err := s.Start(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		m.started = append(m.started, s)
	}
	// Both listeners: a 10 s limit on request headers, and a minimum body rate in
	// place of a whole-request timeout, so that large uploads and long responses live
	// as long as they keep moving.
	errorLog := slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn)
	m.server = &http.Server{Handler: bodyrate.Handler(m.Proxy, m.Config.BodyRate), ReadHeaderTimeout: 10 * time.Second, ErrorLog: errorLog}
	go func() {
		if err := m.server.Serve(m.listener); !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("serve HTTP", "err", err)
		}
	}()
	if m.tlsListener != nil {
		tlsCfg, err := m.serverTLS()
		if err != nil {
			return err
		}
		m.tlsServer = &http.Server{Handler: bodyrate.Handler(m.HTTP, m.Config.BodyRate), TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errorLog}
		go func() {
			if err := m.tlsServer.ServeTLS(m.tlsListener, "", ""); !errors.Is(err, http.ErrServerClosed) {
				m.Log.Error("serve HTTPS", "err", err)
			}
		}()
	}
	m.printBanner()
	return nil
}

// serverTLS is the HTTPS listener's configuration: the certificate and key given,
// or one from the local CA for localhost, 127.0.0.1, ::1, the names given and
// Microsoft's hosts (for clients that resolve those to this server themselves).
func (m *Main) serverTLS() (*tls.Config, error) {
	cfg := &m.Config
	if cfg.TLSCert != "" {
		return tlsca.LoadKeyPair(cfg.TLSCert, cfg.TLSKey)
	}
	return m.CA.ServerTLSConfig(append(slices.Clone(cfg.TLSNames), proxy.MicrosoftHosts()...))
}

// readFixture parses the fixture file at path; nil for "".
func readFixture(path string) (*identity.Fixture, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	defer f.Close()
	fixture, err := identity.ParseFixture(f, path)
	if err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	return fixture, nil
}

func (m *Main) printBanner() {
	w := m.Stdout
	fmt.Fprintf(w, "graphhook listening on %s\n", m.URL)
	if m.HTTPSURL != "" {
		fmt.Fprintf(w, "graphhook listening on %s\n", m.HTTPSURL)
	}
	where := m.CA.Path()
	if where == "" {
		where = "in the database (graphhook ca --database URL --export FILE writes it out)"
	}
	fmt.Fprintf(w, "local CA: %s (trust it to call the HTTPS port, or use HTTPS_PROXY=%s for Microsoft's hosts; see graphhook ca)\n", where, m.URL)
	if m.Config.Profile == "dev" {
		fmt.Fprintf(w, "admin key: %s\n", m.Config.AdminKey)
		if m.dashboard != nil {
			fmt.Fprintf(w, "dashboard: %s/_graphhook/ (sign in with the admin key)\n", m.Config.PublicURL)
		}
	}
	if !m.DemoLoaded {
		return
	}
	demo := identity.DemoFixture()
	t := demo.Tenants[0]
	fmt.Fprintf(w, "demo tenant: %s (%s)\n", t.ID, t.Domain)
	for _, a := range t.Apps {
		secret := "secret " + a.ClientSecret
		if a.ClientSecret == "" {
			secret = "no secret (public client: device code or authorization code with PKCE)"
		}
		fmt.Fprintf(w, "demo app: %s  client id %s  %s\n", a.DisplayName, a.ClientID, secret)
	}
	for _, u := range t.Users {
		fmt.Fprintf(w, "demo user: %s  password %s\n", u.UserPrincipalName, u.Password)
	}
	for _, u := range demo.PersonalAccounts {
		fmt.Fprintf(w, "demo personal account: %s  password %s\n", u.UserPrincipalName, u.Password)
	}
	a := t.Apps[0]
	fmt.Fprintf(w, "get a token: curl -s -X POST %s/%s/oauth2/v2.0/token -d grant_type=client_credentials -d client_id=%s -d client_secret=%s -d scope=https://graph.microsoft.com/.default\n",
		m.Config.PublicURL, t.ID, a.ClientID, a.ClientSecret)
}

// Shutdown stops accepting requests, lets running ones finish (within ctx), stops the
// background services and closes the store.
func (m *Main) Shutdown(ctx context.Context) error {
	var errs []error
	for _, srv := range []*http.Server{m.tlsServer, m.server} {
		if srv != nil {
			if err := srv.Shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if m.Proxy != nil {
		if err := m.Proxy.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, m.Close())
	return errors.Join(errs...)
}

// Close stops everything at once: the HTTP server, the services (in reverse start
// order), the store. It may be called after Run failed, and more than once.
func (m *Main) Close() error {
	m.closeMu.Lock()
	defer m.closeMu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	if m.server != nil {
		m.server.Close()
	} else if m.listener != nil {
		m.listener.Close()
	}
	if m.tlsServer != nil {
		m.tlsServer.Close()
	} else if m.tlsListener != nil {
		m.tlsListener.Close()
	}
	if m.Proxy != nil {
		m.Proxy.Close()
	}
	for i := len(m.started) - 1; i >= 0; i-- {
		m.started[i].Stop()
	}
	if m.Store != nil {
		return m.Store.Close()
	}
	return nil
}

// devAdminKey is the dev profile's admin key: generated on the first start and kept
// in the store, so that an exported key keeps working across restarts (and every node
// of a shared database has the same one).
func devAdminKey(ctx context.Context, st store.Store) (string, error) {
	const kind, id = "adminKey", "dev"
	var key string
	err := st.Update(ctx, func(tx store.Tx) error {
		o, err := tx.GetObject(ctx, "", kind, id)
		if err == nil {
			var doc struct {
				Key string `json:"key"`
			}
			if err := json.Unmarshal(o.Data, &doc); err != nil || doc.Key == "" {
				return fmt.Errorf("admin key: stored key unreadable: %v", err)
			}
			key = doc.Key
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		b := make([]byte, 24)
		rand.Read(b)
		key = hex.EncodeToString(b)
		data, _ := json.Marshal(map[string]string{"key": key})
		return tx.InsertObject(ctx, &store.Object{Tenant: "", Kind: kind, ID: id, Data: data})
	})
	return key, err
}

// resolveDatabaseHost checks that the database URL's host name resolves, so that a
// typo in it is reported as such: the driver's own report of a name without
// addresses is unreadable.
func resolveDatabaseHost(ctx context.Context, database string) error {
	u, err := url.Parse(database)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	host := u.Hostname()
	if host == "" || strings.Contains(u.Host, ",") || net.ParseIP(host) != nil {
		return nil // a socket, several hosts or an address: the driver says what fails
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no address")
	}
	if err != nil {
		return fmt.Errorf("database: cannot resolve host %q: %w", host, err)
	}
	return nil
}
