package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/sqlite"
)

func init() {
	commands["serve"] = command{summary: "run the server (embedded store and demo tenant by default)", run: runServe}
}

// Config is everything `graphhook serve` can be told.
type Config struct {
	Addr      string // listen address (default 127.0.0.1:8787)
	Data      string // data folder of the embedded store (default ./graphhook-data)
	Database  string // "" for embedded SQLite, postgres://… for PostgreSQL
	Fixture   string // tenant fixture file; "" loads the demo tenant into an empty store
	Profile   string // dev (default) or strict
	PublicURL string // base URL the server names itself by (default from Addr)
	AdminKey  string // admin API key; generated in dev when empty, required in strict
	LogLevel  string // debug, info (default), warn, error
	// LeaseTTL is how long the lease of leader-only services lasts on PostgreSQL (default 15s).
	LeaseTTL time.Duration
}

func (c *Config) validate() error {
	switch c.Profile {
	case "dev", "strict":
	default:
		return fmt.Errorf("--profile must be dev or strict, not %q", c.Profile)
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		return fmt.Errorf("--database must be empty (embedded SQLite) or a postgres:// URL")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url must be an absolute http(s) URL, not %q", c.PublicURL)
		}
	}
	if c.LeaseTTL != 0 && c.LeaseTTL < minLeaseTTL {
		return fmt.Errorf("--lease-ttl must be at least %v, not %v", minLeaseTTL, c.LeaseTTL)
	}
	if c.Profile == "strict" && c.AdminKey == "" {
		return errors.New("the strict profile needs --admin-key (or GRAPHHOOK_ADMIN_KEY)")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level must be debug, info, warn or error")
	}
	return nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	var cfg Config
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8787", "listen address (host:port; port 0 picks a free one)")
	fs.StringVar(&cfg.Data, "data", "./graphhook-data", "data folder of the embedded SQLite store")
	fs.StringVar(&cfg.Database, "database", "", "empty for the embedded store, or a postgres:// URL")
	fs.StringVar(&cfg.Fixture, "fixture", "", "tenant fixture (YAML) applied at start; without it an empty store gets the demo tenant")
	fs.StringVar(&cfg.Profile, "profile", "dev", "dev (http and loopback webhooks allowed) or strict (https only, no private addresses)")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "base URL the server names itself by in links and token issuers (default http://<addr>)")
	fs.StringVar(&cfg.AdminKey, "admin-key", "", "key for the admin API under /_graphhook/ (dev: generated and printed when empty)")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.DurationVar(&cfg.LeaseTTL, "lease-ttl", defaultLeaseTTL, "with --database: how long a node leads the sweepers without renewing (another node takes over after it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m := NewMain(cfg, stdout, stderr)
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "graphhook: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.Shutdown(shutdownCtx)
}

// Service is a background service with a lifecycle.
type Service interface {
	Start(ctx context.Context) error
	Stop()
}

// Main is one running server: what `graphhook serve` runs, and what end-to-end tests
// start on 127.0.0.1:0.
type Main struct {
	Config Config
	Stdout io.Writer
	Stderr io.Writer

	Clock    *clock.Offset
	Store    store.Store
	Identity *identity.Service
	HTTP     *httpapi.Server
	Registry *prometheus.Registry
	Log      *slog.Logger
	// URL is the base URL once Run returned (http://127.0.0.1:PORT).
	URL string
	// DemoLoaded tells whether the demo tenant was loaded.
	DemoLoaded bool

	listener net.Listener
	server   *http.Server
	services []Service
	serveErr chan error
	closeMu  sync.Mutex
	closed   bool
}

// NewMain returns an unstarted server.
func NewMain(cfg Config, stdout, stderr io.Writer) *Main {
	return &Main{Config: cfg, Stdout: stdout, Stderr: stderr}
}

// wiring connects one part of graphhook (a workload, the subscriptions API, the
// delivery pipeline, the admin API) to the server. Each lives in its own file of this
// package and adds itself to wirings from init.
type wiring struct {
	name string
	wire func(ctx context.Context, m *Main) error
}

var wirings []wiring

// AddService registers a background service, started after wiring and stopped (in
// reverse order) on shutdown.
func (m *Main) AddService(s Service) { m.services = append(m.services, s) }

// Run opens the store, applies the fixture, wires every part, starts listening and
// the background services, and prints the start-up lines. It returns once the server
// accepts connections.
func (m *Main) Run(ctx context.Context) error {
	cfg := &m.Config
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8787"
	}
	if cfg.Profile == "" {
		cfg.Profile = "dev"
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "info"
	}
	if cfg.Data == "" && cfg.Database == "" {
		cfg.Data = "./graphhook-data"
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	m.Log = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	m.Clock = &clock.Offset{}
	m.Registry = prometheus.NewRegistry()

	// Parse the fixture before touching the store, so that a bad file fails fast.
	var fixture *identity.Fixture
	if cfg.Fixture != "" {
		f, err := os.Open(cfg.Fixture)
		if err != nil {
			return fmt.Errorf("fixture: %w", err)
		}
		fixture, err = identity.ParseFixture(f, cfg.Fixture)
		f.Close()
		if err != nil {
			return fmt.Errorf("fixture: %w", err)
		}
	}

	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.listener = l
	m.URL = "http://" + l.Addr().String()
	if cfg.PublicURL == "" {
		cfg.PublicURL = m.URL
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")

	if cfg.Database != "" {
		m.Store, err = postgres.Open(ctx, postgres.Config{URL: cfg.Database, Logger: m.Log.With("part", "store")})
	} else {
		m.Store, err = sqlite.Open(ctx, sqlite.Config{Dir: cfg.Data})
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
	for _, w := range wirings {
		if err := w.wire(ctx, m); err != nil {
			return fmt.Errorf("wire %s: %w", w.name, err)
		}
	}
	for _, s := range m.services {
		if err := s.Start(context.WithoutCancel(ctx)); err != nil {
			return err
		}
	}
	m.server = &http.Server{Handler: m.HTTP, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn)}
	m.serveErr = make(chan error, 1)
	go func() { m.serveErr <- m.server.Serve(l) }()
	m.printBanner()
	return nil
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

// Close stops everything at once.
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
	for i := len(m.services) - 1; i >= 0; i-- {
		m.services[i].Stop()
	}
	if m.Store != nil {
		return m.Store.Close()
	}
	return nil
}
