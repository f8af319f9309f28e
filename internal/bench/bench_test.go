package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/graphclient"
	"github.com/graphhook/graphhook/receiver"
)

func TestCheckDecrypted(t *testing.T) {
	rich := func(id, data string) receiver.Notification {
		n := receiver.Notification{Data: []byte(data)}
		n.ResourceData = &receiver.ResourceData{ID: id}
		if data == "" {
			n.Data = nil
		}
		return n
	}
	tests := []struct {
		name    string
		batch   []receiver.Notification
		wantErr string // "" for none
	}{
		{"decrypted", []receiver.Notification{rich("1", `{"id":"1"}`), rich("2", `{"id":"2","body":{}}`)}, ""},
		{"basic", []receiver.Notification{rich("1", `{"id":"1"}`), rich("2", "")}, "value[1] has no encryptedContent"},
		{"no resourceData", []receiver.Notification{{Data: []byte(`{"id":"1"}`)}}, "value[0] has no encryptedContent or no resourceData"},
		{"another message", []receiver.Notification{rich("1", `{"id":"2"}`)}, `decrypted message "2", resourceData names "1"`},
		{"not JSON", []receiver.Notification{rich("1", `garbage`)}, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkDecrypted(tt.batch)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("checkDecrypted() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestBenchConfigRichTarget checks the edge of the rich scenario's --subs limit
// against a running server: one subscription per app per chat.
func TestBenchConfigRichTarget(t *testing.T) {
	for _, tt := range []struct {
		subs    int
		target  string
		wantErr bool
	}{
		{0, "http://127.0.0.1:1", false}, // the default, 1 with --target
		{1, "http://127.0.0.1:1", false},
		{2, "http://127.0.0.1:1", true},
		{1000, "", false}, // copies in the embedded store
	} {
		cfg := Config{Scenario: "rich", Duration: time.Second, Subs: tt.subs, Target: tt.target}
		if err := cfg.Validate(); (err != nil) != tt.wantErr {
			t.Errorf("validate(rich, --subs %d, --target %q) = %v, want error %v", tt.subs, tt.target, err, tt.wantErr)
		}
	}
}

// TestRunStartsItsOwnServer checks that without --target bench asks Options.Start for
// a server with the delivery configuration of the scenario, instead of changing any
// configuration shared with other servers of the process.
func TestRunStartsItsOwnServer(t *testing.T) {
	refused := errors.New("no server today")
	for _, tt := range []struct {
		scenario string
		want     delivery.Config
	}{
		{"single", delivery.Config{BatchSize: 100, PerURL: 8, PushBack: delivery.DefaultPushBack, PushBackHold: delivery.DefaultPushBackHold}},
		{"batched", delivery.Config{BatchSize: 100, PerURL: 8, PushBack: delivery.DefaultPushBack, PushBackHold: delivery.DefaultPushBackHold}},
		{"rich", delivery.Config{BatchSize: 100, PerURL: 8, PushBack: delivery.DefaultPushBack, PushBackHold: delivery.DefaultPushBackHold}},
	} {
		var got []delivery.Config
		start := func(ctx context.Context, cfg delivery.Config) (*Server, func(), error) {
			got = append(got, cfg)
			return nil, nil, refused
		}
		_, err := Run(context.Background(), Config{Scenario: tt.scenario, Duration: time.Second}, Options{Start: start})
		if !errors.Is(err, refused) {
			t.Errorf("Run(%s) = %v, want Start's error", tt.scenario, err)
		}
		if diff := cmp.Diff([]delivery.Config{tt.want}, got); diff != "" {
			t.Errorf("Run(%s) started servers with (-want +got):\n%s", tt.scenario, diff)
		}
	}
	if _, err := Run(context.Background(), Config{Scenario: "single", Duration: time.Second}, Options{}); err == nil {
		t.Error("Run() with neither --target nor Start = nil error, want one")
	}
}

func TestWriteTable(t *testing.T) {
	res := &Result{Scenario: "slow-endpoint", DurationS: 2, Subscriptions: 10, Changes: 40, ChangesPerS: 20, Notifications: 360,
		NotificationsPerS: 150, Posts: 36, LatencyMS: map[string]float64{"p50": 1.25, "p90": 2.5, "p99": 8}, RawPostsPerS: 3000,
		PostsPerS: 18, Ratio: 0.05, BaselineP99MS: 4, P99IncreasePct: 100, RSSMB: 64.4, Throttled: 3, Failed: 2,
		FirstFailure:   "POST /v1.0/users/u/messages: 500 generalException: boom",
		CPUPerChangeUS: 512.4, MachineBusyPct: 77.2, MachineIdlePct: 15, MachineIOWaitPct: 7.8}
	var b strings.Builder
	if err := res.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	want := `scenario                                    slow-endpoint
duration                                    2.0 s
subscriptions                               10
changes/s accepted                          20
notifications/s delivered                   150 (360 in 36 POSTs)
POSTs/s                                     18
changes pushed back (429)                   3
changes failed                              2 (the first: POST /v1.0/users/u/messages: 500 generalException: boom)
latency p50 / p90 / p99                     1.2 / 2.5 / 8.0 ms
CPU of this process per change              512 µs
machine CPU busy / idle / iowait            77 / 15 / 8 %
raw loopback POST/s                         3000
ratio (notifications/s ÷ raw POST/s)        0.050
others' p99: baseline → with slow endpoint  4.0 → 8.0 ms (+100.0 %)
RSS                                         64 MB
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteTable() (-want +got):\n%s", diff)
	}
}

// TestAccount checks the CPU figures of a phase on this machine: the process's CPU
// time is spread over the changes, and the machine's shares add up to 100 %.
func TestAccount(t *testing.T) {
	start := sampleCPU()
	if start.machine == (machineTicks{}) {
		t.Skip("no /proc/stat here")
	}
	// Burn CPU until the process and the machine have both counted some.
	deadline := time.Now().Add(5 * time.Second)
	for x := 0; ; x++ {
		now := sampleCPU()
		if now.process-start.process >= 20*time.Millisecond && now.machine.busy > start.machine.busy || time.Now().After(deadline) {
			break
		}
		_ = strings.Repeat("x", x%64)
	}
	var res Result
	res.account(start, 4)
	if res.CPUPerChangeUS < 20_000/4 {
		t.Errorf("CPUPerChangeUS = %.0f after at least 20 ms of CPU over 4 changes; want ≥ 5000", res.CPUPerChangeUS)
	}
	if sum := res.MachineBusyPct + res.MachineIdlePct + res.MachineIOWaitPct; sum < 99.9 || sum > 100.1 || res.MachineBusyPct <= 0 {
		t.Errorf("machine busy / idle / iowait = %.1f / %.1f / %.1f %%; want shares of 100 with some busy", res.MachineBusyPct, res.MachineIdlePct, res.MachineIOWaitPct)
	}
	var none Result
	none.account(sampleCPU(), 0)
	if none.CPUPerChangeUS != 0 {
		t.Errorf("CPUPerChangeUS with no changes = %v, want 0", none.CPUPerChangeUS)
	}
}

// TestDriveCountsFailures: drive counts the changes accepted, those pushed back
// with 429 and those that failed otherwise, keeps the first failure's error, and
// after a failure the client waits failFloor instead of sending again at once.
func TestDriveCountsFailures(t *testing.T) {
	var calls atomic.Int64
	var failedAt, nextAt atomic.Int64
	makeChange := func(ctx context.Context) (string, time.Time, error) {
		switch n := calls.Add(1); n {
		case 1:
			failedAt.Store(time.Now().UnixNano())
			return "", time.Time{}, &graphclient.Error{Method: "POST", Path: "/v1.0/x", Status: 500, Code: "generalException", Message: "boom"}
		case 2:
			nextAt.Store(time.Now().UnixNano())
			return "", time.Time{}, &graphclient.Error{Method: "POST", Path: "/v1.0/x", Status: 429, Code: "TooManyRequests", Message: "slow down"}
		case 3:
			return "", time.Time{}, errors.New("connection reset")
		default:
			return fmt.Sprint(n), time.Now(), nil
		}
	}
	var out driveOutcomes
	changes := drive(t.Context(), Config{Clients: 1}, 400*time.Millisecond, makeChange, &loopback{}, &out)
	if out.failed.Load() != 2 || out.throttled.Load() != 1 {
		t.Errorf("failed %d, throttled %d; want 2 and 1", out.failed.Load(), out.throttled.Load())
	}
	if first := out.first.Load(); first == nil || *first != "POST /v1.0/x: 500 generalException: boom" {
		t.Errorf("first failure %v, want the 500", first)
	}
	if want := calls.Load() - 3; changes != want || changes == 0 {
		t.Errorf("%d changes counted, want %d (> 0)", changes, want)
	}
	if gap := time.Duration(nextAt.Load() - failedAt.Load()); gap < failFloor {
		t.Errorf("the client sent again %v after a failure, want ≥ %v", gap, failFloor)
	}
}
