package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
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
	"github.com/graphhook/graphhook/internal/workload/outlook"
	"github.com/graphhook/graphhook/receiver"
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
	case "single", "batched", "fanout", "slow-endpoint", "memory", "rich":
	default:
		return fmt.Errorf("--scenario must be single, batched, fanout, slow-endpoint, memory or rich, not %q", c.Scenario)
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
	if c.Target != "" && c.Scenario == "rich" && c.Subs > 1 {
		// Against a server the subscriptions go through the API, and Graph takes one
		// chat message subscription per app per chat.
		return errors.New("the rich scenario with --target takes --subs 1: Graph allows one subscription per app per chat")
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
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	var cfg benchConfig
	fs.StringVar(&cfg.Scenario, "scenario", "single", "single (one subscription per URL, one notification per POST), batched (many subscriptions, one URL), fanout (one change to 1,000 subscriptions), slow-endpoint (one endpoint answers in 2.5 s), memory (RSS with --subs active subscriptions), "+
		"rich (chat messages posted through the Teams API to --subs includeResourceData subscriptions on one chat, one URL each, "+
		"encrypted for an RSA-2048 certificate; the receiver checks the validation token and dataSignature and decrypts every notification)")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to drive changes")
	fs.IntVar(&cfg.Rate, "rate", 0, "changes per second (0: as fast as the API accepts them)")
	fs.IntVar(&cfg.Subs, "subs", 0, "subscriptions (default per scenario: single 1, batched 100, fanout 1000, slow-endpoint 10, memory 100000, rich 10, or 1 with --target)")
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
	defaults := map[string]int{"single": 1, "batched": 100, "fanout": 1000, "slow-endpoint": 10, "memory": 100000, "rich": 10}
	if cfg.Target != "" {
		defaults["rich"] = 1
	}
	cfg.Subs = cmp.Or(cfg.Subs, defaults[cfg.Scenario])
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
	if res.Scenario == "rich" {
		fmt.Fprintf(tw, "rich notifications/s delivered, decrypted\t%.0f (%d in %d POSTs, %d POSTs refused)\n", res.NotificationsPerS, res.Notifications, res.Posts, res.RefusedPosts)
	} else {
		fmt.Fprintf(tw, "notifications/s delivered\t%.0f (%d in %d POSTs)\n", res.NotificationsPerS, res.Notifications, res.Posts)
	}
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

	// rich, when set, receives every notification POST as an app would: through the
	// public receiver package, which checks the validation tokens and clientState,
	// verifies each dataSignature and decrypts with the certificate's private key.
	rich     *receiver.Handler
	refused  atomic.Int64
	refusal  sync.Once
	whyFirst string // the first refusal's reason, for the log
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
	if r.rich != nil {
		r.serveRich(w, req, body)
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

// serveRich authenticates and decrypts a batch of rich notifications. Latency runs
// to the end of decryption: a notification is of use to the app only then.
func (r *benchReceiver) serveRich(w http.ResponseWriter, req *http.Request, body []byte) {
	r.posts.Add(1)
	c, err := receiver.ParseCollection(bytes.NewReader(body))
	var batch []receiver.Notification
	if err == nil {
		batch, err = r.rich.Verify(req.Context(), c)
	}
	if err == nil {
		err = checkDecrypted(batch)
	}
	if err != nil {
		r.refused.Add(1)
		r.refusal.Do(func() { r.whyFirst = err.Error() })
		w.WriteHeader(http.StatusForbidden)
		return
	}
	now := time.Now()
	r.items.Add(int64(len(batch)))
	if r.measure.Load() {
		r.mu.Lock()
		for _, n := range batch {
			if t, ok := r.sent.Load(n.ResourceData.ID); ok {
				r.lat = append(r.lat, now.Sub(t.(time.Time)))
			}
		}
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusAccepted)
}

// checkDecrypted makes sure every notification of a verified batch was rich and
// decrypted to the message its resourceData names: a basic notification, or data
// meant for another message, would make the figures meaningless.
func checkDecrypted(batch []receiver.Notification) error {
	for i, n := range batch {
		if n.Data == nil || n.ResourceData == nil {
			return fmt.Errorf("value[%d] has no encryptedContent or no resourceData", i)
		}
		var doc struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(n.Data, &doc); err != nil {
			return fmt.Errorf("value[%d]: decrypted data is not a JSON object: %v", i, err)
		}
		if doc.ID != n.ResourceData.ID {
			return fmt.Errorf("value[%d]: decrypted message %q, resourceData names %q", i, doc.ID, n.ResourceData.ID)
		}
	}
	return nil
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
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients * 2}}
	makeChange := func(ctx context.Context) (string, time.Time, error) { return benchChange(ctx, client, base, token) }
	if cfg.Scenario == "rich" {
		if makeChange, err = benchRich(ctx, m, client, base, token, recv, urls); err != nil {
			return nil, err
		}
	} else if err := benchSubscribe(ctx, m, base, token, urls, cfg.Subs); err != nil {
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
	phase := cfg.Duration
	if cfg.Scenario == "slow-endpoint" {
		phase = cfg.Duration / 2
		recv.measure.Store(true)
		drive(ctx, cfg, phase, makeChange, recv)
		recv.mu.Lock()
		res.BaselineP99MS = percentiles(recv.lat)["p99"]
		recv.lat = recv.lat[:0]
		recv.mu.Unlock()
		recv.slowOn.Store(true)
	}
	recv.items.Store(0)
	recv.posts.Store(0)
	recv.slowHits.Store(0)
	recv.refused.Store(0)
	recv.measure.Store(true)
	start := time.Now()
	changes := drive(ctx, cfg, phase, makeChange, recv)
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
	if res.RefusedPosts = recv.refused.Load(); res.RefusedPosts > 0 {
		fmt.Fprintf(log, "the receiver refused %d POSTs; the first because: %s\n", res.RefusedPosts, recv.whyFirst)
	}
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

// benchChangeFunc makes one change through the Graph API and returns the id its
// notifications carry in resourceData and when the request was sent.
type benchChangeFunc func(ctx context.Context) (id string, sent time.Time, err error)

// drive sends changes through the Graph API from cfg.Clients clients for d (at
// cfg.Rate changes per second when set) and returns how many were accepted.
func drive(ctx context.Context, cfg benchConfig, d time.Duration, makeChange benchChangeFunc, recv *benchReceiver) int64 {
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
				// The request itself runs on ctx: cancelled at the deadline, a change
				// the server had already committed would be notified but not counted.
				id, sentAt, err := makeChange(ctx)
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
		case "rich":
			urls[i] = fmt.Sprintf("%s/rich/%d", r.url, i)
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
			// Graph refuses a second subscription of one app to the same resource and
			// change types (409); a $filter every bench message passes makes each
			// subscription distinct.
			resource := "/users/" + demoAdele + "/messages"
			if i > 0 {
				resource += fmt.Sprintf("?$filter=subject ne 'not-bench-%d'", i)
			}
			body, _ := json.Marshal(map[string]any{"changeType": "created", "notificationUrl": urls[i],
				"resource": resource, "expirationDateTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
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
					PermissionType: int(identity.Application), ResourceType: outlook.MessageResource, Topic: topic, ChangeTypes: "created",
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

// benchToken is an application token of the demo app.
func benchToken(base string) (string, error) {
	t := identity.DemoFixture().Tenants[0]
	return benchTokenFor(base, url.Values{"grant_type": {"client_credentials"},
		"client_id": {t.Apps[0].ClientID}, "client_secret": {t.Apps[0].ClientSecret}, "scope": {"https://graph.microsoft.com/.default"}})
}

// benchUserToken is a delegated token of the demo delegated app for the demo tenant's
// first user, Adele: chat messages are sent by users, as in Graph.
func benchUserToken(base string) (string, error) {
	t := identity.DemoFixture().Tenants[0]
	return benchTokenFor(base, url.Values{"grant_type": {"password"}, "client_id": {t.Apps[1].ClientID}, "client_secret": {t.Apps[1].ClientSecret},
		"username": {t.Users[0].UserPrincipalName}, "password": {t.Users[0].Password}, "scope": {"https://graph.microsoft.com/.default"}})
}

func benchTokenFor(base string, form url.Values) (string, error) {
	t := identity.DemoFixture().Tenants[0]
	resp, err := http.PostForm(base+"/"+t.ID+"/oauth2/v2.0/token", form)
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

const (
	// benchCertID and benchClientState are the rich scenario's encryptionCertificateId
	// and clientState.
	benchCertID      = "graphhook-bench"
	benchClientState = "graphhook-bench-rich"
)

// benchRich sets up the rich scenario: an RSA-2048 certificate made as an app makes
// it, a chat created through the Teams API, the receiver holding the private key,
// and len(urls) subscriptions on the chat's messages. The first subscription goes
// through the API, so that the handshake, the certificate checks and the stored form
// are the real ones; on the embedded server the others are copies of its row made
// straight in the store, since Graph allows one per app per chat. It returns the
// change: a message posted in the chat by Adele.
func benchRich(ctx context.Context, m *Main, client *http.Client, base, appToken string, recv *benchReceiver, urls []string) (benchChangeFunc, error) {
	key, cert, err := benchCertificate()
	if err != nil {
		return nil, err
	}
	t := identity.DemoFixture().Tenants[0]
	member := func(u identity.FixtureUser) map[string]any {
		return map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": []string{"owner"},
			"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + u.ID + "')"}
	}
	body, _ := json.Marshal(map[string]any{"chatType": "group", "topic": "graphhook bench",
		"members": []any{member(t.Users[0]), member(t.Users[1])}})
	status, out, err := benchDo(ctx, client, "POST", base+"/v1.0/chats", appToken, body)
	if err != nil || status != http.StatusCreated {
		return nil, fmt.Errorf("creating the chat: %d %s %v", status, out, err)
	}
	var chat struct {
		ID string `json:"id"`
	}
	json.Unmarshal(out, &chat)
	userToken, err := benchUserToken(base)
	if err != nil {
		return nil, err
	}
	recv.rich, err = receiver.NewHandler(receiver.Config{
		// Unused: the receiver calls Verify itself to count refusals.
		OnNotifications: func(context.Context, []receiver.Notification) error { return nil },
		ClientState:     benchClientState,
		DecryptionKeys:  map[string]*rsa.PrivateKey{benchCertID: key},
		AppIDs:          []string{t.Apps[0].ClientID},
		JWKSURL:         base + "/" + t.ID + "/discovery/v2.0/keys",
		Logger:          slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	body, _ = json.Marshal(map[string]any{"changeType": "created", "notificationUrl": urls[0],
		"resource": "/chats/" + chat.ID + "/messages", "expirationDateTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"clientState": benchClientState, "includeResourceData": true, "encryptionCertificate": cert, "encryptionCertificateId": benchCertID})
	status, out, err = benchDo(ctx, client, "POST", base+"/v1.0/subscriptions", appToken, body)
	if err != nil || status != http.StatusCreated {
		return nil, fmt.Errorf("creating the rich subscription: %d %s %v", status, out, err)
	}
	var sub struct {
		ID string `json:"id"`
	}
	json.Unmarshal(out, &sub)
	if len(urls) > 1 {
		if err := benchCopySubscription(ctx, m, sub.ID, urls[1:]); err != nil {
			return nil, err
		}
	}
	msgURL := base + "/v1.0/chats/" + url.PathEscape(chat.ID) + "/messages"
	return func(ctx context.Context) (string, time.Time, error) {
		return benchPost(ctx, client, msgURL, userToken, benchChatBody)
	}, nil
}

// benchCopySubscription copies subscription id once per URL, straight in the store.
func benchCopySubscription(ctx context.Context, m *Main, id string, urls []string) error {
	if m == nil {
		return errors.New("copies of a subscription need the embedded server")
	}
	return m.Store.Update(ctx, func(tx store.Tx) error {
		orig, err := tx.GetSubscription(ctx, id)
		if err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(orig.Data, &doc); err != nil {
			return err
		}
		for _, u := range urls {
			s := orig
			s.ID, s.NotificationURL = uuid.NewString(), u
			doc["id"], doc["notificationUrl"] = s.ID, u
			if s.Data, err = json.Marshal(doc); err != nil {
				return err
			}
			if err := tx.InsertSubscription(ctx, &s); err != nil {
				return err
			}
		}
		return nil
	})
}

// benchCertificate makes an RSA-2048 key and a self-signed certificate for it, and
// returns the key and the certificate as encryptionCertificate takes it (base64 DER).
func benchCertificate() (*rsa.PrivateKey, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: benchCertID},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", err
	}
	return key, base64.StdEncoding.EncodeToString(der), nil
}

// benchChatBody is a chat message of a few sentences, so that what is encrypted is
// the size of a typical chatMessage (about 1 KB with its properties).
var benchChatBody = []byte(`{"body":{"contentType":"html","content":"<p>Hello team, the quarterly numbers are in. ` +
	`Please review the attached deck before Thursday's meeting and add your comments inline. Thanks!</p>"}}`)

var benchBody = []byte(`{"subject":"bench","body":{"contentType":"text","content":"hello"}}`)

// benchChange creates one message in the demo user's mailbox.
func benchChange(ctx context.Context, c *http.Client, base, token string) (string, time.Time, error) {
	return benchPost(ctx, c, base+"/v1.0/users/"+demoAdele+"/messages", token, benchBody)
}

// benchPost creates a resource and returns its id and when the request was sent.
func benchPost(ctx context.Context, c *http.Client, u, token string, body []byte) (string, time.Time, error) {
	sent := time.Now()
	status, out, err := benchDo(ctx, c, "POST", u, token, body)
	if err != nil {
		return "", sent, err
	}
	if status != http.StatusCreated {
		return "", sent, fmt.Errorf("POST %s: %d", u, status)
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
