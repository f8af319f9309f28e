package delivery

import (
	"net/http"
	"testing"
	"time"
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func TestRetryPolicyNext(t *testing.T) {
	p := RetryPolicy{Base: 10 * time.Second, Max: 30 * time.Minute, Jitter: 0.2}
	cases := []struct {
		attempt int
		want    time.Duration
	}{
		{0, 10 * time.Second}, {1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second},
		{8, 1280 * time.Second}, {9, 30 * time.Minute}, {50, 30 * time.Minute},
	}
	for _, c := range cases {
		for i := 0; i < 20; i++ {
			now := t0.Add(time.Duration(i) * 7919 * time.Millisecond)
			got := p.Next(now, c.attempt).Sub(now)
			lo, hi := time.Duration(float64(c.want)*0.8), time.Duration(float64(c.want)*1.2)
			if got < lo || got > hi {
				t.Errorf("Next(%v, %d) = now+%v, want within [%v, %v]", now, c.attempt, got, lo, hi)
			}
			if again := p.Next(now, c.attempt).Sub(now); again != got {
				t.Errorf("Next(%v, %d) = %v then %v, want a pure function", now, c.attempt, got, again)
			}
		}
	}
	// The jitter spreads: twenty different instants do not all get the same wait.
	seen := map[time.Duration]bool{}
	for i := 0; i < 20; i++ {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		seen[p.Next(now, 3).Sub(now)] = true
	}
	if len(seen) < 10 {
		t.Errorf("Next gave %d distinct waits over 20 instants, want jitter", len(seen))
	}
	if got := (RetryPolicy{Base: time.Second, Max: time.Minute}).Next(t0, 4).Sub(t0); got != 8*time.Second {
		t.Errorf("Next without jitter = %v, want 8s", got)
	}
}

func TestRetryAfter(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"5", 5 * time.Second}, {"-3", 0}, {"soon", 0},
		{t0.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{t0.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, c := range cases {
		if got := retryAfter(c.in, t0); got != c.want {
			t.Errorf("retryAfter(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestHealthTransitions(t *testing.T) {
	cfg := Config{Health: HealthConfig{MinSamples: 10, ProbeSize: 3}}.withDefaults().Health
	type obs struct {
		at    time.Duration
		class responseClass
		n     int
	}
	cases := []struct {
		name  string
		obs   []obs
		at    time.Duration
		state HealthState
	}{
		{"few samples never judge", []obs{{0, respSlow, 9}}, time.Minute, Healthy},
		{"10 % slow is not more than 10 %", []obs{{0, respOK, 9}, {0, respSlow, 1}}, time.Minute, Healthy},
		{"over 10 % slow", []obs{{0, respOK, 8}, {0, respSlow, 2}}, time.Minute, Slow},
		{"slow recovers after a fast window", []obs{{0, respOK, 8}, {0, respSlow, 2}, {time.Minute, respOK, 20}}, 11 * time.Minute, Healthy},
		{"slow stays after a slow window", []obs{{0, respOK, 8}, {0, respSlow, 2}, {time.Minute, respSlow, 5}, {time.Minute, respOK, 5}}, 11 * time.Minute, Slow},
		{"over 15 % past the retry timeout", []obs{{0, respOK, 8}, {0, respDropClass, 2}}, time.Minute, Drop},
		{"drop lasts its window", []obs{{0, respOK, 8}, {0, respDropClass, 2}}, 10*time.Minute - time.Nanosecond, Drop},
		{"then probing", []obs{{0, respOK, 8}, {0, respDropClass, 2}}, 10 * time.Minute, Probing},
		{"good probes heal", []obs{{0, respOK, 8}, {0, respDropClass, 2}, {10 * time.Minute, respOK, 3}}, 10 * time.Minute, Healthy},
		{"a bad probe drops again", []obs{{0, respOK, 8}, {0, respDropClass, 2}, {10 * time.Minute, respOK, 2}, {10 * time.Minute, respDropClass, 1}}, 19 * time.Minute, Drop},
		{"window resets counts", []obs{{0, respSlow, 5}, {10 * time.Minute, respOK, 9}, {10 * time.Minute, respSlow, 1}}, 10 * time.Minute, Healthy},
	}
	for _, c := range cases {
		h := NewHealth(cfg)
		h.State(t0)
		for _, o := range c.obs {
			for i := 0; i < o.n; i++ {
				h.observe(t0.Add(o.at), o.class)
			}
		}
		if got := h.State(t0.Add(c.at)); got != c.state {
			t.Errorf("%s: State = %v, want %v", c.name, got, c.state)
		}
	}
}

func TestReminder(t *testing.T) {
	lead, every, horizon := 15*time.Minute, 15*time.Minute, 4*time.Hour
	until := t0.Add(time.Hour)
	cases := []struct {
		now      time.Time
		send     bool
		next     time.Time
		describe string
	}{
		{t0, false, until.Add(-lead), "too early: wait for the lead"},
		{until.Add(-lead), true, until, "at the lead"},
		{until.Add(time.Minute), true, until.Add(16 * time.Minute), "lapsed: every 15 minutes"},
		{until.Add(horizon + time.Second), false, time.Time{}, "past the horizon: stop"},
	}
	for _, c := range cases {
		send, next := Reminder(c.now, until, lead, every, horizon)
		if send != c.send || !next.Equal(c.next) {
			t.Errorf("Reminder(%s) = %v, %v; want %v, %v", c.describe, send, next, c.send, c.next)
		}
	}
	if send, next := Reminder(t0, time.Time{}, lead, every, horizon); send || !next.IsZero() {
		t.Errorf("Reminder(no authorization time) = %v, %v; want false, zero", send, next)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{BatchSize: 1000}, true},
		{Config{BatchSize: 1001}, false},
		{Config{Timeout: -1}, false},
		{Config{RescueAfter: 5 * time.Second, RetryTimeout: 10 * time.Second}, false},
		{Config{HeartbeatTTL: -time.Second}, false},
		{Config{Health: HealthConfig{SlowRatio: 1.5}}, false},
	}
	for _, c := range cases {
		if err := c.cfg.validate(); (err == nil) != c.ok {
			t.Errorf("validate(%+v) = %v, want ok=%v", c.cfg, err, c.ok)
		}
	}
}
