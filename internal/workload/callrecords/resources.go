package callrecords

import (
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
)

// CallRecordResource is the resource type name of call records.
const CallRecordResource = "callRecord"

// Resources describes the subscribable call records, after "Change notifications
// for cloud communications": application callers only, $filter on participants/id
// only.
func Resources() []resource.Descriptor {
	return []resource.Descriptor{{
		Type:        CallRecordResource,
		Workload:    "Cloud Communications",
		Kinds:       []string{Kind},
		ChangeTypes: []string{store.Created, store.Updated},
		MaxLifetime: 4230 * time.Minute,
		// "Get change notifications for call records": Graph notifies a
		// subscription for updated (its own example) when a record is generated.
		CreatedIsUpdated: true,
		Paths: []resource.Path{
			{Pattern: "communications/callRecords", Options: resource.AllowFilter | resource.FilterParticipantsOnly, Resolve: func(r *resource.Resolver, _ []string) (resource.Target, error) {
				return resource.Target{Topic: change.CallRecords()}, nil
			}},
		},
		Permissions: []resource.Permission{{Application: []string{"CallRecords.Read.All"}}},
		Quotas: func(p *identity.Principal, _ resource.Target, q resource.Quotas) []resource.Quota {
			return []resource.Quota{{
				Query:   store.SubscriptionQuery{Tenant: p.TenantID, ResourceTypes: []string{CallRecordResource}},
				Limit:   q.CallRecordsPerTenant,
				Message: "The limit of %d callRecord subscriptions per organization has been reached.",
			}}
		},
		Samples: []resource.Sample{
			{ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "tenants/{tenant}/communications/callRecords", `{"type":"groupCall","modalities":["audio"]}`)}, Admin: true},
			{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "tenants/{tenant}/communications/callRecords/{id}", `{"modalities":["audio","video"]}`)}, Admin: true},
		},
	}}
}
