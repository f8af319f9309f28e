package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"

	"github.com/graphhook/graphhook/receiver"
)

// loopback is the in-process loopback receiver: it counts items and the latency
// from each change's API call to its notification.
type loopback struct {
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

func newLoopback() (*loopback, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &loopback{url: "http://" + l.Addr().String()}
	r.srv = &http.Server{Handler: r}
	go r.srv.Serve(l)
	return r, nil
}

func (r *loopback) ServeHTTP(w http.ResponseWriter, req *http.Request) {
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
	// Only the items' resource ids are read, without decoding the rest: the
	// receiver shares the machine with the server it measures. Every item counts,
	// one without resourceData (a lifecycle notification) too.
	var items []gjson.Result
	gjson.GetBytes(body, "value").ForEach(func(_, item gjson.Result) bool {
		items = append(items, item.Get("resourceData.id"))
		return true
	})
	r.posts.Add(1)
	r.items.Add(int64(len(items)))
	if r.measure.Load() {
		r.mu.Lock()
		for _, id := range items {
			if t, ok := r.sent.Load(id.Str); ok {
				r.lat = append(r.lat, now.Sub(t.(time.Time)))
			}
		}
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusAccepted)
}

// serveRich authenticates and decrypts a batch of rich notifications. Latency runs
// to the end of decryption: a notification is of use to the app only then.
func (r *loopback) serveRich(w http.ResponseWriter, req *http.Request, body []byte) {
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

// urls are the subscriptions' notification URLs on this receiver, one per
// subscription, laid out as the scenario needs.
func (r *loopback) urls(cfg Config) []string {
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
