package fault

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loop is one fault run: a stream of changes, and a signal sent to a node at random
// points of it, each time followed by a restart on the same data.
type loop struct {
	backend  string         // "sqlite" (one node) or "postgres" (two nodes on one database)
	database string         // the postgres:// URL with backend "postgres"
	sig      syscall.Signal // SIGKILL or SIGTERM
	stops    int            // how many times a node is signalled
	// window is the most changes acknowledged between two stops; each gap is drawn
	// from 1..window so the signal lands at a different point of the stream each time.
	window  int
	workers int // concurrent API clients
	// slow is the most the webhook holds a notification POST before answering.
	slow time.Duration
	// notifyWithin bounds the final wait for every acknowledged change to be notified.
	notifyWithin time.Duration
}

// outcome is what a loop measured.
type outcome struct {
	stops      int
	acked      int // changes the API acknowledged with 201
	lost       int // acknowledged changes never notified within notifyWithin
	duplicated int // notifications beyond the first, over every resource id notified
	unacked    int // changes notified although their POST died with the node
	posts      int // notification POSTs the receiver got
	missing    []string
	// takeover has one entry per stop: the time from the signal to the first
	// notification delivered for any change whose POST was sent after the signal.
	// It spans the restart (or, on PostgreSQL, the surviving node carrying on), the
	// token, the write and the dispatch; it does not include the rescue of rows the
	// stopped node had in flight, which backlog measures.
	takeover []time.Duration
	// backlog has one entry per stop that left changes acknowledged but not yet
	// notified: the time from the signal to the first notification of the last of
	// them, i.e. how long the changes the stopped node owed waited.
	backlog   []time.Duration
	stopTimes []time.Duration // from the signal to the process's exit
	// dups describes the deliveries of a few duplicated ids: when each came, from
	// the nearest signal, and with which attempt number.
	dups []string
}

func (o outcome) String() string {
	return fmt.Sprintf("stops %d, acknowledged %d, lost %d, duplicated %d (notified but unacknowledged %d, notification POSTs %d); "+
		"takeover p50 %v p99 %v max %v; backlog drained p50 %v p99 %v max %v; exit after signal p50 %v max %v",
		o.stops, o.acked, o.lost, o.duplicated, o.unacked, o.posts,
		pct(o.takeover, 0.50), pct(o.takeover, 0.99), pct(o.takeover, 1),
		pct(o.backlog, 0.50), pct(o.backlog, 0.99), pct(o.backlog, 1),
		pct(o.stopTimes, 0.50), pct(o.stopTimes, 1))
}

// stopWithin bounds a node's exit after a signal.
const stopWithin = 30 * time.Second

// gapWithin bounds the wait for the changes acknowledged between two stops.
const gapWithin = 30 * time.Second

func (l loop) run(t *testing.T) outcome {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	hook := newReceiver(t, l.slow)

	count := 1
	sqliteData := t.TempDir()
	args := func() []string { return []string{"--data", sqliteData} }
	if l.backend == "postgres" {
		count = 2
		// Each node keeps its own (unused) data folder; the database is shared.
		args = func() []string { return []string{"--database", l.database, "--data", t.TempDir()} }
	}
	nodes := make([]*node, count)
	for i := range nodes {
		nodes[i] = startNode(t, fmt.Sprintf("node %d", i), args()...)
	}
	if err := subscribe(nodes[0], hook.URL); err != nil {
		t.Fatal(err)
	}

	s := newStream()
	s.setLive(nodes...)
	s.start(l.workers)
	finished := false
	defer func() {
		if !finished {
			s.finish()
		}
	}()

	var out outcome
	var signalled []time.Time
	for k := 0; k < l.stops; k++ {
		want := s.ackedCount() + 1 + rng.IntN(l.window)
		if !s.waitAcked(want, time.Now().Add(gapWithin)) {
			t.Fatalf("before stop %d: %d changes not acknowledged within %v (%s); stderr of %s:\n%s",
				k+1, want, gapWithin, s.status(), nodes[0].name, nodes[0].stderr)
		}
		i := k % len(nodes)
		at := time.Now()
		out.stopTimes = append(out.stopTimes, nodes[i].stop(t, l.sig, stopWithin))
		signalled = append(signalled, at)
		s.setLive(slices.Delete(slices.Clone(nodes), i, i+1)...)
		nodes[i] = startNode(t, nodes[i].name, args()...)
		s.setLive(nodes...)
	}
	// Changes after the last restart show that the stream goes on.
	if want := s.ackedCount() + 10; !s.waitAcked(want, time.Now().Add(gapWithin)) {
		t.Fatalf("after the last restart: %d changes not acknowledged within %v (%s)", want, gapWithin, s.status())
	}
	s.finish()
	finished = true
	acks := s.acks()

	// Every acknowledged change must be notified at least once.
	deadline := time.Now().Add(l.notifyWithin)
	var counts map[string]int
	var first map[string]time.Time
	for {
		counts, first, out.posts = hook.snapshot()
		out.missing = out.missing[:0]
		for id := range acks {
			if counts[id] == 0 {
				out.missing = append(out.missing, id)
			}
		}
		if len(out.missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling interval of the receiver's record
	}

	out.stops, out.acked, out.lost = len(signalled), len(acks), len(out.missing)
	for id, n := range counts {
		out.duplicated += n - 1
		if _, ok := acks[id]; !ok {
			out.unacked++
		}
		if n > 1 && len(out.dups) < 5 {
			out.dups = append(out.dups, describeDup(id, hook.sightings(id), signalled))
		}
	}
	for _, at := range signalled {
		var earliest, latest time.Time
		for id, a := range acks {
			f, ok := first[id]
			if !ok {
				continue
			}
			if !a.sent.Before(at) && (earliest.IsZero() || f.Before(earliest)) {
				earliest = f
			}
			if a.at.Before(at) && f.After(at) && f.After(latest) {
				latest = f
			}
		}
		if !earliest.IsZero() {
			out.takeover = append(out.takeover, earliest.Sub(at))
		}
		if !latest.IsZero() {
			out.backlog = append(out.backlog, latest.Sub(at))
		}
	}
	return out
}

// describeDup tells when each POST naming a duplicated id came, from the nearest
// signal, and with which attempt number.
func describeDup(id string, seen []sighting, signalled []time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:", id)
	for _, s := range seen {
		k, d := 0, time.Duration(math.MaxInt64)
		for i, at := range signalled {
			if e := s.at.Sub(at); e.Abs() < d.Abs() {
				k, d = i+1, e
			}
		}
		fmt.Fprintf(&b, " attempt %s at stop %d%+v;", s.attempt, k, d.Round(time.Millisecond))
	}
	return b.String()
}

// pct is the q-quantile of ds (nearest rank); 0 when ds is empty.
func pct(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))].Round(time.Millisecond)
}
