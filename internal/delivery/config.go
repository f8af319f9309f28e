package delivery

import (
	"cmp"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// DefaultPushBack is graphhook serve's push-back threshold (Config.PushBack): past
// half of it, the lateness of the oldest notification due to a healthy endpoint
// starts to narrow the writes let through, which keeps change→delivery latency
// under a second at any offered load.
const DefaultPushBack = 300 * time.Millisecond

// DefaultPushBackHold is graphhook serve's Config.PushBackHold: a write past the
// window of writes in progress waits up to 250 ms for a place before it gets 429.
const DefaultPushBackHold = 250 * time.Millisecond

// Config holds the delivery pipeline's numbers; Graph's are the defaults. Zero
// fields take their defaults.
type Config struct {
	// Timeout is how long a first try may take (default 3s).
	Timeout time.Duration
	// RetryTimeout is how long a retry may take (default 10s).
	RetryTimeout time.Duration
	// Horizon is how long after the change a notification is retried before it is
	// discarded (default 4h).
	Horizon time.Duration
	// Retry is the backoff between attempts (default DefaultRetryPolicy).
	Retry RetryPolicy
	// BatchSize caps the notifications of one POST (default 100).
	BatchSize int
	// PerURL caps the POSTs in flight to one notification URL (default 4).
	PerURL int
	// PollInterval is how often the dispatcher looks for due rows without a commit
	// signal (default 1s): retries falling due, other nodes' rows.
	PollInterval time.Duration
	// RescueAfter is how long a row may stay running before the rescuer makes it
	// retryable again, whichever node claimed it (default 1m; it must exceed
	// RetryTimeout). It is the rule for rows of nodes that do not beat, and the
	// backstop for a live node's stuck dispatcher.
	RescueAfter time.Duration
	// RescueInterval is how often the rescuer runs (default 15s, or a third of
	// HeartbeatTTL when this node beats, if shorter).
	RescueInterval time.Duration
	// Node names this node in its heartbeats and on the rows it claims (default "":
	// no heartbeats, and the rows this node claims are rescued by RescueAfter only).
	// Every node sharing a database sets a name of its own and runs Heartbeat, so
	// that the rows a dead node left running are rescued once its heartbeat lapses.
	Node string
	// HeartbeatTTL is how long a node's heartbeat lasts: the rescuer takes back the
	// running rows of a node whose last beat is older than this. A node beats every
	// third of it (default 15s, the leader lease's default).
	HeartbeatTTL time.Duration
	// RescueOnStart makes the dispatcher take back, as it starts and before it
	// claims anything, every row left running by an earlier process (default false;
	// set it when this is the only node).
	RescueOnStart bool
	// PushBack is how late the oldest notification due to a healthy endpoint may
	// fall before the Graph API narrows the writes it lets through, answering the
	// others 429 with Retry-After (Throttle, which starts at half of it); zero or
	// negative: never. graphhook serve sets it (--push-back); a test that
	// wants it sets its own threshold.
	PushBack time.Duration
	// PushBackHold is how long a write that push-back holds back waits for a place
	// among the writes in progress before it is answered 429 (Throttle); zero: it
	// is answered at once. graphhook serve sets it (--push-back-hold).
	PushBackHold time.Duration
	// Retention is how long delivered and discarded rows, with their payloads and
	// attempts, stay in the delivery log (default 24h; serve's
	// --delivery-log-retention).
	Retention time.Duration
	// RetentionInterval is how often retention runs (default 1m).
	RetentionInterval time.Duration
	// Health are the slow and drop rules of Microsoft's "Receive change notifications through webhooks".
	Health HealthConfig
	// HoldRecheck is how long a notification held for a lapsed authorization waits
	// before it is looked at again (default 1m).
	HoldRecheck time.Duration
	// ReminderLead is how long before the authorization lapses the first
	// reauthorizationRequired goes out (default 15m).
	ReminderLead time.Duration
	// ReminderEvery is the interval between reauthorizationRequired notifications
	// (default 15m, the cadence of Microsoft's "Reduce missing subscriptions and change notifications").
	ReminderEvery time.Duration
	// ReminderInterval is how often the reauthorization scheduler runs (default 30s).
	ReminderInterval time.Duration
	// PublisherID is appid/azp of validation tokens (default the change-tracking app
	// 0bf30f3b-4a52-48df-9a82-234910c4a086).
	PublisherID string
	// Issuer returns iss of validation tokens for a tenant (default
	// https://sts.windows.net/{tenant}/).
	Issuer func(tenant string) string
	// Strict refuses, when connecting, notification URLs that resolve to loopback,
	// private, link-local, unspecified or multicast addresses (the strict profile;
	// default false). Such a POST fails like an unreachable endpoint.
	Strict bool
	// RootCAs verifies receivers' certificates (default the system roots).
	RootCAs *x509.CertPool
}

// HealthConfig is per-URL endpoint health (Microsoft's "Receive change notifications through webhooks").
type HealthConfig struct {
	// Window is the measuring window (default 10m).
	Window time.Duration
	// MinSamples is how many responses a window needs before ratios count (default
	// 100, from the older formulation of the rules).
	MinSamples int
	// SlowRatio: more slow responses than this makes the endpoint slow (default 0.10).
	SlowRatio float64
	// DropRatio: more responses past the retry timeout than this makes it drop
	// (default 0.15).
	DropRatio float64
	// SlowDelay is how late notifications to a slow endpoint go out (default 10m).
	SlowDelay time.Duration
	// DropFor is how long a dropping endpoint's notifications are discarded
	// (default 10m).
	DropFor time.Duration
	// ProbeSize is how many good responses take a probed endpoint back to healthy
	// (default 5); probes go one notification per POST.
	ProbeSize int
}

func (c Config) withDefaults() Config {
	c.Timeout = cmp.Or(c.Timeout, 3*time.Second)
	c.RetryTimeout = cmp.Or(c.RetryTimeout, 10*time.Second)
	c.Horizon = cmp.Or(c.Horizon, 4*time.Hour)
	if c.Retry == (RetryPolicy{}) {
		c.Retry = DefaultRetryPolicy
	}
	c.BatchSize = cmp.Or(c.BatchSize, 100)
	c.PerURL = cmp.Or(c.PerURL, 4)
	c.PollInterval = cmp.Or(c.PollInterval, time.Second)
	c.RescueAfter = cmp.Or(c.RescueAfter, time.Minute)
	c.HeartbeatTTL = cmp.Or(c.HeartbeatTTL, 15*time.Second)
	if c.RescueInterval == 0 {
		c.RescueInterval = 15 * time.Second
		if c.Node != "" {
			// A lapsed node's rows wait at most a third of the TTL past the lapse.
			c.RescueInterval = min(c.RescueInterval, c.heartbeatEvery())
		}
	}
	c.Retention = cmp.Or(c.Retention, 24*time.Hour)
	c.RetentionInterval = cmp.Or(c.RetentionInterval, time.Minute)
	c.HoldRecheck = cmp.Or(c.HoldRecheck, time.Minute)
	c.ReminderLead = cmp.Or(c.ReminderLead, 15*time.Minute)
	c.ReminderEvery = cmp.Or(c.ReminderEvery, 15*time.Minute)
	c.ReminderInterval = cmp.Or(c.ReminderInterval, 30*time.Second)
	h := &c.Health
	h.Window = cmp.Or(h.Window, 10*time.Minute)
	h.MinSamples = cmp.Or(h.MinSamples, 100)
	h.SlowRatio = cmp.Or(h.SlowRatio, 0.10)
	h.DropRatio = cmp.Or(h.DropRatio, 0.15)
	h.SlowDelay = cmp.Or(h.SlowDelay, 10*time.Minute)
	h.DropFor = cmp.Or(h.DropFor, 10*time.Minute)
	h.ProbeSize = cmp.Or(h.ProbeSize, 5)
	return c
}

// heartbeatEvery is how often a node beats: three beats per HeartbeatTTL, so that
// one late or lost beat does not make a live node look dead.
func (c Config) heartbeatEvery() time.Duration {
	return max(c.HeartbeatTTL/3, time.Millisecond)
}

func (c Config) validate() error {
	var errs []error
	for name, d := range map[string]time.Duration{"Timeout": c.Timeout, "RetryTimeout": c.RetryTimeout, "Horizon": c.Horizon,
		"PollInterval": c.PollInterval, "RescueAfter": c.RescueAfter, "Retention": c.Retention, "HeartbeatTTL": c.HeartbeatTTL} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("delivery: %s must not be negative, got %v", name, d))
		}
	}
	if c.BatchSize < 0 || c.BatchSize > 1000 {
		errs = append(errs, fmt.Errorf("delivery: BatchSize must be 1 to 1000, got %d", c.BatchSize))
	}
	if c.PerURL < 0 {
		errs = append(errs, fmt.Errorf("delivery: PerURL must be positive, got %d", c.PerURL))
	}
	if c.RescueAfter != 0 && c.RescueAfter <= c.RetryTimeout {
		errs = append(errs, fmt.Errorf("delivery: RescueAfter (%v) must exceed RetryTimeout (%v)", c.RescueAfter, c.RetryTimeout))
	}
	if r := c.Health.SlowRatio; r < 0 || r > 1 {
		errs = append(errs, fmt.Errorf("delivery: Health.SlowRatio must be in [0,1], got %v", r))
	}
	if r := c.Health.DropRatio; r < 0 || r > 1 {
		errs = append(errs, fmt.Errorf("delivery: Health.DropRatio must be in [0,1], got %v", r))
	}
	return errors.Join(errs...)
}
