package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// requestTimeout bounds one Graph request of the stream.
const requestTimeout = 10 * time.Second

// ack is one change the API acknowledged.
type ack struct {
	sent time.Time // when the POST was sent
	at   time.Time // when its 201 arrived
}

// stream creates messages in Adele's mailbox from several clients at once, spreading
// them over the live nodes, and records every change the API acknowledged (201).
type stream struct {
	mu      sync.Mutex
	live    []*node
	changed chan struct{} // closed and replaced when live changes
	acked   map[string]ack
	ackedCh chan struct{} // closed and replaced on every acknowledgement
	next    int           // round-robin cursor over live
	sent    int
	lastErr string

	stop chan struct{}
	wg   sync.WaitGroup
}

func newStream() *stream {
	return &stream{changed: make(chan struct{}), acked: map[string]ack{}, ackedCh: make(chan struct{}), stop: make(chan struct{})}
}

// start runs workers clients until finish is called.
func (s *stream) start(workers int) {
	for i := 0; i < workers; i++ {
		s.wg.Add(1)
		go s.work()
	}
}

// finish stops the clients and waits for the requests in flight to end.
func (s *stream) finish() {
	close(s.stop)
	s.wg.Wait()
}

// setLive replaces the nodes the clients send to.
func (s *stream) setLive(nodes ...*node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live = nodes
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *stream) work() {
	defer s.wg.Done()
	client := &http.Client{Timeout: requestTimeout}
	for i := 0; ; i++ {
		s.mu.Lock()
		changed := s.changed
		var n *node
		if len(s.live) > 0 {
			n = s.live[s.next%len(s.live)]
			s.next++
			s.sent++
		}
		s.mu.Unlock()
		if n == nil {
			select {
			case <-changed:
				continue
			case <-s.stop:
				return
			}
		}
		sent := time.Now()
		id, err := createMessage(client, n, fmt.Sprintf("fault %d", i))
		s.mu.Lock()
		if err == nil {
			s.acked[id] = ack{sent: sent, at: time.Now()}
			close(s.ackedCh)
			s.ackedCh = make(chan struct{})
		} else {
			s.lastErr = err.Error()
		}
		s.mu.Unlock()
		if err != nil {
			// The node is down or restarting: try again once the live set changes, or
			// after a short pause in case the failure was the node's own.
			t := time.NewTimer(20 * time.Millisecond)
			select {
			case <-changed:
			case <-t.C:
			case <-s.stop:
				t.Stop()
				return
			}
			t.Stop()
		}
		select {
		case <-s.stop:
			return
		default:
		}
	}
}

// waitAcked waits until at least want changes have been acknowledged in all, and
// reports whether that happened before the deadline.
func (s *stream) waitAcked(want int, deadline time.Time) bool {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		s.mu.Lock()
		n, ch := len(s.acked), s.ackedCh
		s.mu.Unlock()
		if n >= want {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			return false
		}
	}
}

// ackedCount is the number of changes acknowledged so far.
func (s *stream) ackedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acked)
}

// status describes the stream for failure messages.
func (s *stream) status() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%d POSTs sent, %d acknowledged, last error %q", s.sent, len(s.acked), s.lastErr)
}

// acks copies the acknowledged changes.
func (s *stream) acks() map[string]ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]ack, len(s.acked))
	for k, v := range s.acked {
		out[k] = v
	}
	return out
}

// createMessage posts a message to Adele's mailbox and returns its id when the API
// acknowledged it with 201.
func createMessage(client *http.Client, n *node, subject string) (string, error) {
	body, _ := json.Marshal(map[string]any{"subject": subject})
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL+"/v1.0/users/"+adele+"/messages", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+n.Token)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("POST messages = %d %.200s", resp.StatusCode, out)
	}
	var m struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &m); err != nil || m.ID == "" {
		return "", fmt.Errorf("POST messages = 201 without an id: %.200s", out)
	}
	return m.ID, nil
}

// subscribe creates a subscription to created messages in Adele's mailbox, delivered
// to hook.
func subscribe(n *node, hook string) error {
	body, _ := json.Marshal(map[string]any{"changeType": "created", "notificationUrl": hook,
		"resource": "/users/" + adele + "/messages", "clientState": "fault",
		// Long enough for the soak; within the 4,230 minutes Graph allows for mail.
		"expirationDateTime": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)})
	ctx, cancel := context.WithTimeout(context.Background(), 2*requestTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, n.URL+"/v1.0/subscriptions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+n.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST subscriptions = %d %s, want 201", resp.StatusCode, out)
	}
	return nil
}
