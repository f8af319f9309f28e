package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/bench"
	"github.com/graphhook/graphhook/internal/delivery"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	var cfg bench.Config
	var asJSON, pgReplay bool
	var cpuProfile, memProfile, database string
	fs.StringVar(&cfg.Scenario, "scenario", "single", "single (one subscription, made through the API, on one URL; notifications waiting for it share a POST, as Graph's do), batched (many subscriptions, one URL), fanout (one change to 1,000 subscriptions), slow-endpoint (one endpoint answers in 2.5 s), memory (RSS with --subs active subscriptions), "+
		"rich (chat messages posted through the Teams API to --subs includeResourceData subscriptions on one chat, one URL each, "+
		"encrypted for an RSA-2048 certificate; the receiver checks the validation token and dataSignature and decrypts every notification), "+
		"mixed (reads and writes together, one in five a write, at --rate requests per second (default 1000) against large collections: --messages in one mailbox, --users, --items in one drive; reports read and write p50/p99 and RSS)")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to drive changes")
	fs.IntVar(&cfg.Rate, "rate", 0, "changes per second (0: as fast as the API accepts them); mixed: requests per second (default 1000)")
	fs.IntVar(&cfg.Subs, "subs", 0, "subscriptions (default per scenario: single 1, batched 100, fanout 1000, slow-endpoint 10, memory 100000, rich 10, or 1 with --target)")
	fs.IntVar(&cfg.Messages, "messages", 0, "mixed: messages loaded into one mailbox first (default 30000)")
	fs.IntVar(&cfg.Users, "users", 0, "mixed: users loaded first (default 10000)")
	fs.IntVar(&cfg.Items, "items", 0, "mixed: drive items loaded into one drive root first (default 10000)")
	fs.IntVar(&cfg.Clients, "clients", 0, "concurrent API clients driving changes (default 2×CPUs)")
	fs.StringVar(&cfg.Target, "target", "", "a running graphhook to measure, or a comma-separated list of the nodes of one database, which the changes go to in turn (default: start one with an embedded store in a temporary folder)")
	fs.StringVar(&cfg.PGSample, "pg-sample", "", "postgres:// URL of the database the target uses: sample its pg_stat_activity during the run and report lock waits as a share of transaction time")
	fs.StringVar(&database, "database", "", "postgres:// URL: the server bench starts (without --target) keeps its store in this PostgreSQL database instead of an embedded store, so that --cpuprofile covers the server on PostgreSQL")
	fs.BoolVar(&pgReplay, "pg-replay", false, "with --database and the single scenario: capture one change's transaction during the run, then, the server stopped, send it again from bare connections (as many as --clients, for --duration, each time under a new id) and report the changes/s PostgreSQL alone takes on this machine and the run's share of it")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it)")
	fs.StringVar(&memProfile, "memprofile", "", "write a profile of the run's allocations to this file at its end (go tool pprof -sample_index=alloc_space reads it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	if database != "" && cfg.Target != "" {
		fmt.Fprintln(stderr, "--database is the store of the server bench starts; with --target it measures a running one")
		return errUsage
	}
	if pgReplay && (database == "" || cfg.Scenario != "single") {
		fmt.Fprintln(stderr, "--pg-replay replays a change of the single scenario against the --database the server bench starts uses")
		return errUsage
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var capture *bench.PGCapture
	if pgReplay {
		capture = bench.NewPGCapture()
	}
	start := func(ctx context.Context, dc delivery.Config) (*bench.Server, func(), error) {
		return startBenchServer(ctx, dc, database, capture)
	}
	res, err := bench.Run(ctx, cfg, bench.Options{Start: start, Log: stderr})
	if err != nil {
		return err
	}
	if capture != nil {
		r, err := bench.ReplayPG(ctx, cfg, database, capture)
		if err != nil {
			return err
		}
		res.AddPGReplay(r)
	}
	if memProfile != "" {
		if err := writeAllocs(memProfile); err != nil {
			return err
		}
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	return res.WriteTable(stdout)
}

// writeAllocs writes the allocations made since the process started, by where they
// were made (sampled at the runtime's default rate).
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startBenchServer starts the server `graphhook bench` measures when it has no
// --target: the embedded store in a temporary folder (or the PostgreSQL database at
// database, when set), the demo tenant, and the delivery pipeline configured as
// bench asks.
func startBenchServer(ctx context.Context, dc delivery.Config, database string, capture *bench.PGCapture) (*bench.Server, func(), error) {
	dir, err := os.MkdirTemp("", "graphhook-bench-")
	if err != nil {
		return nil, nil, err
	}
	// As serve runs by default: logs at info (written nowhere), writes capped.
	cfg := app.Config{Addr: "127.0.0.1:0", Data: dir, Database: database, LogLevel: "info", Delivery: dc, MaxPendingWrites: app.DefaultMaxPendingWrites}
	if capture != nil {
		cfg.PGTracer = capture
	}
	m := app.New(cfg, io.Discard, io.Discard)
	if err := m.Run(ctx); err != nil {
		m.Close()
		os.RemoveAll(dir)
		return nil, nil, err
	}
	stop := func() {
		m.Close()
		os.RemoveAll(dir)
	}
	return &bench.Server{URL: m.URL, Store: m.Store, Clock: m.Clock}, stop, nil
}
