package todo_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/goldenfile"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/todo"
)

// setup serves the To Do and directory workloads, the subscriptions API and the delivery pipeline
// (running its services) on a test server with the demo tenant.
func setup(t *testing.T) *testserver.Env {
	t.Helper()
	return testserver.New(t, testserver.Notifications(nil), func(env *testserver.Env) {
		todo.New(env.Store).Routes(env.HTTP.Graph())
		directory.New(env.Store, env.Identity).Routes(env.HTTP.Graph())
	})
}

// receiver is a loopback notification endpoint collecting every item it is sent.
type receiver struct{ *testserver.Webhook }

func newReceiver(t *testing.T) *receiver { return &receiver{testserver.NewWebhook(t)} }

// next waits for the n-th item (from 0) the receiver collected and returns it.
func (r *receiver) next(t *testing.T, n int) map[string]any {
	t.Helper()
	var it map[string]any
	r.Await(t, 10*time.Second, fmt.Sprintf("notification #%d", n+1), func(items []json.RawMessage) bool {
		if len(items) <= n {
			return false
		}
		if err := json.Unmarshal(items[n], &it); err != nil {
			t.Fatalf("notification item %s: %v", items[n], err)
		}
		return true
	})
	return it
}

// count is how many items the receiver collected.
func (r *receiver) count() int { return len(r.Items()) }

// subscribe creates a subscription for token and returns the response.
func subscribe(env *testserver.Env, token, url, resource, changeType string, lifetime time.Duration) *testserver.Response {
	env.T.Helper()
	return env.Do("POST", "/v1.0/subscriptions", token, map[string]any{
		"changeType": changeType, "notificationUrl": url, "resource": resource, "clientState": "todo-state",
		"expirationDateTime": graph.FormatTime(env.Clock.Now().Add(lifetime)),
	})
}

// golden compares a JSON body with testdata/name.golden.json after replacing the
// server URL and each of the given strings (ids) with its placeholder, and the
// values of the volatile keys with "<key>".
func golden(t *testing.T, env *testserver.Env, name string, body []byte, replace map[string]string, volatile ...string) {
	t.Helper()
	body = bytes.ReplaceAll(body, []byte(env.URL), []byte("{url}"))
	for from, to := range replace {
		body = bytes.ReplaceAll(body, []byte(from), []byte(to))
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%s: body is not JSON: %v", name, err)
	}
	goldenfile.Scrub(doc, volatile...)
	goldenfile.Compare(t, name, goldenfile.Indent(t, doc))
}

// jsonBytes encodes v (a decoded notification item) for golden.
func jsonBytes(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// volatileTimes are the keys whose values are times of the run or random.
var volatileTimes = []string{"createdDateTime", "lastModifiedDateTime", "bodyLastModifiedDateTime", "@odata.etag", "subscriptionExpirationDateTime", "subscriptionId"}

// tasksOf is the path of a user's list's tasks ("me" or users/{id}).
func tasksOf(user, list string) string {
	return "/v1.0/" + strings.TrimPrefix(user, "/") + "/todo/lists/" + list + "/tasks"
}
