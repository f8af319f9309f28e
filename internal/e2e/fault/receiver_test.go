package fault

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/delivery"
)

// receiver is an app's webhook on loopback: it answers the validation handshake and
// records, per resource id, how often and when first a notification named it.
type receiver struct {
	URL string
	// slow, when set, holds each notification POST up to this long (uniformly drawn)
	// before answering, as a real app's endpoint does, so that a stop finds POSTs in
	// flight.
	slow  time.Duration
	mu    sync.Mutex
	count map[string]int
	first map[string]time.Time
	posts int
	// seen has, for each resource id, when each POST that named it arrived and the
	// attempt number graphhook's attempt header gave it, for telling a duplicate's
	// cause.
	seen map[string][]sighting
}

// sighting is one POST's naming of a resource id.
type sighting struct {
	at      time.Time
	attempt string
}

func newReceiver(t testing.TB, slow time.Duration) *receiver {
	t.Helper()
	r := &receiver{slow: slow, count: map[string]int{}, first: map[string]time.Time{}, seen: map[string][]sighting{}}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/hook"
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if tok := req.URL.Query().Get("validationToken"); tok != "" {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, tok)
		return
	}
	var batch struct {
		Value []struct {
			ResourceData struct {
				ID string `json:"id"`
			} `json:"resourceData"`
		} `json:"value"`
	}
	if err := json.NewDecoder(req.Body).Decode(&batch); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	if r.slow > 0 {
		// The endpoint's own processing time, not a wait for an event.
		hold := time.NewTimer(rand.N(r.slow))
		select {
		case <-hold.C:
		case <-req.Context().Done():
			hold.Stop()
			return // the server gave up on this POST: it was not answered
		}
	}
	attempts := strings.Split(req.Header.Get(delivery.AttemptHeader), ",")
	r.mu.Lock()
	r.posts++
	for i, n := range batch.Value {
		id := n.ResourceData.ID
		if id == "" {
			continue
		}
		if r.count[id] == 0 {
			r.first[id] = now
		}
		r.count[id]++
		attempt := "?"
		if i < len(attempts) {
			attempt = attempts[i]
		}
		r.seen[id] = append(r.seen[id], sighting{now, attempt})
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// sightings returns the POSTs that named id.
func (r *receiver) sightings(id string) []sighting {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen[id])
}

// snapshot copies what the receiver has recorded so far.
func (r *receiver) snapshot() (count map[string]int, first map[string]time.Time, posts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	count, first = make(map[string]int, len(r.count)), make(map[string]time.Time, len(r.first))
	for k, v := range r.count {
		count[k] = v
	}
	for k, v := range r.first {
		first[k] = v
	}
	return count, first, r.posts
}
