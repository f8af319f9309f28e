package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// TestBenchReports runs a one-second batched bench in process and checks the JSON
// object the issue names: every key there, with figures that can only come from
// notifications that really arrived.
func TestBenchReports(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"bench", "--scenario", "batched", "--subs", "20", "--duration", "1s", "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("bench --json printed %q: %v", out.String(), err)
	}
	for _, k := range []string{"scenario", "duration_s", "changes_per_s", "notifications_per_s", "latency_ms", "raw_posts_per_s", "ratio"} {
		if _, ok := res[k]; !ok {
			t.Errorf("bench --json lacks %q: %s", k, out.String())
		}
	}
	changes, _ := res["changes"].(float64)
	notes, _ := res["notifications"].(float64)
	if res["scenario"] != "batched" || changes < 1 || notes != 20*changes {
		t.Errorf("bench: %v changes, %v notifications, want 20 per change", changes, notes)
	}
	lat, _ := res["latency_ms"].(map[string]any)
	if p50, _ := lat["p50"].(float64); p50 <= 0 || lat["p99"].(float64) < p50 {
		t.Errorf("latency_ms = %v", lat)
	}
	if r, _ := res["ratio"].(float64); r <= 0 {
		t.Errorf("ratio = %v, want > 0", res["ratio"])
	}
}

// TestBenchMixed runs a short mixed bench on small collections: it must load them,
// answer reads and writes, and report both latencies and the server's RSS.
func TestBenchMixed(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"bench", "--scenario", "mixed", "--messages", "30", "--users", "10", "--items", "10", "--rate", "50", "--duration", "1s", "--json"}
	if code := run(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	var res struct {
		Scenario string             `json:"scenario"`
		Reads    int64              `json:"reads"`
		Writes   int64              `json:"writes"`
		Failed   int64              `json:"failed"`
		Read     map[string]float64 `json:"read_latency_ms"`
		Write    map[string]float64 `json:"write_latency_ms"`
		RSSMB    float64            `json:"rss_mb"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("bench --json printed %q: %v", out.String(), err)
	}
	if res.Scenario != "mixed" || res.Reads < 3*res.Writes || res.Writes == 0 || res.Failed != 0 {
		t.Errorf("mixed: %s", out.String())
	}
	if res.Read["p50"] <= 0 || res.Write["p99"] < res.Write["p50"] || res.RSSMB <= 0 {
		t.Errorf("mixed latencies or RSS missing: %s", out.String())
	}
}

func TestBenchRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--scenario", "marathon"},
		{"bench", "--duration", "0s"},
		{"bench", "--rate", "-1"},
		{"bench", "--scenario", "memory", "--target", "http://127.0.0.1:1"},
		{"bench", "--scenario", "rich", "--target", "http://127.0.0.1:1", "--subs", "2"},
		{"bench", "--scenario", "single", "--messages", "10"},
		{"bench", "--scenario", "mixed", "--users", "-1"},
		{"bench", "--database", "postgres://127.0.0.1:1/graphhook", "--target", "http://127.0.0.1:1"},
		{"bench", "--pg-replay"},
		{"bench", "--pg-replay", "--database", "postgres://127.0.0.1:1/graphhook", "--scenario", "batched"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 2 || errOut.Len() == 0 {
			t.Errorf("%s: exit %d, stderr %q; want 2 with a message", strings.Join(args, " "), code, errOut.String())
		}
	}
}

// TestBenchRich runs a one-second rich bench: every change must come back as one
// notification per subscription that the receiver verified and decrypted to the
// message its resourceData names, with none refused.
func TestBenchRich(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"bench", "--scenario", "rich", "--subs", "3", "--duration", "1s", "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("bench --scenario rich exited %d: %s", code, errOut.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("bench --json printed %q: %v", out.String(), err)
	}
	changes, _ := res["changes"].(float64)
	notes, _ := res["notifications"].(float64)
	if res["scenario"] != "rich" || res["subscriptions"] != 3.0 || changes < 1 || notes != 3*changes {
		t.Errorf("bench rich: scenario %v, %v subscriptions, %v changes, %v notifications; want rich, 3, ≥ 1, 3 per change", res["scenario"], res["subscriptions"], changes, notes)
	}
	if refused, ok := res["refused_posts"]; ok {
		t.Errorf("bench rich: refused_posts = %v, want none; stderr: %s", refused, errOut.String())
	}
	lat, _ := res["latency_ms"].(map[string]any)
	if p50, _ := lat["p50"].(float64); p50 <= 0 || lat["p99"].(float64) < p50 {
		t.Errorf("latency_ms = %v", lat)
	}
	if r, _ := res["ratio"].(float64); r <= 0 {
		t.Errorf("ratio = %v, want > 0", res["ratio"])
	}
}

// TestBenchTarget measures a running server through its API only: the subscriptions
// are created with POST /subscriptions (distinct, so Graph's duplicate rule lets
// them all in), and every change reaches every one of them.
func TestBenchTarget(t *testing.T) {
	m := app.New(app.Config{Addr: "127.0.0.1:0", Data: t.TempDir(), LogLevel: "error"}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"bench", "--target", m.URL, "--scenario", "batched", "--subs", "3", "--duration", "1s", "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("bench --target exited %d: %s", code, errOut.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("bench --json printed %q: %v", out.String(), err)
	}
	changes, _ := res["changes"].(float64)
	notes, _ := res["notifications"].(float64)
	if changes < 1 || notes != 3*changes {
		t.Errorf("bench --target: %v changes, %v notifications, want 3 per change", changes, notes)
	}
	// The run deleted its subscriptions: the same run again makes them anew instead
	// of meeting Graph's 409 for a duplicate.
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"bench", "--target", m.URL, "--scenario", "batched", "--subs", "3", "--duration", "1s", "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("second bench --target exited %d: %s", code, errOut.String())
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("second bench --json printed %q: %v", out.String(), err)
	}
	changes, _ = res["changes"].(float64)
	notes, _ = res["notifications"].(float64)
	if changes < 1 || notes != 3*changes {
		t.Errorf("second bench --target: %v changes, %v notifications, want 3 per change (no subscription left from the first)", changes, notes)
	}
}

// TestBenchOnPostgres runs a one-second single bench whose server keeps its store in
// PostgreSQL (--database): every change it accepted comes back as a notification,
// and the messages are in that database. With --pg-replay, one change's transaction
// is then sent again for a second: each replay that committed left a message of
// its own, under a new id, and none failed.
func TestBenchOnPostgres(t *testing.T) {
	dsn := pgtest.URL(t)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"bench", "--database", dsn, "--scenario", "single", "--duration", "1s", "--clients", "4", "--pg-replay", "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("bench --database exited %d: %s", code, errOut.String())
	}
	var res struct {
		Changes       int64   `json:"changes"`
		ChangesPerS   float64 `json:"changes_per_s"`
		Notifications int64   `json:"notifications"`
		Statements    int     `json:"pg_replay_statements"`
		Committed     int64   `json:"pg_replay_committed"`
		Failed        int64   `json:"pg_replay_failed"`
		ReplayPerS    float64 `json:"pg_replay_changes_per_s"`
		Share         float64 `json:"pg_replay_share"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("bench --json printed %q: %v", out.String(), err)
	}
	if res.Changes < 1 || res.Notifications != res.Changes {
		t.Errorf("bench --database: %d changes, %d notifications; want at least one, each notified once", res.Changes, res.Notifications)
	}
	// The messages the bench created are in the database it was given.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored int64
	if err := db.QueryRow(`SELECT COUNT(*) FROM objects WHERE kind = 'message'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored < res.Changes {
		t.Errorf("bench --database: %d messages in the database, want at least the %d changes", stored, res.Changes)
	}
	// BEGIN, at least the message and its change, COMMIT.
	if res.Statements < 4 || res.Committed < 1 || res.Failed != 0 {
		t.Fatalf("--pg-replay: %d statements, %d committed, %d failed; want at least 4 statements and one commit, no failure", res.Statements, res.Committed, res.Failed)
	}
	var replayed, changes int64
	if err := db.QueryRow(`SELECT COUNT(*) FROM objects WHERE kind = 'message' AND id LIKE '%-replay-%'`).Scan(&replayed); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM changes WHERE id LIKE '%-replay-%'`).Scan(&changes); err != nil {
		t.Fatal(err)
	}
	if replayed != res.Committed || changes != res.Committed {
		t.Errorf("--pg-replay: %d commits left %d messages and %d changes under replay ids, want one of each per commit", res.Committed, replayed, changes)
	}
	// Its notifications, for a receiver gone with the bench, are not left queued.
	var queued int64
	if err := db.QueryRow(`SELECT COUNT(*) FROM notifications WHERE resource LIKE '%-replay-%'`).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != 0 {
		t.Errorf("--pg-replay left %d notifications queued", queued)
	}
	if res.ReplayPerS <= 0 || math.Abs(res.Share-res.ChangesPerS/res.ReplayPerS) > 1e-9 {
		t.Errorf("--pg-replay: %.1f changes/s replayed, share %.3f of the run's %.1f; want a rate and the run's share of it", res.ReplayPerS, res.Share, res.ChangesPerS)
	}
}
