package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/leader"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	var cfg app.Config
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8787", "listen address (host:port; port 0 picks a free one)")
	fs.StringVar(&cfg.Data, "data", "./graphhook-data", "data folder of the embedded SQLite store")
	fs.StringVar(&cfg.Database, "database", "", "empty for the embedded store, or a postgres:// URL")
	fs.StringVar(&cfg.Fixture, "fixture", "", "tenant fixture (YAML) applied at start; without it an empty store gets the demo tenant")
	fs.StringVar(&cfg.Profile, "profile", "dev", "dev (http and loopback webhooks allowed) or strict (https only, no private addresses)")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "base URL the server names itself by where no request says (the banner; behind a reverse proxy); default: links follow the host each client used")
	fs.StringVar(&cfg.HTTPSAddr, "https-addr", "127.0.0.1:8443", "HTTPS listen address, with a certificate from graphhook's local CA (off: no HTTPS listener)")
	fs.Var((*listFlag)(&cfg.TLSNames), "tls-name", "extra host name or IP address for the HTTPS certificate (repeatable, or a comma-separated list)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate (chain) to serve HTTPS with instead of the local CA's; needs --tls-key")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&cfg.AdminKey, "admin-key", "", "key for the admin API under /_graphhook/ (dev: generated and printed when empty)")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.DurationVar(&cfg.LeaseTTL, "lease-ttl", leader.DefaultTTL, "with --database: how long a node leads the sweepers without renewing (another node takes over after it), and how long a node's heartbeat lasts (the notifications a dead node had in flight are rescued after it)")
	fs.IntVar(&cfg.MaxPendingWrites, "max-pending-writes", app.DefaultMaxPendingWrites, "Graph API writes in flight past which one more is answered 429 with Retry-After at once (0: no cap)")
	fs.DurationVar(&cfg.Delivery.PushBack, "push-back", delivery.DefaultPushBack, "how late delivery may fall (the oldest notification waiting for a healthy endpoint): past half of it, Graph API writes in progress are held to a window that keeps delivery up, and writes past it are answered 429 with Retry-After; before that, writes in progress ramp up from 16, doubling at most every 50 ms; 0 never pushes back")
	fs.DurationVar(&cfg.Delivery.PushBackHold, "push-back-hold", delivery.DefaultPushBackHold, "how long a Graph API write past push-back's window waits for a place before it is answered 429 (0: at once)")
	fs.DurationVar(&cfg.Delivery.Retention, "delivery-log-retention", 24*time.Hour, "how long delivered and discarded notifications, their payloads and attempts stay in the delivery log (admin API /_graphhook/deliveries)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cfg.MaxPendingWrites < 0 {
		fmt.Fprintln(stderr, "graphhook serve: --max-pending-writes must not be negative")
		return errUsage
	}
	if cfg.Delivery.PushBack < 0 {
		fmt.Fprintln(stderr, "graphhook serve: --push-back must not be negative")
		return errUsage
	}
	if cfg.Delivery.PushBackHold < 0 {
		fmt.Fprintln(stderr, "graphhook serve: --push-back-hold must not be negative")
		return errUsage
	}
	if isSet(fs, "lease-ttl") && cfg.Database == "" {
		fmt.Fprintln(stderr, "graphhook serve: --lease-ttl applies to nodes sharing a --database; the embedded store has one node")
		return errUsage
	}
	if err := cfg.Check(); err != nil {
		fmt.Fprintf(stderr, "graphhook serve: %v\n", err)
		return errUsage
	}
	m := app.New(cfg, stdout, stderr)
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
