package teams_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/teams"
)

// TestTeamResourceSamples makes every sample change of the team, channel, chat and
// member descriptors through the API, as `graphhook trigger` would: placeholders
// filled with the tenant's objects, {id} with what the created sample made, each
// request with an application holding the sample's permission alone; and checks
// that each makes the change its change type names.
func TestTeamResourceSamples(t *testing.T) {
	t.Parallel()
	env := setup(t)
	adele := env.UserToken(testserver.AdeleUPN)
	team := env.Do("PUT", "/v1.0/groups/"+testserver.SalesGroup+"/team", adele, map[string]any{}).JSON()["id"].(string)
	chat := env.Do("POST", "/v1.0/chats", adele, map[string]any{"chatType": "group", "members": members(testserver.Adele, testserver.Bruno)}).JSON()["id"].(string)
	allowed := []string{"{tenant}", "{user}", "{group}", "{team}", "{channel}", "{chat}", "{site}", "{list}", "{drive}", "{meeting}", "{todoList}", "{id}", "{unique}"}
	topics := map[string]string{teams.TeamResource: change.Teams(), teams.ChannelResource: change.AllChannels(),
		teams.ChatResource: change.Chats(), teams.MemberResource: change.AllTeamMembers()}
	for _, d := range teams.Resources() {
		topic, ok := topics[d.Type]
		if !ok {
			continue
		}
		id := ""
		for _, s := range d.Samples {
			token := env.ClientToken(env.AddApp([]string{s.Permission}, nil))
			before := len(env.Changes(testserver.Tenant, topic))
			for _, req := range s.Requests {
				for _, m := range placeholder.FindAllString(req.Path+req.Body, -1) {
					if !slices.Contains(allowed, m) {
						t.Errorf("%s %s sample uses %s, which trigger does not know", d.Type, s.ChangeType, m)
					}
				}
				// EngGroup has no team yet: the team sample makes one of it.
				r := strings.NewReplacer("{tenant}", testserver.Tenant, "{user}", testserver.Chen, "{group}", testserver.EngGroup,
					"{team}", team, "{chat}", chat, "{id}", id, "{unique}", "1")
				resp := env.Do(req.Method, "/v1.0/"+r.Replace(req.Path), token, r.Replace(req.Body), "Content-Type", "application/json")
				if resp.Status/100 != 2 {
					t.Fatalf("%s %s sample: %s %s = %s, want 2xx", d.Type, s.ChangeType, req.Method, r.Replace(req.Path), resp)
				}
				if s.ChangeType == "created" {
					id, _ = resp.JSON()["id"].(string)
				}
			}
			changes := env.Changes(testserver.Tenant, topic)
			if len(changes) != before+1 || changes[len(changes)-1].ChangeType != s.ChangeType {
				t.Errorf("%s %s sample: %d changes on %s after it (was %d), want one more of its change type", d.Type, s.ChangeType, len(changes), topic, before)
			}
		}
	}
}

var placeholder = regexp.MustCompile(`\{[A-Za-z]+\}`)
