// Package bench is `graphhook bench`: it measures how many changes per second
// graphhook turns into delivered notifications, and how late, against an in-process
// loopback receiver. Changes go through the public Graph API, as an app's would; the
// receiver counts what arrives and, for rich notifications, verifies and decrypts it
// with the public receiver package. The same receiver fed by a plain Go client gives
// the machine's ceiling, so that the figures compare across machines as a ratio.
//
// The server measured is either a running graphhook (Config.Target) or one that
// Options.Start starts for the run with the delivery configuration bench asks for;
// bench changes no global state.
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/graphclient"
	"github.com/graphhook/graphhook/internal/store"
)

// Server is a graphhook started for a run, with the demo tenant loaded.
type Server struct {
	// URL is its base URL, e.g. http://127.0.0.1:PORT.
	URL string
	// Store is its store: bench writes thousands of subscriptions straight into it,
	// which the API's quotas would refuse.
	Store store.Store
	// Clock is the server's clock, for the subscriptions written into the store.
	Clock clock.Clock
}

// StartFunc starts a graphhook with an embedded store in a temporary folder, its
// delivery pipeline configured by cfg, and returns it with a function that stops it
// and removes the folder.
type StartFunc func(ctx context.Context, cfg delivery.Config) (srv *Server, stop func(), err error)

// Options are what Run needs besides the user's Config.
type Options struct {
	// Start starts the server measured when Config.Target is empty; required then.
	Start StartFunc
	// Log receives what the run has to say besides the result (default discarded).
	Log io.Writer
}

// deliveryConfig is the pipeline bench measures: batches of up to 100 notifications
// (notifications waiting for one subscription share a POST, as Graph's do), 8 POSTs
// in flight per URL, and serve's push-back.
func deliveryConfig(string) delivery.Config {
	return delivery.Config{BatchSize: 100, PerURL: 8, PushBack: delivery.DefaultPushBack, PushBackHold: delivery.DefaultPushBackHold}
}

// Run measures as cfg says. cfg should have passed Validate.
func Run(ctx context.Context, cfg Config, opts Options) (*Result, error) {
	cfg.fillDefaults()
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	recv, err := newLoopback()
	if err != nil {
		return nil, err
	}
	defer recv.srv.Close()
	nodes := targets(cfg.Target)
	var base string
	if len(nodes) > 0 {
		base = nodes[0]
	}
	var srv *Server
	if base == "" {
		if opts.Start == nil {
			return nil, errors.New("bench: no --target and no server to start")
		}
		var stop func()
		srv, stop, err = opts.Start(ctx, deliveryConfig(cfg.Scenario))
		if err != nil {
			return nil, err
		}
		defer stop()
		base = srv.URL
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients * 2}}
	if len(nodes) == 0 {
		nodes = []string{base}
	}
	clients := apps(nodes, hc)
	app := clients[0]
	// The first token is asked for now, so that a refusal ends the run before it starts.
	if _, err := app.AccessToken(ctx); err != nil {
		return nil, err
	}
	if cfg.Scenario == "mixed" {
		return mixed(ctx, app, cfg, srv != nil, log)
	}
	urls := recv.urls(cfg)
	makeChange := roundRobin(clients, mailBody)
	var filter func(i int) string
	if srv == nil {
		mark := newRunMark()
		makeChange, filter = roundRobin(clients, mark.body()), mark.filter
	}
	if cfg.Scenario == "rich" {
		if makeChange, err = setUpRich(ctx, srv, base, hc, app, recv, urls); err != nil {
			return nil, err
		}
	} else {
		done, err := subscribe(ctx, srv, app, urls, filter)
		defer done()
		if err != nil {
			return nil, err
		}
	}
	res := &Result{Scenario: cfg.Scenario, Subscriptions: cfg.Subs, CPUs: runtime.NumCPU(), Nodes: len(nodes)}
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
		drive(ctx, cfg, phase, makeChange, recv, nil)
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
	start, cpu0 := time.Now(), sampleCPU()
	var outcomes driveOutcomes
	sampled, err := startPGSample(ctx, cfg.PGSample)
	if err != nil {
		return nil, err
	}
	changes := drive(ctx, cfg, phase, makeChange, recv, &outcomes)
	if err := res.addPGSample(sampled()); err != nil {
		return nil, err
	}
	res.Throttled = outcomes.throttled.Load()
	if res.Failed = outcomes.failed.Load(); res.Failed > 0 {
		res.FirstFailure = *outcomes.first.Load()
		fmt.Fprintf(log, "%d changes failed; the first: %s\n", res.Failed, res.FirstFailure)
	}
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
	res.account(cpu0, changes)
	recv.measure.Store(false)
	res.DurationS = elapsed.Seconds()
	res.Changes = changes
	res.ChangesPerS = float64(res.Changes) / elapsed.Seconds()
	res.Notifications = recv.items.Load()
	res.NotificationsPerS = float64(res.Notifications) / total.Seconds()
	res.Posts = recv.posts.Load()
	res.PostsPerS = float64(res.Posts) / total.Seconds()
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

// mixed loads the large collections, then measures reads and writes together; RSS
// is this process's when it runs the server (inProcess).
func mixed(ctx context.Context, app *graphclient.Client, cfg Config, inProcess bool, log io.Writer) (*Result, error) {
	res := &Result{Scenario: cfg.Scenario, CPUs: runtime.NumCPU(), OfferedPerS: cfg.Rate}
	start := time.Now()
	if err := loadMixed(ctx, app, cfg, log); err != nil {
		return nil, err
	}
	res.LoadS = time.Since(start).Seconds()
	runMixed(ctx, app, cfg, res)
	if inProcess {
		runtime.GC()
		res.RSSMB = rssMB()
	}
	return res, nil
}

// changeFunc makes one change through the Graph API and returns the id its
// notifications carry in resourceData and when the request was sent.
type changeFunc func(ctx context.Context) (id string, sent time.Time, err error)

// driveOutcomes counts the changes drive sent that were not accepted.
type driveOutcomes struct {
	// throttled were pushed back with 429; failed got another error, the first of
	// which is kept.
	throttled, failed atomic.Int64
	first             atomic.Pointer[string]
}

// failFloor is how long a client waits after a change that failed otherwise than
// by a 429: a failing server is not hammered, nor the machine's CPU spent on it.
const failFloor = 100 * time.Millisecond

// drive sends changes through the Graph API from cfg.Clients clients for d (at
// cfg.Rate changes per second when set) and returns how many were accepted. A
// client the server pushes back (429) waits the answer's Retry-After, as a Graph
// client does; one whose change failed otherwise waits failFloor. Both are counted
// in out when it is not nil.
func drive(ctx context.Context, cfg Config, d time.Duration, makeChange changeFunc, recv *loopback, out *driveOutcomes) int64 {
	var changes atomic.Int64
	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var pace *pacer
	if cfg.Rate > 0 {
		pace = newPacer(cfg.Rate)
	}
	var wg sync.WaitGroup
	for w := 0; w < cfg.Clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				if pace != nil {
					if _, ok := pace.wait(runCtx); !ok {
						return
					}
				}
				// The request itself runs on ctx: cancelled at the deadline, a change
				// the server had already committed would be notified but not counted.
				id, sentAt, err := makeChange(ctx)
				var ge *graphclient.Error
				if errors.As(err, &ge) && ge.Status == http.StatusTooManyRequests {
					if out != nil {
						out.throttled.Add(1)
					}
					select {
					case <-runCtx.Done():
					case <-time.After(max(ge.RetryAfter, 100*time.Millisecond)):
					}
					continue
				}
				if err != nil {
					if out != nil && runCtx.Err() == nil {
						out.failed.Add(1)
						msg := err.Error()
						out.first.CompareAndSwap(nil, &msg)
					}
					select {
					case <-runCtx.Done():
					case <-time.After(failFloor):
					}
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
