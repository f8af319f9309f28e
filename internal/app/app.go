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
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/delta"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/leader"
	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/sqlite"
	"github.com/graphhook/graphhook/internal/subscription"
)

// Main is one server. Its exported fields are set by Run, in the order Run builds
// them; tests read them.
type Main struct {
	Config Config
	Stdout io.Writer
	Stderr io.Writer

	Log      *slog.Logger
	Clock    *clock.Offset
	Registry *prometheus.Registry
	Store    store.Store
	Identity *identity.Service
	// DemoLoaded tells whether Run loaded the demo tenant.
	DemoLoaded bool
	HTTP       *httpapi.Server
	// URL is the base URL the server listens on (http://127.0.0.1:PORT).
	URL string

	Workloads     []Workload
	Delivery      *delivery.Pipeline
	Subscriptions *subscription.Service
	// Leader runs the leader-only services on a shared database; nil on the embedded
	// store, where this process is the only node.
	Leader *leader.Leader

	listener net.Listener
	server   *http.Server
	services []service.Service // in start order
	started  []service.Service
	closeMu  sync.Mutex
	closed   bool
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
	cfg.PublicURL = strings.TrimRight(cmp.Or(cfg.PublicURL, m.URL), "/")

	if cfg.Database != "" {
		m.Store, err = postgres.Open(ctx, postgres.Config{URL: cfg.Database, Logger: m.Log.With("part", "store")})
	} else {
		m.Store, err = sqlite.Open(ctx, sqlite.Config{Dir: cfg.Data, Synchronous: cfg.Synchronous})
	}
	if err != nil {
		return err
	}
	m.Identity, err = identity.New(ctx, m.Store, identity.Config{PublicURL: cfg.PublicURL, Clock: m.Clock})
	if err != nil {
		return err
	}
	if fixture == nil && !m.Identity.HasTenants() {
		fixture = identity.DemoFixture()
		m.DemoLoaded = true
	}
	if fixture != nil {
		if err := m.Identity.ApplyFixture(ctx, fixture); err != nil {
			return err
		}
	}

	if cfg.AdminKey == "" {
		b := make([]byte, 24)
		rand.Read(b)
		cfg.AdminKey = hex.EncodeToString(b)
	}
	m.HTTP = httpapi.New(httpapi.Config{
		PublicURL: cfg.PublicURL, AdminKey: cfg.AdminKey, Identity: m.Identity,
		Ready: m.Store.Ping, Logger: m.Log, Registry: m.Registry, Clock: m.Clock,
	})
	return nil
}

// wire builds graphhook's parts, in order: the workloads and the admin API; the
// delivery pipeline, whose matcher becomes the store's change hook; the
// subscriptions API, whose deletions discard the pipeline's queued notifications;
// and the background services, the dispatcher on every node and the sweepers on the
// leader only.
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
	adminAPI, err := admin.New(admin.Config{Profile: cfg.Profile}, m.Identity, m.Clock)
	if err != nil {
		return err
	}
	adminAPI.Routes(m.HTTP.Admin())

	deliveryCfg := cfg.Delivery
	// With the embedded store this process is the only dispatcher, so whatever is
	// left running at start was in flight when an earlier process died.
	deliveryCfg.RescueOnStart = cfg.Database == ""
	// The strict profile's address rule holds for notification POSTs as it does for
	// the handshake: a name that resolved to a public address at creation may point
	// inside the network later.
	deliveryCfg.Strict = cfg.Profile == "strict"
	m.Delivery, err = delivery.New(deliveryCfg, delivery.Options{
		Store: m.Store, Clock: m.Clock, Signer: m.Identity, Registry: m.Registry,
		Logger: m.Log.With("part", "delivery"), Resources: resources(m.Workloads),
	})
	if err != nil {
		return err
	}
	m.Delivery.Install()

	subscriptionCfg := cfg.Subscription
	subscriptionCfg.Profile = cfg.Profile
	subscriptionCfg.Clock = m.Clock
	subscriptionCfg.Log = m.Log.With("part", "subscription")
	// A deleted subscription's backlog goes in the transaction that deletes it.
	subscriptionCfg.OnDelete = m.Delivery.DiscardQueued
	subscriptionCfg.Resources = resources(m.Workloads)
	m.Subscriptions, err = subscription.New(m.Store, subscriptionCfg)
	if err != nil {
		return err
	}
	m.Subscriptions.Routes(m.HTTP.Graph())

	if cfg.Database != "" {
		m.Leader = leader.New(leader.Config{Store: m.Store, TTL: cfg.LeaseTTL, Log: m.Log.With("part", "lease"), Registry: m.Registry})
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
	m.server = &http.Server{Handler: m.HTTP, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn)}
	go func() {
		if err := m.server.Serve(m.listener); !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("serve HTTP", "err", err)
		}
	}()
	m.printBanner()
	return nil
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
	if m.Config.Profile == "dev" {
		fmt.Fprintf(w, "admin key: %s\n", m.Config.AdminKey)
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
	if m.server != nil {
		if err := m.server.Shutdown(ctx); err != nil {
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
	for i := len(m.started) - 1; i >= 0; i-- {
		m.started[i].Stop()
	}
	if m.Store != nil {
		return m.Store.Close()
	}
	return nil
}
