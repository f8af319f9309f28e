package listen

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/graph"
)

func TestAttemptNumbers(t *testing.T) {
	for _, tc := range []struct {
		header string
		items  int
		want   []int
	}{
		{"", 2, []int{0, 0}},
		{"3", 1, []int{3}},
		{"1, 4", 2, []int{1, 4}},
		{"2,x,-1", 3, []int{2, 0, 0}},
		{"1,2,3", 2, []int{1, 2}},
		{"5", 3, []int{5, 0, 0}},
	} {
		if got := attemptNumbers(tc.header, tc.items); !cmp.Equal(got, tc.want) {
			t.Errorf("attemptNumbers(%q, %d) = %v, want %v", tc.header, tc.items, got, tc.want)
		}
	}
}

// TestListenMarksRetries posts a batch as graphhook's dispatcher does, with the
// attempt header, and expects the retried item marked and the first try not.
func TestListenMarksRetries(t *testing.T) {
	t.Parallel()
	f := newFakeGraph(t)
	cfg := validConfig()
	cfg.Server, cfg.ClientState = f.srv.URL, "state"
	rl := startListen(t, cfg)
	first := waitLine(t, rl.out.lines, "listening for notifications on ", rl.out)
	recvURL := strings.TrimPrefix(first, "listening for notifications on ")
	waitLine(t, rl.out.lines, "subscription ", rl.out)

	item := func(res string) graph.ChangeNotification {
		return graph.ChangeNotification{SubscriptionID: "sub-1", SubscriptionExpirationDateTime: graph.FormatTime(time.Now().Add(time.Hour)),
			ClientState: "state", ChangeType: "updated", Resource: res, TenantID: DemoTenant}
	}
	body, _ := json.Marshal(graph.ChangeNotificationCollection{Value: []graph.ChangeNotification{item("users/a"), item("users/b")}})
	req, _ := http.NewRequest("POST", recvURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(attemptHeader, "1,3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST = %d, want 202", resp.StatusCode)
	}
	if got := waitLine(t, rl.out.lines, "[", rl.out); !strings.HasSuffix(got, "] updated users/a") {
		t.Errorf("first item's line = %q, want no attempt mark", got)
	}
	if got := waitLine(t, rl.out.lines, "[", rl.out); !strings.HasSuffix(got, "] updated users/b (attempt 3)") {
		t.Errorf("second item's line = %q, want it marked (attempt 3)", got)
	}
}
