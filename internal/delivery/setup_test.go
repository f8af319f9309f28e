package delivery_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/goldenfile"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/subscription"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/wait"
	"github.com/graphhook/graphhook/internal/workload/callrecords"
	"github.com/graphhook/graphhook/internal/workload/conversations"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/files"
	"github.com/graphhook/graphhook/internal/workload/outlook"
	"github.com/graphhook/graphhook/internal/workload/security"
	"github.com/graphhook/graphhook/internal/workload/sites"
	"github.com/graphhook/graphhook/internal/workload/teams"
)

// harness is a test server with every workload, the subscriptions API and the
// delivery pipeline, running its services.
type harness struct {
	*testserver.Env
	P    *delivery.Pipeline
	Reg  *prometheus.Registry
	Subs *subscription.Service
	// passes fires after each pass of the pipeline's services and each write of POST
	// outcomes: every change to the queue is followed by one.
	passes wait.Signal
	// logs holds what the pipeline logged at info and above.
	logs *lockedBuffer
}

// testConfig is fast: retries after milliseconds, short polls.
func testConfig() delivery.Config {
	return delivery.Config{
		Retry:            delivery.RetryPolicy{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond},
		PollInterval:     20 * time.Millisecond,
		RescueInterval:   time.Hour,
		ReminderInterval: time.Hour,
	}
}

func setup(t *testing.T, cfg delivery.Config) *harness {
	t.Helper()
	h := &harness{Reg: prometheus.NewRegistry(), passes: wait.NewSignal(), logs: &lockedBuffer{}}
	h.Env = testserver.New(t, func(env *testserver.Env) {
		g := env.HTTP.Graph()
		svc, err := subscription.New(env.Store, subscription.Config{Profile: "dev", Clock: env.Clock, Resources: testserver.Resources(),
			OnDelete: func(ctx context.Context, tx store.Tx, sub store.Subscription) error {
				return h.P.DiscardQueued(ctx, tx, sub)
			}})
		if err != nil {
			t.Fatal(err)
		}
		svc.Routes(g)
		h.Subs = svc
		directory.New(env.Store, env.Identity).Routes(g)
		outlook.New(env.Store).Routes(g)
		sw := sites.New(env.Store, env.Identity)
		sw.Routes(g)
		sw.AdminRoutes(env.HTTP.Admin())
		sec := security.New(env.Store, env.Identity)
		sec.Routes(g)
		sec.AdminRoutes(env.HTTP.Admin())
		cr := callrecords.New(env.Store, env.Identity)
		cr.Routes(g)
		cr.AdminRoutes(env.HTTP.Admin())
		conversations.New(env.Store, env.Identity).Routes(g)
		fw, err := files.New(env.Store, env.Identity, sw, files.Config{})
		if err != nil {
			t.Fatal(err)
		}
		fw.Routes(g)
		teams.New(env.Store, env.Identity).Routes(g)
		var err2 error
		h.P, err2 = delivery.New(cfg, delivery.Options{Store: env.Store, Clock: env.Clock, Signer: env.Identity, Registry: h.Reg, Resources: testserver.Resources(),
			Logger: slog.New(slog.NewTextHandler(h.logs, nil)), OnPass: func(service.Report) { h.passes.Fire() }})
		if err2 != nil {
			t.Fatal(err2)
		}
		h.P.Install()
		(&admin.Deliveries{Pipeline: h.P, Store: env.Store, Identity: env.Identity, Clock: env.Clock, Expire: svc.ExpireNow}).Routes(env.HTTP.Admin())
	})
	ctx := context.Background()
	for _, s := range h.P.Services() {
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Stop)
	}
	return h
}

// lockedBuffer is a log destination the pipeline writes and a test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// receiver is a real loopback webhook: it answers the validation handshake and
// records every notification POST.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	posts  []received
	answer func(n int, w http.ResponseWriter) // n counts POSTs from 1; nil = 202
	signal chan struct{}
}

type received struct {
	body   []byte
	header http.Header
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{signal: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if tok := req.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, tok)
			return
		}
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.posts = append(r.posts, received{body, req.Header.Clone()})
		n := len(r.posts)
		answer := r.answer
		r.mu.Unlock()
		select {
		case r.signal <- struct{}{}:
		default:
		}
		if answer != nil {
			answer(n, w)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) setAnswer(fn func(n int, w http.ResponseWriter)) {
	r.mu.Lock()
	r.answer = fn
	r.mu.Unlock()
}

// items returns every notification item received so far, in arrival order.
func (r *receiver) items(t *testing.T) []map[string]any {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, p := range r.posts {
		var c struct {
			Value []map[string]any `json:"value"`
		}
		if err := json.Unmarshal(p.body, &c); err != nil {
			t.Fatalf("notification body is not JSON: %v\n%s", err, p.body)
		}
		out = append(out, c.Value...)
	}
	return out
}

func (r *receiver) postCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.posts)
}

func (r *receiver) bodies() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [][]byte
	for _, p := range r.posts {
		out = append(out, p.body)
	}
	return out
}

// waitItems waits until at least n items arrived (deadline 10 s) and returns them.
func (r *receiver) waitItems(t *testing.T, n int) []map[string]any {
	t.Helper()
	var items []map[string]any
	if !wait.On(r.signal, 10*time.Second, func() bool { items = r.items(t); return len(items) >= n }) {
		t.Fatalf("received %d notification items, want %d", len(items), n)
	}
	return items
}

// until reports whether cond held within 10 s, checking it after each pass of the
// pipeline's services.
func (h *harness) until(cond func() bool) bool {
	return wait.On(h.passes, 10*time.Second, cond)
}

// settle waits for stray notifications, for tests that assert that nothing more
// arrives: it waits until the queue holds no waiting or running row.
func (h *harness) settle(t *testing.T) {
	t.Helper()
	drained := func() bool {
		c := h.counts(t)
		return c[store.NotificationAvailable]+c[store.NotificationRunning]+c[store.NotificationRetryable] == 0
	}
	if !h.until(drained) {
		t.Fatalf("queue did not drain: %v", h.counts(t))
	}
}

func (h *harness) counts(t *testing.T) map[store.NotificationState]int {
	t.Helper()
	var c map[store.NotificationState]int
	err := h.Store.View(context.Background(), func(tx store.Tx) error {
		var err error
		c, err = tx.CountNotifications(context.Background())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// subscribe creates a subscription through POST /v1.0/subscriptions and returns
// its id.
func (h *harness) subscribe(t *testing.T, token string, body map[string]any) string {
	t.Helper()
	if _, ok := body["expirationDateTime"]; !ok {
		body["expirationDateTime"] = graph.FormatTime(h.Clock.Now().Add(40 * time.Minute))
	}
	resp := h.Do("POST", "/v1.0/subscriptions", token, body)
	if resp.Status != http.StatusCreated {
		t.Fatalf("POST /v1.0/subscriptions = %s, want 201", resp)
	}
	id, _ := resp.JSON()["id"].(string)
	return id
}

var expiryRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`)

// normalize replaces the values that differ between runs by placeholders, after
// checking their form.
func normalize(t *testing.T, item map[string]any, replace map[string]string) []byte {
	t.Helper()
	data, _ := json.Marshal(item)
	// Longest first, so that a value containing another is replaced whole.
	froms := slices.Collect(maps.Keys(replace))
	slices.SortFunc(froms, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	for _, from := range froms {
		if from != "" {
			data = bytes.ReplaceAll(data, []byte(from), []byte(replace[from]))
		}
	}
	var m map[string]any
	json.Unmarshal(data, &m)
	if e, _ := m["subscriptionExpirationDateTime"].(string); !expiryRE.MatchString(e) {
		t.Errorf("subscriptionExpirationDateTime = %q, want 7 fractional digits and Z", e)
	}
	m["subscriptionExpirationDateTime"] = "{expiration}"
	if rd, ok := m["resourceData"].(map[string]any); ok {
		if _, ok := rd["@odata.etag"]; ok {
			rd["@odata.etag"] = "{etag}"
		}
		if v, ok := rd["eventTime"].(string); ok {
			if !expiryRE.MatchString(v) {
				t.Errorf("eventTime = %q, want 7 fractional digits and Z", v)
			}
			rd["eventTime"] = "{eventTime}"
		}
		if v, ok := rd["sequenceNumber"].(float64); ok {
			if v <= 0 {
				t.Errorf("sequenceNumber = %v, want > 0", v)
			}
			rd["sequenceNumber"] = 1
		}
	}
	var c graph.ChangeNotification
	raw, _ := json.Marshal(item)
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Errorf("item does not decode as a changeNotification: %v", err)
	} else if err := c.Validate(); err != nil {
		t.Errorf("item is not a valid changeNotification: %v", err)
	}
	out, _ := json.MarshalIndent(m, "", "  ")
	return append(out, '\n')
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Compare(t, name, got)
}

// metricValue returns the value of one series of the pipeline's registry (a
// counter or gauge with the given label, or a histogram's sample count); -1 when
// the series does not exist.
func metricValue(t *testing.T, h *harness, name, label, value string) float64 {
	t.Helper()
	families, err := h.Reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				match = match || (l.GetName() == label && l.GetValue() == value)
			}
			if !match {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return -1
}
