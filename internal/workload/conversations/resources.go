package conversations

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
)

// ConversationResource is the resource type name of group conversations.
const ConversationResource = "conversation"

// Resources describes the subscribable group conversations of Microsoft 365 groups,
// after "Change notifications for Outlook resources" (conversations live in the
// group mailbox). Only delegated work accounts may subscribe.
func Resources() []resource.Descriptor {
	return []resource.Descriptor{{
		Type:        ConversationResource,
		Workload:    "Exchange",
		Kinds:       []string{kindConversation, kindThread, kindPost},
		ChangeTypes: []string{store.Created, store.Updated, store.Deleted},
		MaxLifetime: 4230 * time.Minute,
		Paths: []resource.Path{
			{Pattern: "groups/{group}/conversations", CanRead: canRead, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				g, err := r.Object(identity.KindGroup, ids[0], "", "Group '%s' does not exist.")
				if err != nil {
					return resource.Target{}, err
				}
				if !isUnified(g.Data) {
					return resource.Target{}, r.NotFound("Group '%s' has no conversations: only Microsoft 365 (Unified) groups have a group mailbox.", ids[0])
				}
				return resource.Target{Topic: change.GroupConversations(g.ID)}, nil
			}},
		},
		Permissions: []resource.Permission{{DelegatedWork: []string{"Group.Read.All"}}},
		Samples: []resource.Sample{
			{ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "groups/{group}/conversations", `{"topic":"Sample","threads":[{"posts":[{"body":{"contentType":"text","content":"Hello"}}]}]}`)}, Permission: "Group.ReadWrite.All"},
			{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("POST", "groups/{group}/threads/{thread}/reply", `{"post":{"body":{"contentType":"text","content":"Reply"}}}`)}, Permission: "Group.ReadWrite.All"},
			{ChangeType: store.Deleted, Requests: []resource.Request{resource.Req("DELETE", "groups/{group}/conversations/{id}", "")}, Permission: "Group.ReadWrite.All"},
		},
	}}
}

// isUnified tells whether a stored group document is a Microsoft 365 group.
func isUnified(data []byte) bool {
	var g struct {
		GroupTypes []string `json:"groupTypes"`
	}
	json.Unmarshal(data, &g)
	return slices.ContainsFunc(g.GroupTypes, func(t string) bool { return strings.EqualFold(t, "Unified") })
}

// canRead is the rule GET applies to a group's conversations: a delegated caller must
// be a member or an owner of the group; an application reads every group's.
func canRead(ctx context.Context, tx store.Tx, p *identity.Principal, ids []string) error {
	if !p.Type.Delegated() {
		return nil
	}
	member, err := identity.IsGroupMember(ctx, tx, p.TenantID, ids[0], p.UserID)
	if err != nil {
		return err
	}
	if !member {
		return resource.Denied("The signed-in user is not a member of the group.")
	}
	return nil
}
