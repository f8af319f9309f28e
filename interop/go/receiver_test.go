package interop

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// notification is the part of a change notification the tests check.
type notification struct {
	SubscriptionID string `json:"subscriptionId"`
	ChangeType     string `json:"changeType"`
	ClientState    string `json:"clientState"`
	Resource       string `json:"resource"`
	TenantID       string `json:"tenantId"`
	ResourceData   struct {
		ID string `json:"id"`
	} `json:"resourceData"`
}

// receiver is an app's webhook on loopback: it answers the validation handshake and
// hands every notification it is sent to the test.
type receiver struct {
	url         string
	validations atomic.Int32
	received    chan notification
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{received: make(chan notification, 64)}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if tok := req.URL.Query().Get("validationToken"); tok != "" {
			r.validations.Add(1)
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, tok)
			return
		}
		var batch struct {
			Value []notification `json:"value"`
		}
		if err := json.NewDecoder(req.Body).Decode(&batch); err != nil {
			t.Errorf("receiver: a notification POST that is not JSON: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for _, n := range batch.Value {
			select {
			case r.received <- n:
			default:
				t.Errorf("receiver: more notifications than the test expected")
			}
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(hs.Close)
	r.url = hs.URL + "/notify"
	return r
}

// wait returns the first notification for subscription id, or fails the test after d.
func (r *receiver) wait(t *testing.T, subscriptionID string, d time.Duration) notification {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case n := <-r.received:
			if n.SubscriptionID == subscriptionID {
				return n
			}
			t.Logf("receiver: a notification for another subscription: %+v", n)
		case <-deadline:
			t.Fatalf("no notification for subscription %s within %v", subscriptionID, d)
		}
	}
}
