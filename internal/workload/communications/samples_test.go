package communications_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/communications"
)

// triggerPlaceholders are the sample placeholders `graphhook trigger` knows how to
// fill (its contract with the workloads).
var triggerPlaceholders = []string{"{tenant}", "{user}", "{group}", "{team}", "{channel}", "{chat}", "{site}", "{list}", "{drive}", "{meeting}", "{todoList}", "{id}"}

var placeholderRE = regexp.MustCompile(`\{[A-Za-z]+\}`)

// TestSamples makes each descriptor's sample changes as a tool would, with only the
// sample's permission (or the admin key), and checks that a subscription on the
// resource is told the sample's change type.
func TestSamples(t *testing.T) {
	t.Parallel()
	e := setup(t)
	app := e.AppToken()
	h := newHook(t)
	m := createMeeting(t, e, app, testserver.Bruno)
	vars := map[string]string{"{tenant}": testserver.Tenant, "{user}": testserver.Bruno, "{meeting}": m["id"].(string)}
	subs := map[string]string{
		communications.PresenceResource: e.subscribe(t, e.UserToken(testserver.AdeleUPN), h, "communications/presences/"+testserver.Bruno, "updated", nil, false),
		communications.OnlineMeetingResource: e.subscribe(t, app, h,
			"communications/onlineMeetings(joinWebUrl='"+url.PathEscape(m["joinWebUrl"].(string))+"')/meetingCallEvents", "updated", nil, false),
		communications.TranscriptResource: e.subscribe(t, app, h, "communications/onlineMeetings/"+m["id"].(string)+"/transcripts", "created", nil, false),
		communications.RecordingResource:  e.subscribe(t, app, h, "communications/onlineMeetings/"+m["id"].(string)+"/recordings", "created", nil, false),
	}
	for _, d := range communications.Resources() {
		for _, s := range d.Samples {
			token, prefix := testserver.AdminKey, "/_graphhook/"
			if !s.Admin {
				id, secret := e.AddApp([]string{s.Permission}, nil)
				token, prefix = e.ClientToken(id, secret), "/v1.0/"
			}
			for _, req := range s.Requests {
				path := req.Path
				for _, ph := range placeholderRE.FindAllString(path, -1) {
					if !slices.Contains(triggerPlaceholders, ph) {
						t.Errorf("%s sample %s uses %s, which trigger does not know", d.Type, s.ChangeType, ph)
					}
					path = strings.ReplaceAll(path, ph, vars[ph])
				}
				if !json.Valid([]byte(req.Body)) {
					t.Fatalf("%s sample body %q is not JSON", d.Type, req.Body)
				}
				e.must(t, req.Method, prefix+path, token, json.RawMessage(req.Body), map[bool]int{true: http.StatusCreated, false: http.StatusOK}[s.Admin])
			}
			if it := h.next(t, d.Type+" sample", bySub(subs[d.Type])); it.ChangeType != s.ChangeType {
				t.Errorf("%s sample told %q, want %q", d.Type, it.ChangeType, s.ChangeType)
			}
		}
	}
}
