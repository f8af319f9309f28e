package subscription_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/subscription"
	"github.com/graphhook/graphhook/internal/testserver"
)

// BenchmarkCreateSubscription measures POST /subscriptions end to end over HTTP,
// validation handshake against a loopback receiver included, and reports the p50 and
// p99 latencies (target: p99 ≤ 50 ms).
func BenchmarkCreateSubscription(b *testing.B) {
	e := setup(b, subscription.Config{Quotas: subscription.Quotas{PerMailbox: 1 << 30}})
	app := e.AppToken()
	resource := "users/" + testserver.Adele + "/messages?$filter=subject eq 'n%d'"
	latencies := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		body := e.body(fmt.Sprintf(resource, i), "created")
		start := time.Now()
		r := e.Do("POST", "/v1.0/subscriptions", app, body)
		latencies = append(latencies, time.Since(start))
		if r.Status != http.StatusCreated {
			b.Fatalf("POST /subscriptions = %s, want 201", r)
		}
	}
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
