package subscription_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/subscription"
)

// TestModelAndSearchOptions checks the licensing model parameter on the tenant-wide
// Teams paths and $search on channel and chat messages: accepted where Graph takes
// them, refused with Graph's error elsewhere or when malformed.
func TestModelAndSearchOptions(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{})
	app := e.AppToken()
	for _, tc := range []struct {
		resource string
		status   int
		message  string
	}{
		{"teams/getAllMessages?model=A", 201, ""},
		{"/teams/getAllMessages?model=B", 201, ""},
		{"chats/getAllMessages?model=A", 201, ""},
		{"chats/getAllMessages?model=b", 201, ""},
		{"teams/" + teamID + "/channels/" + channelID + "/messages?$search=Hello", 201, ""},
		{"chats/" + chatID + "/messages?$search=\"Hello\"", 201, ""},
		{"chats/" + chatID + "/messages?search=Hello", 201, ""},
		{"teams/getAllMessages?model=C", 400, "Invalid value 'C' for query option 'model' in resource 'teams/getAllMessages?model=C'; the supported models are A and B."},
		{"teams/getAllMessages?model=A&model=B", 400, "Query option 'model' is specified more than once in resource 'teams/getAllMessages?model=A&model=B'."},
		{"chats/" + chatID + "/messages?$search=", 400, "Invalid $search clause: a keyword is required in resource 'chats/" + chatID + "/messages?$search='."},
		{"chats/" + chatID + "/messages?model=A", 400, "Query option 'model' is not supported in resource 'chats/" + chatID + "/messages?model=A'."},
		{"teams/getAllMessages?$search=Hello", 400, "Query option '$search' is not supported in resource 'teams/getAllMessages?$search=Hello'."},
		{"users?$search=Hello", 400, "Query option '$search' is not supported in resource 'users?$search=Hello'."},
	} {
		// Lifetimes under an hour: Teams subscriptions need no lifecycle URL then.
		b := e.body(tc.resource, "created", "expirationDateTime", graph.FormatTime(e.Clock.Now().Add(45*time.Minute)))
		r := e.Do("POST", "/v1.0/subscriptions", app, b)
		if r.Status != tc.status {
			t.Errorf("POST %s = %s, want %d", tc.resource, r, tc.status)
			continue
		}
		if tc.status == http.StatusCreated {
			// Gone again, so that the next row is no duplicate of this one.
			if d := e.Do("DELETE", "/v1.0/subscriptions/"+r.JSON()["id"].(string), app, nil); d.Status != http.StatusNoContent {
				t.Fatalf("DELETE = %s, want 204", d)
			}
		} else {
			if got := r.JSON()["error"].(map[string]any)["message"]; got != tc.message {
				t.Errorf("POST %s: message %q, want %q", tc.resource, got, tc.message)
			}
		}
	}
}
