package bench

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// Result is what a run measured; it is also the --json object.
type Result struct {
	Scenario          string             `json:"scenario"`
	DurationS         float64            `json:"duration_s"`
	Subscriptions     int                `json:"subscriptions"`
	Changes           int64              `json:"changes"`
	ChangesPerS       float64            `json:"changes_per_s"`
	Notifications     int64              `json:"notifications"`
	NotificationsPerS float64            `json:"notifications_per_s"`
	Posts             int64              `json:"posts"`
	PostsPerS         float64            `json:"posts_per_s"`
	LatencyMS         map[string]float64 `json:"latency_ms"`
	RawPostsPerS      float64            `json:"raw_posts_per_s"`
	Ratio             float64            `json:"ratio"`
	SlowEndpointPosts int64              `json:"slow_endpoint_posts,omitempty"`
	// RefusedPosts is, for rich, the POSTs the receiver refused: a validation token,
	// clientState, dataSignature or decryption check failed, or the decrypted
	// resource was not the one resourceData names. Their items are not counted in
	// Notifications.
	RefusedPosts int64 `json:"refused_posts,omitempty"`
	// BaselineP99MS is, for slow-endpoint, the other endpoints' p99 in the first half
	// of the run, when the slow endpoint still answers at once; P99IncreasePct is how
	// much the second half (slow endpoint answering in 2.5 s) raised it.
	BaselineP99MS  float64 `json:"baseline_p99_ms,omitempty"`
	P99IncreasePct float64 `json:"p99_increase_pct,omitempty"`
	// PostsRatio is POSTs/s over raw POSTs/s (Ratio is notifications/s over raw POSTs/s).
	PostsRatio float64 `json:"posts_ratio"`
	RSSMB      float64 `json:"rss_mb,omitempty"`
	CPUs       int     `json:"cpus"`
	// Throttled counts the changes the server pushed back with 429 (each waited
	// its Retry-After and was not retried).
	Throttled int64 `json:"throttled_429"`
	// FirstFailure is, outside mixed, the error of the first change that failed
	// otherwise than by a 429; Failed (below) counts them, and each client waited
	// 100 ms after one.
	FirstFailure string `json:"first_failure,omitempty"`
	// The mixed scenario: the collections' load time, the offered and achieved
	// request rates, and read and write latencies (requests that failed are
	// counted apart).
	LoadS          float64            `json:"load_s,omitempty"`
	OfferedPerS    int                `json:"offered_per_s,omitempty"`
	RequestsPerS   float64            `json:"requests_per_s,omitempty"`
	Reads          int64              `json:"reads,omitempty"`
	Writes         int64              `json:"writes,omitempty"`
	Failed         int64              `json:"failed,omitempty"`
	ReadLatencyMS  map[string]float64 `json:"read_latency_ms,omitempty"`
	WriteLatencyMS map[string]float64 `json:"write_latency_ms,omitempty"`
	// Nodes is the number of servers the changes were spread over (--target list).
	Nodes int `json:"nodes,omitempty"`
	// With --pg-sample: LockWaitPct is the share of the database's in-transaction
	// backend samples that waited for a lock, over PGSamples samples of
	// pg_stat_activity; LockWaits counts the waiting samples by wait event.
	LockWaitPct *float64         `json:"lock_wait_pct,omitempty"`
	PGSamples   int              `json:"pg_samples,omitempty"`
	LockWaits   map[string]int64 `json:"lock_waits,omitempty"`
	// With --pg-replay: the rate at which PostgreSQL alone committed one captured
	// change transaction of the run (PGReplayStatements statements, BEGIN and COMMIT
	// included) sent again from bare connections, the transactions of it that
	// committed and failed, and the run's changes/s as a share of that rate.
	PGReplayChangesPerS float64 `json:"pg_replay_changes_per_s,omitempty"`
	PGReplayStatements  int     `json:"pg_replay_statements,omitempty"`
	PGReplayCommitted   int64   `json:"pg_replay_committed,omitempty"`
	PGReplayFailed      int64   `json:"pg_replay_failed,omitempty"`
	PGReplayShare       float64 `json:"pg_replay_share,omitempty"`
	// CPUPerChangeUS is this process's CPU time (user and system) over the measured
	// phase and its drain, per accepted change. With the server in this process it
	// counts server, client and receiver together; with --target, only the latter two.
	CPUPerChangeUS float64 `json:"cpu_per_change_us,omitempty"`
	// The machine's CPU time over the same span (/proc/stat), in percent: busy,
	// idle, and idle while waiting for the disk. Idle time at the peak means a
	// serial step, not the cores, is the limit.
	MachineBusyPct   float64 `json:"machine_busy_pct,omitempty"`
	MachineIdlePct   float64 `json:"machine_idle_pct,omitempty"`
	MachineIOWaitPct float64 `json:"machine_iowait_pct,omitempty"`
}

// WriteTable prints res as the table `graphhook bench` shows without --json.
func (res *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", res.Scenario)
	fmt.Fprintf(tw, "duration\t%.1f s\n", res.DurationS)
	if res.Scenario == "mixed" {
		fmt.Fprintf(tw, "collections loaded in\t%.1f s\n", res.LoadS)
		fmt.Fprintf(tw, "requests/s offered → achieved\t%d → %.0f (%d reads, %d writes, %d failed)\n", res.OfferedPerS, res.RequestsPerS, res.Reads, res.Writes, res.Failed)
		fmt.Fprintf(tw, "read p50 / p99\t%.1f / %.1f ms\n", res.ReadLatencyMS["p50"], res.ReadLatencyMS["p99"])
		fmt.Fprintf(tw, "write p50 / p99\t%.1f / %.1f ms\n", res.WriteLatencyMS["p50"], res.WriteLatencyMS["p99"])
		if res.RSSMB > 0 {
			fmt.Fprintf(tw, "RSS\t%.0f MB\n", res.RSSMB)
		}
		return tw.Flush()
	}
	fmt.Fprintf(tw, "subscriptions\t%d\n", res.Subscriptions)
	fmt.Fprintf(tw, "changes/s accepted\t%.0f\n", res.ChangesPerS)
	if res.Scenario == "rich" {
		fmt.Fprintf(tw, "rich notifications/s delivered, decrypted\t%.0f (%d in %d POSTs, %d POSTs refused)\n", res.NotificationsPerS, res.Notifications, res.Posts, res.RefusedPosts)
	} else {
		fmt.Fprintf(tw, "notifications/s delivered\t%.0f (%d in %d POSTs)\n", res.NotificationsPerS, res.Notifications, res.Posts)
	}
	fmt.Fprintf(tw, "POSTs/s\t%.0f\n", res.PostsPerS)
	fmt.Fprintf(tw, "changes pushed back (429)\t%d\n", res.Throttled)
	if res.Failed > 0 {
		fmt.Fprintf(tw, "changes failed\t%d (the first: %s)\n", res.Failed, res.FirstFailure)
	}
	fmt.Fprintf(tw, "latency p50 / p90 / p99\t%.1f / %.1f / %.1f ms\n", res.LatencyMS["p50"], res.LatencyMS["p90"], res.LatencyMS["p99"])
	if res.Nodes > 1 {
		fmt.Fprintf(tw, "nodes\t%d\n", res.Nodes)
	}
	if res.LockWaitPct != nil {
		fmt.Fprintf(tw, "lock waits %% of transaction time\t%.1f %% (%d samples of pg_stat_activity)\n", *res.LockWaitPct, res.PGSamples)
	}
	if res.PGReplayStatements > 0 {
		fmt.Fprintf(tw, "PostgreSQL alone, one change's %d statements replayed\t%.0f changes/s (%d failed); this run reached %.0f %% of it\n", res.PGReplayStatements, res.PGReplayChangesPerS, res.PGReplayFailed, 100*res.PGReplayShare)
	}
	if res.CPUPerChangeUS > 0 {
		fmt.Fprintf(tw, "CPU of this process per change\t%.0f µs\n", res.CPUPerChangeUS)
	}
	if res.MachineBusyPct > 0 {
		fmt.Fprintf(tw, "machine CPU busy / idle / iowait\t%.0f / %.0f / %.0f %%\n", res.MachineBusyPct, res.MachineIdlePct, res.MachineIOWaitPct)
	}
	fmt.Fprintf(tw, "raw loopback POST/s\t%.0f\n", res.RawPostsPerS)
	fmt.Fprintf(tw, "ratio (notifications/s ÷ raw POST/s)\t%.3f\n", res.Ratio)
	if res.BaselineP99MS > 0 {
		fmt.Fprintf(tw, "others' p99: baseline → with slow endpoint\t%.1f → %.1f ms (%+.1f %%)\n", res.BaselineP99MS, res.LatencyMS["p99"], res.P99IncreasePct)
	}
	if res.RSSMB > 0 {
		fmt.Fprintf(tw, "RSS\t%.0f MB\n", res.RSSMB)
	}
	return tw.Flush()
}

func percentiles(d []time.Duration) map[string]float64 {
	out := map[string]float64{"p50": 0, "p90": 0, "p99": 0}
	if len(d) == 0 {
		return out
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		i := int(q * float64(len(d)-1))
		return float64(d[i]) / float64(time.Millisecond)
	}
	out["p50"], out["p90"], out["p99"] = at(0.50), at(0.90), at(0.99)
	return out
}
