package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

func init() {
	commands["bench"] = command{summary: "measure change→notification throughput and latency against loopback receivers", run: runBench}
}

// benchConfig is what `graphhook bench` can be told.
type benchConfig struct {
	Scenario string
	Duration time.Duration
	Rate     int // changes per second; 0 = as fast as the API takes them
	Subs     int
	Clients  int
	Target   string
	JSON     bool
	// CPUProfile, when set, names a file for a CPU profile of the whole run.
	CPUProfile string
}

func (c *benchConfig) validate() error {
	switch c.Scenario {
	case "single", "batched", "fanout", "slow-endpoint", "memory":
	default:
		return fmt.Errorf("--scenario must be single, batched, fanout, slow-endpoint or memory, not %q", c.Scenario)
	}
	if c.Duration <= 0 {
		return errors.New("--duration must be positive")
	}
	if c.Rate < 0 || c.Subs < 0 || c.Clients < 0 {
		return errors.New("--rate, --subs and --clients must not be negative")
	}
	if c.Target != "" && c.Scenario == "memory" {
		return errors.New("the memory scenario measures this process; it cannot use --target")
	}
	return nil
}

// benchResult is the --json object.
type benchResult struct {
	Scenario          string             `json:"scenario"`
	DurationS         float64            `json:"duration_s"`
	Subscriptions     int                `json:"subscriptions"`
	Changes           int64              `json:"changes"`
	ChangesPerS       float64            `json:"changes_per_s"`
	Notifications     int64              `json:"notifications"`
	NotificationsPerS float64            `json:"notifications_per_s"`
	Posts             int64              `json:"posts"`
	LatencyMS         map[string]float64 `json:"latency_ms"`
	RawPostsPerS      float64            `json:"raw_posts_per_s"`
	Ratio             float64            `json:"ratio"`
	SlowEndpointPosts int64              `json:"slow_endpoint_posts,omitempty"`
	// BaselineP99MS is, for slow-endpoint, the other endpoints' p99 in the first half
	// of the run, when the slow endpoint still answers at once; P99IncreasePct is how
	// much the second half (slow endpoint answering in 2.5 s) raised it.
	BaselineP99MS  float64 `json:"baseline_p99_ms,omitempty"`
	P99IncreasePct float64 `json:"p99_increase_pct,omitempty"`
	// PostsRatio is POSTs/s over raw POSTs/s (Ratio is notifications/s over raw POSTs/s).
	PostsRatio float64 `json:"posts_ratio"`
	RSSMB      float64 `json:"rss_mb,omitempty"`
	CPUs       int     `json:"cpus"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	var cfg benchConfig
	fs.StringVar(&cfg.Scenario, "scenario", "single", "single (one subscription per URL, one notification per POST), batched (many subscriptions, one URL), fanout (one change to 1,000 subscriptions), slow-endpoint (one endpoint answers in 2.5 s), memory (RSS with --subs active subscriptions)")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to drive changes")
	fs.IntVar(&cfg.Rate, "rate", 0, "changes per second (0: as fast as the API accepts them)")
	fs.IntVar(&cfg.Subs, "subs", 0, "subscriptions (default per scenario: single 1, batched 100, fanout 1000, slow-endpoint 10, memory 100000)")
	fs.IntVar(&cfg.Clients, "clients", 0, "concurrent API clients driving changes (default 2×CPUs)")
	fs.StringVar(&cfg.Target, "target", "", "a running graphhook to measure (default: start one with an embedded store in a temporary folder)")
	fs.BoolVar(&cfg.JSON, "json", false, "print one JSON object instead of a table")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	cfg.Subs = cmp.Or(cfg.Subs, map[string]int{"single": 1, "batched": 100, "fanout": 1000, "slow-endpoint": 10, "memory": 100000}[cfg.Scenario])
	cfg.Clients = cmp.Or(cfg.Clients, 2*runtime.NumCPU())
	if cfg.Scenario == "fanout" && cfg.Rate == 0 {
		cfg.Rate = 5 // each change is 1,000 notifications
	}
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := bench(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", res.Scenario)
	fmt.Fprintf(tw, "duration\t%.1f s\n", res.DurationS)
	fmt.Fprintf(tw, "subscriptions\t%d\n", res.Subscriptions)
	fmt.Fprintf(tw, "changes/s accepted\t%.0f\n", res.ChangesPerS)
	fmt.Fprintf(tw, "notifications/s delivered\t%.0f (%d in %d POSTs)\n", res.NotificationsPerS, res.Notifications, res.Posts)
	fmt.Fprintf(tw, "latency p50 / p90 / p99\t%.1f / %.1f / %.1f ms\n", res.LatencyMS["p50"], res.LatencyMS["p90"], res.LatencyMS["p99"])
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

// benchReceiver is the in-process loopback receiver: it counts items and the
// latency from each change's API call to its notification.
type benchReceiver struct {
	srv      *http.Server
	url      string
	sent     sync.Map // message id → time the change was sent
	items    atomic.Int64
	posts    atomic.Int64
	slowPath string
	slowOn   atomic.Bool // the slow endpoint answers late only while set
	slowHits atomic.Int64
	measure  atomic.Bool
	mu       sync.Mutex
	lat      []time.Duration
}

func newBenchReceiver() (*benchReceiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &benchReceiver{url: "http://" + l.Addr().String()}
	r.srv = &http.Server{Handler: r}
	go r.srv.Serve(l)
	return r, nil
}

func (r *benchReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if tok := req.URL.Query().Get("validationToken"); tok != "" {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, tok)
		return
	}
	body, _ := io.ReadAll(req.Body)
	if r.slowPath != "" && req.URL.Path == r.slowPath {
		r.slowHits.Add(1)
		if r.slowOn.Load() {
			time.Sleep(2500 * time.Millisecond) // the slow endpoint of the scenario
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	now := time.Now()
	if req.URL.Path == "/raw" {
		r.posts.Add(1)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	var c struct {
		Value []struct {
			ResourceData struct {
				ID string `json:"id"`
			} `json:"resourceData"`
		} `json:"value"`
	}
	json.Unmarshal(body, &c)
	r.posts.Add(1)
	r.items.Add(int64(len(c.Value)))
	if r.measure.Load() {
		r.mu.Lock()
		for _, it := range c.Value {
			if t, ok := r.sent.Load(it.ResourceData.ID); ok {
				r.lat = append(r.lat, now.Sub(t.(time.Time)))
			}
		}
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusAccepted)
}

func bench(ctx context.Context, cfg benchConfig, log io.Writer) (*benchResult, error) {
	recv, err := newBenchReceiver()
	if err != nil {
		return nil, err
	}
	defer recv.srv.Close()
	base := cfg.Target
	var m *Main
	if base == "" {
		dir, err := os.MkdirTemp("", "graphhook-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		deliveryConfig.BatchSize = 100
		if cfg.Scenario == "single" {
			deliveryConfig.BatchSize = 1
		}
		deliveryConfig.PerURL = 8
		m = NewMain(Config{Addr: "127.0.0.1:0", Data: dir, LogLevel: "error"}, io.Discard, io.Discard)
		if err := m.Run(ctx); err != nil {
			m.Close()
			return nil, err
		}
		defer m.Close()
		base = m.URL
	}
	token, err := benchToken(base)
	if err != nil {
		return nil, err
	}
	urls := subscriptionURLs(cfg, recv)
	if err := benchSubscribe(ctx, m, base, token, urls, cfg.Subs); err != nil {
		return nil, err
	}
	res := &benchResult{Scenario: cfg.Scenario, Subscriptions: cfg.Subs, CPUs: runtime.NumCPU()}
	if cfg.Scenario == "memory" {
		runtime.GC()
		res.RSSMB = rssMB()
		fmt.Fprintf(log, "RSS with %d subscriptions: %.0f MB\n", cfg.Subs, res.RSSMB)
	}

	// Drive changes through the public Graph API for the duration. The slow-endpoint
	// scenario splits it in two: a baseline half with every endpoint fast, then a
	// half with the slow endpoint answering in 2.5 s; the others' p99 is compared.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients * 2}}
	phase := cfg.Duration
	if cfg.Scenario == "slow-endpoint" {
		phase = cfg.Duration / 2
		recv.measure.Store(true)
		drive(ctx, cfg, phase, client, base, token, recv)
		recv.mu.Lock()
		res.BaselineP99MS = percentiles(recv.lat)["p99"]
		recv.lat = recv.lat[:0]
		recv.mu.Unlock()
		recv.slowOn.Store(true)
	}
	recv.items.Store(0)
	recv.posts.Store(0)
	recv.slowHits.Store(0)
	recv.measure.Store(true)
	start := time.Now()
	changes := drive(ctx, cfg, phase, client, base, token, recv)
	elapsed := time.Since(start)
	// Let the pipeline catch up with what was accepted, up to 10 s more.
	want := changes * int64(cfg.Subs)
	if cfg.Scenario == "slow-endpoint" {
		want = changes * int64(cfg.Subs-1)
	}
	drain := time.Now().Add(10 * time.Second)
	for recv.items.Load() < want && time.Now().Before(drain) {
		time.Sleep(10 * time.Millisecond)
	}
	total := time.Since(start)
	recv.measure.Store(false)
	res.DurationS = elapsed.Seconds()
	res.Changes = changes
	res.ChangesPerS = float64(res.Changes) / elapsed.Seconds()
	res.Notifications = recv.items.Load()
	res.NotificationsPerS = float64(res.Notifications) / total.Seconds()
	res.Posts = recv.posts.Load()
	res.SlowEndpointPosts = recv.slowHits.Load()
	recv.mu.Lock()
	res.LatencyMS = percentiles(recv.lat)
	recv.mu.Unlock()

	// The same receiver, fed by a plain Go client: the ceiling of this machine.
	rawDur := min(cfg.Duration, 5*time.Second)
	recv.posts.Store(0)
	res.RawPostsPerS = rawPosts(ctx, recv.url+"/raw", cfg.Clients, rawDur, &recv.posts)
	if res.RawPostsPerS > 0 {
		res.Ratio = res.NotificationsPerS / res.RawPostsPerS
		res.PostsRatio = float64(res.Posts) / total.Seconds() / res.RawPostsPerS
	}
	if res.BaselineP99MS > 0 {
		res.P99IncreasePct = 100 * (res.LatencyMS["p99"] - res.BaselineP99MS) / res.BaselineP99MS
	}
	if cfg.Scenario == "memory" && res.RSSMB == 0 {
		res.RSSMB = rssMB()
	}
	return res, nil
}

// drive sends changes through the Graph API from cfg.Clients clients for d (at
// cfg.Rate changes per second when set) and returns how many were accepted.
func drive(ctx context.Context, cfg benchConfig, d time.Duration, client *http.Client, base, token string, recv *benchReceiver) int64 {
	var changes atomic.Int64
	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var tick <-chan time.Time
	if cfg.Rate > 0 {
		tk := time.NewTicker(time.Second / time.Duration(cfg.Rate))
		defer tk.Stop()
		tick = tk.C
	}
	var wg sync.WaitGroup
	for w := 0; w < cfg.Clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				if tick != nil {
					select {
					case <-tick:
					case <-runCtx.Done():
						return
					}
				}
				id, sentAt, err := benchChange(runCtx, client, base, token)
				if err != nil {
					continue
				}
				recv.sent.Store(id, sentAt)
				changes.Add(1)
			}
		}()
	}
	wg.Wait()
	return changes.Load()
}

func subscriptionURLs(cfg benchConfig, r *benchReceiver) []string {
	urls := make([]string, cfg.Subs)
	for i := range urls {
		switch cfg.Scenario {
		case "single":
			urls[i] = fmt.Sprintf("%s/single/%d", r.url, i)
		case "batched", "memory":
			urls[i] = r.url + "/batched"
		case "fanout":
			urls[i] = fmt.Sprintf("%s/fanout/%d", r.url, i%10)
		case "slow-endpoint":
			urls[i] = fmt.Sprintf("%s/fast/%d", r.url, i)
		}
	}
	if cfg.Scenario == "slow-endpoint" {
		r.slowPath = "/slow"
		urls[0] = r.url + "/slow"
	}
	return urls
}

// benchSubscribe creates the subscriptions: through the API against --target, and
// straight into the store for the embedded server (quotas would refuse thousands of
// subscriptions per app, and it is delivery that is measured).
func benchSubscribe(ctx context.Context, m *Main, base, token string, urls []string, n int) error {
	topic := change.UserMessages(demoAdele)
	if m == nil {
		for i := 0; i < n; i++ {
			body, _ := json.Marshal(map[string]any{"changeType": "created", "notificationUrl": urls[i],
				"resource": "/users/" + demoAdele + "/messages", "expirationDateTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
			status, out, err := benchDo(ctx, http.DefaultClient, "POST", base+"/v1.0/subscriptions", token, body)
			if err != nil || status != http.StatusCreated {
				return fmt.Errorf("creating subscription %d: %d %s %v", i, status, out, err)
			}
		}
		return nil
	}
	now := m.Clock.Now()
	tenant := identity.DemoFixture().Tenants[0]
	app := tenant.Apps[0].ClientID
	for lo := 0; lo < n; lo += 1000 {
		err := m.Store.Update(ctx, func(tx store.Tx) error {
			for i := lo; i < min(lo+1000, n); i++ {
				id := uuid.NewString()
				s := store.Subscription{ID: id, Tenant: tenant.ID, AppID: app, CreatorID: identity.ServicePrincipalID(tenant.ID, app),
					PermissionType: int(identity.Application), ResourceType: string(identity.Message), Topic: topic, ChangeTypes: "created",
					NotificationURL: urls[i], Expiration: now.Add(3 * 24 * time.Hour), AuthorizedUntil: now.Add(24 * time.Hour),
					Created: now, Data: []byte(`{"id":"` + id + `"}`)}
				if err := tx.InsertSubscription(ctx, &s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

const demoAdele = "22222222-0000-4000-8000-000000000001"

func benchToken(base string) (string, error) {
	t := identity.DemoFixture().Tenants[0]
	resp, err := http.PostForm(base+"/"+t.ID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {t.Apps[0].ClientID}, "client_secret": {t.Apps[0].ClientSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if out.AccessToken == "" {
		return "", fmt.Errorf("token endpoint answered %d", resp.StatusCode)
	}
	return out.AccessToken, nil
}

var benchBody = []byte(`{"subject":"bench","body":{"contentType":"text","content":"hello"}}`)

// benchChange creates one message in the demo user's mailbox.
func benchChange(ctx context.Context, c *http.Client, base, token string) (string, time.Time, error) {
	sent := time.Now()
	status, out, err := benchDo(ctx, c, "POST", base+"/v1.0/users/"+demoAdele+"/messages", token, benchBody)
	if err != nil {
		return "", sent, err
	}
	if status != http.StatusCreated {
		return "", sent, fmt.Errorf("create message: %d", status)
	}
	var m struct {
		ID string `json:"id"`
	}
	json.Unmarshal(out, &m)
	return m.ID, sent, nil
}

func benchDo(ctx context.Context, c *http.Client, method, u, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// rawPosts measures how many POSTs a plain Go client gets through to the receiver.
func rawPosts(ctx context.Context, u string, clients int, d time.Duration, count *atomic.Int64) float64 {
	body := []byte(`{"value":[{"subscriptionId":"x","changeType":"created","resource":"r","tenantId":"t"}]}`)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", u, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json; charset=utf-8")
				resp, err := c.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	return float64(count.Load()) / time.Since(start).Seconds()
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

// rssMB reads this process's resident set size from /proc (0 where there is none).
func rssMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}
