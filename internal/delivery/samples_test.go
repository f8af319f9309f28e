package delivery_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
)

var placeholderRE = regexp.MustCompile(`\{[A-Za-z]+\}`)

// TestSampleChanges makes every workload's sample changes that need no object but
// the watched user (Bruno), the Sales group and the ones they create, each with a
// token holding only the sample's permission, and checks that a subscription on the
// resource is told the sample's change type. Samples naming other objects ({chat},
// {site}, …) or needing a signed-in user are left to the workloads' own tests.
func TestSampleChanges(t *testing.T) {
	ran := 0
	for _, d := range testserver.Resources() {
		resourcePath, variant := "", ""
		for _, p := range d.Paths {
			path := strings.ReplaceAll(p.Pattern, "{user}", testserver.Bruno)
			if path = strings.ReplaceAll(path, "{group}", testserver.SalesGroup); !placeholderRE.MatchString(path) {
				resourcePath, variant = path, p.Variant
				break
			}
		}
		if resourcePath == "" {
			continue
		}
		t.Run(d.Type, func(t *testing.T) {
			h := setup(t, testConfig())
			r := newReceiver(t)
			// The subscriber is the demo app, or Adele where only delegated callers may
			// subscribe (group conversations).
			subscriber := h.AppToken()
			if _, ok := d.Names(variant, identity.Application); !ok {
				subscriber = h.UserToken(testserver.AdeleUPN)
			}
			h.subscribe(t, subscriber, map[string]any{"changeType": strings.Join(d.ChangeTypes, ","), "notificationUrl": r.URL, "resource": resourcePath})
			vars := map[string]string{"{user}": testserver.Bruno, "{group}": testserver.SalesGroup, "{tenant}": testserver.Tenant}
			seen := 0
			for _, s := range d.Samples {
				if !runSample(t, h, s, vars) {
					continue
				}
				ran++
				deadline := time.Now().Add(10 * time.Second)
				for {
					items := r.items(t)
					if slices.ContainsFunc(items[seen:], func(it map[string]any) bool { return it["changeType"] == s.ChangeType }) {
						seen = len(items)
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("sample %s on %s: received %v, want a %s notification", s.ChangeType, resourcePath, items[seen:], s.ChangeType)
					}
					select {
					case <-r.signal:
					case <-time.After(20 * time.Millisecond):
					}
				}
			}
		})
	}
	// Users 2, groups 2, messages, events and contacts 3 each, conversations 2 (a
	// reply needs a thread), drives 1, alerts 3 (deletion through the admin API),
	// call records 2, presence 1. The Teams resources' samples name a team or a chat,
	// or need a new group or member each time: internal/trigger's test makes them.
	if ran != 22 {
		t.Errorf("ran %d sample changes, want 22", ran)
	}
}

// runSample sends a sample's requests; it returns false, sending nothing, when the
// sample names an object vars does not know or needs a delegated caller.
func runSample(t *testing.T, h *harness, s resource.Sample, vars map[string]string) bool {
	t.Helper()
	if s.Delegated || len(s.Fresh) > 0 {
		// Signed-in users' changes, and changes that need objects made anew each
		// time (a new member), are trigger's to test.
		return false
	}
	for _, req := range s.Requests {
		for _, ph := range placeholderRE.FindAllString(req.Path, -1) {
			if _, ok := vars[ph]; !ok {
				return false
			}
		}
	}
	token, prefix := testserver.AdminKey, "/_graphhook/"
	if !s.Admin {
		id, secret := h.AddApp([]string{s.Permission}, nil)
		token, prefix = h.ClientToken(id, secret), "/v1.0/"
	}
	for _, req := range s.Requests {
		path := req.Path
		for ph, v := range vars {
			path = strings.ReplaceAll(path, ph, v)
		}
		var body any
		if req.Body != "" {
			body = []byte(req.Body)
			if json.Valid([]byte(req.Body)) {
				body = json.RawMessage(req.Body)
			}
		}
		resp := h.Do(req.Method, prefix+path, token, body)
		if resp.Status >= 300 {
			t.Fatalf("sample %s: %s %s = %s", s.ChangeType, req.Method, path, resp)
		}
		if s.ChangeType == store.Created {
			if id, ok := resp.JSON()["id"].(string); ok {
				vars["{id}"] = id
			}
		}
	}
	return true
}
