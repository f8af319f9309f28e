package delivery

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/graphhook/graphhook/internal/store"
)

// metrics are the pipeline's Prometheus series.
type metrics struct {
	changes       prometheus.Counter
	matched       prometheus.Counter
	notifications *prometheus.CounterVec // by outcome
	posts         *prometheus.CounterVec // by result
	lifecycle     *prometheus.CounterVec // by event
	removed       prometheus.Counter
	latency       prometheus.Histogram
}

// Notification outcomes, the "outcome" label.
const (
	outcomeDelivered = "delivered"
	outcomeRetried   = "retried"
	outcomeDiscarded = "discarded"
	outcomeDropped   = "dropped"
	outcomeHeld      = "held"
)

func newMetrics(p *Pipeline, reg prometheus.Registerer) *metrics {
	m := &metrics{
		changes: prometheus.NewCounter(prometheus.CounterOpts{Name: "graphhook_delivery_changes_total",
			Help: "Changes seen by the matcher."}),
		matched: prometheus.NewCounter(prometheus.CounterOpts{Name: "graphhook_delivery_enqueued_total",
			Help: "Notifications enqueued (change and lifecycle)."}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "graphhook_delivery_notifications_total",
			Help: "Notifications by outcome: delivered, retried, discarded, dropped, held."}, []string{"outcome"}),
		posts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "graphhook_delivery_posts_total",
			Help: "Webhook POSTs by result: success, failure."}, []string{"result"}),
		lifecycle: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "graphhook_delivery_lifecycle_total",
			Help: "Lifecycle notifications enqueued, by lifecycleEvent."}, []string{"event"}),
		removed: prometheus.NewCounter(prometheus.CounterOpts{Name: "graphhook_delivery_subscriptions_removed_total",
			Help: "Subscriptions removed by the pipeline (permission lost, watched resource deleted)."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "graphhook_delivery_latency_seconds",
			Help:    "Time from a change to the 2xx that delivered its notification.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 14400}}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.changes, m.matched, m.notifications, m.posts, m.lifecycle, m.removed, m.latency)
	for _, s := range []HealthState{Healthy, Slow, Drop, Probing} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "graphhook_delivery_endpoints",
			Help: "Notification URLs by health state.", ConstLabels: prometheus.Labels{"state": s.String()}},
			func() float64 { return float64(p.countEndpoints(s)) }))
	}
	reg.MustRegister(queueDepth{p: p})
	return m
}

var queueDepthDesc = prometheus.NewDesc("graphhook_delivery_queue_depth", "Queued notifications by state.", []string{"state"}, nil)

// queueDepth reads the queue's state counts at scrape time.
type queueDepth struct{ p *Pipeline }

func (q queueDepth) Describe(ch chan<- *prometheus.Desc) { ch <- queueDepthDesc }

func (q queueDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var counts map[store.NotificationState]int
	err := q.p.st.View(ctx, func(tx store.Tx) error {
		var err error
		counts, err = tx.CountNotifications(ctx)
		return err
	})
	if err != nil {
		return
	}
	for _, s := range []store.NotificationState{store.NotificationAvailable, store.NotificationRunning, store.NotificationRetryable,
		store.NotificationDelivered, store.NotificationDiscarded} {
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}
