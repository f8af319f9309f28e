package teams

import (
	"context"
	"encoding/json"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/store"
)

// KindTeamMember labels the change records of a team's roster. A team member is
// not stored under this kind: the roster is the team's group membership.
const KindTeamMember = "teamMember"

// teamsChange is one change of a team, channel, chat or member: its change record
// carries the resource as GET serves it (less @odata.context), which is what a rich
// notification encrypts, as Graph's decrypted payloads show.
type teamsChange struct {
	tenant, kind, id, changeType string
	topics                       []string
	before, after                map[string]any // nil when absent
	resource, odataType          string
}

func (tc teamsChange) record(ctx context.Context, tx store.Tx, now time.Time) error {
	var before, after []byte
	var err error
	if tc.before != nil {
		if before, err = json.Marshal(tc.before); err != nil {
			return err
		}
	}
	if tc.after != nil {
		if after, err = json.Marshal(tc.after); err != nil {
			return err
		}
	}
	return change.Record(ctx, tx, tc.tenant, tc.kind, tc.id, tc.changeType, tc.topics, before, after,
		change.Notice{Resource: tc.resource, ODataType: tc.odataType, ODataID: tc.resource, ID: tc.id, Rich: true}, now)
}

// teamChange is a change of team (id = its group's id).
func teamChange(tenant, id, changeType string, before, after map[string]any) teamsChange {
	res := "teams('" + id + "')"
	return teamsChange{tenant: tenant, kind: KindTeam, id: id, changeType: changeType, before: before, after: after,
		topics: []string{change.Teams(), change.Team(id)}, resource: res, odataType: "#Microsoft.Graph.Team"}
}

// channelChange is a change of channel id in team.
func channelChange(tenant, team, id, changeType string, before, after map[string]any) teamsChange {
	res := "teams('" + team + "')/channels('" + id + "')"
	return teamsChange{tenant: tenant, kind: KindChannel, id: id, changeType: changeType, before: before, after: after,
		topics: []string{change.AllChannels(), change.TeamChannels(team)}, resource: res, odataType: "#Microsoft.Graph.Channel"}
}

// chatChange is a change of chat id.
func chatChange(tenant, id, changeType string, before, after map[string]any) teamsChange {
	res := "chats('" + id + "')"
	return teamsChange{tenant: tenant, kind: KindChat, id: id, changeType: changeType, before: before, after: after,
		topics: []string{change.Chats(), change.Chat(id)}, resource: res, odataType: "#microsoft.graph.chat"}
}

// teamMemberChange is a change of membership id in team.
func teamMemberChange(tenant, team, id, changeType string, before, after map[string]any) teamsChange {
	res := "teams('" + team + "')/members('" + id + "')"
	return teamsChange{tenant: tenant, kind: KindTeamMember, id: id, changeType: changeType, before: before, after: after,
		topics: []string{change.AllTeamMembers(), change.TeamMembers(team)}, resource: res, odataType: "#Microsoft.Graph.aadUserConversationMember"}
}

// chatMemberChange is a change of membership id in chat.
func chatMemberChange(tenant, chat, id, changeType string, before, after map[string]any) teamsChange {
	res := "chats('" + chat + "')/members('" + id + "')"
	return teamsChange{tenant: tenant, kind: KindChatMember, id: id, changeType: changeType, before: before, after: after,
		topics: []string{change.AllChatMembers(), change.ChatMembers(chat)}, resource: res, odataType: "#microsoft.graph.aadUserConversationMember"}
}
