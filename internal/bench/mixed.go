package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graphhook/graphhook/internal/graphclient"
)

// The mixed scenario's collections, as the performance targets name them.
const (
	defaultMixedMessages = 30000
	defaultMixedUsers    = 10000
	defaultMixedItems    = 10000
	// defaultMixedRate is the offered load in requests per second.
	defaultMixedRate = 1000
	// mixedEvery: one request in mixedEvery is a write.
	mixedEvery = 5
)

// op is one request of the mixed scenario.
type op struct {
	write  bool
	method string
	path   string
	body   func(n int64) any
}

// mixedOps are the requests the mixed scenario draws from: first pages of the three
// large collections (and a page deep into the mailbox), and writes to each.
func mixedOps() []op {
	adele := "/v1.0/users/" + demoAdele
	domain := demoTenant().Domain
	return []op{
		{method: "GET", path: adele + "/messages?$top=10&$select=subject,receivedDateTime"},
		{method: "GET", path: adele + "/messages?$top=10&$skip=500&$select=subject"},
		{method: "GET", path: adele + "/mailFolders/inbox/messages?$top=10"},
		{method: "GET", path: "/v1.0/users?$top=10&$select=displayName"},
		{method: "GET", path: adele + "/drive/root/children?$top=10"},
		{write: true, method: "POST", path: adele + "/messages", body: func(int64) any { return mailBody }},
		{write: true, method: "POST", path: "/v1.0/users", body: func(n int64) any { return userBody(domain, fmt.Sprintf("mix%d-%d", time.Now().UnixNano(), n)) }},
		{write: true, method: "POST", path: adele + "/drive/root/children", body: func(n int64) any {
			return map[string]any{"name": fmt.Sprintf("mix-%d-%d", time.Now().UnixNano(), n), "folder": map[string]any{}}
		}},
	}
}

func userBody(domain, nick string) map[string]any {
	return map[string]any{"accountEnabled": true, "displayName": "Bench " + nick, "mailNickname": nick,
		"userPrincipalName": nick + "@" + domain, "passwordProfile": map[string]any{"password": "Bench-pass-1234!"}}
}

// loadMixed fills Adele's mailbox with messages, the tenant with users and Adele's
// drive root with folders, through the Graph API from clients concurrent clients.
func loadMixed(ctx context.Context, app *graphclient.Client, cfg Config, log io.Writer) error {
	adele := "/v1.0/users/" + demoAdele
	domain := demoTenant().Domain
	stamp := time.Now().UnixNano()
	loads := []struct {
		what string
		n    int
		path string
		body func(i int) any
	}{
		{"messages", cfg.Messages, adele + "/messages", func(int) any { return mailBody }},
		{"users", cfg.Users, "/v1.0/users", func(i int) any { return userBody(domain, fmt.Sprintf("load%d-%d", stamp, i)) }},
		{"drive items", cfg.Items, adele + "/drive/root/children", func(i int) any {
			return map[string]any{"name": fmt.Sprintf("load-%d-%d", stamp, i), "folder": map[string]any{}}
		}},
	}
	for _, l := range loads {
		start := time.Now()
		var next atomic.Int64
		var first error
		var once sync.Once
		var wg sync.WaitGroup
		for range cfg.Clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					i := int(next.Add(1)) - 1
					if i >= l.n {
						return
					}
					if err := postRetrying(ctx, app, l.path, l.body(i), 100*time.Millisecond); err != nil {
						once.Do(func() { first = fmt.Errorf("loading %s: %w", l.what, err) })
						return
					}
				}
			}()
		}
		wg.Wait()
		if first != nil {
			return first
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fmt.Fprintf(log, "loaded %d %s in %.1f s\n", l.n, l.what, time.Since(start).Seconds())
	}
	return nil
}

// loadRetries is how many times a load request answered 429 or 503 is sent again,
// after the Retry-After the answer gave, as Microsoft's client libraries do.
const loadRetries = 5

// postRetrying posts body to path, again after a 429 or 503 (up to loadRetries
// times, waiting the answer's Retry-After, at least floor): a PostgreSQL-backed
// server answers 503 to a write that kept losing conflicts with the loader's other
// writes into the same folder.
func postRetrying(ctx context.Context, app *graphclient.Client, path string, body any, floor time.Duration) error {
	for attempt := 0; ; attempt++ {
		err := app.Do(ctx, http.MethodPost, path, body, nil)
		var ge *graphclient.Error
		if attempt == loadRetries || !errors.As(err, &ge) || (ge.Status != http.StatusTooManyRequests && ge.Status != http.StatusServiceUnavailable) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(max(ge.RetryAfter, floor)):
		}
	}
}

// runMixed offers cfg.Rate requests per second for cfg.Duration, one in five a
// write, and measures each request's latency by kind. Requests are sent on
// schedule (open loop) from cfg.Clients workers; when every worker is busy the
// schedule slips, and the achieved rate in the result shows it.
func runMixed(ctx context.Context, app *graphclient.Client, cfg Config, res *Result) {
	ops := mixedOps()
	var reads, writes []op
	for _, o := range ops {
		if o.write {
			writes = append(writes, o)
		} else {
			reads = append(reads, o)
		}
	}
	var mu sync.Mutex
	var readLat, writeLat []time.Duration
	var failed atomic.Int64
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	pace := newPacer(cfg.Rate)
	start := pace.start
	var wg sync.WaitGroup
	for range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, ok := pace.wait(runCtx)
				if !ok {
					return
				}
				// Every fifth request writes; the kinds of each take turns.
				var o op
				if n%mixedEvery == 0 {
					o = writes[int(n/mixedEvery)%len(writes)]
				} else {
					o = reads[int(n)%len(reads)]
				}
				var body any
				if o.body != nil {
					body = o.body(n)
				}
				sent := time.Now()
				var out json.RawMessage
				err := app.Do(ctx, o.method, o.path, body, &out)
				d := time.Since(sent)
				if err != nil {
					failed.Add(1)
					continue
				}
				mu.Lock()
				if o.write {
					writeLat = append(writeLat, d)
				} else {
					readLat = append(readLat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	res.DurationS = elapsed.Seconds()
	res.Reads, res.Writes, res.Failed = int64(len(readLat)), int64(len(writeLat)), failed.Load()
	res.RequestsPerS = float64(res.Reads+res.Writes) / elapsed.Seconds()
	res.ReadLatencyMS = percentiles(readLat)
	res.WriteLatencyMS = percentiles(writeLat)
}
