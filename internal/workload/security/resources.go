package security

import (
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
)

// AlertResource is the resource type name of security alerts.
const AlertResource = "alert"

// Resources describes the subscribable security alerts, after "Change
// notifications for security alerts": the tenant's alerts (with $filter) or one
// alert; alerts are created and updated by apps, and deleted only by the provider
// (graphhook's admin API).
func Resources() []resource.Descriptor {
	return []resource.Descriptor{{
		Type:        AlertResource,
		Workload:    "Microsoft Graph Security",
		Kinds:       []string{Kind},
		ChangeTypes: []string{store.Created, store.Updated, store.Deleted},
		MaxLifetime: 43200 * time.Minute,
		Paths: []resource.Path{
			{Pattern: "security/alerts", Options: resource.AllowFilter, Resolve: func(r *resource.Resolver, _ []string) (resource.Target, error) {
				return resource.Target{Topic: change.Alerts()}, nil
			}},
			{Pattern: "security/alerts/{alert}", Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				a, err := r.Object(Kind, ids[0], "", "Alert '%s' does not exist.")
				return resource.Target{Topic: change.Alert(a.ID)}, err
			}},
		},
		Permissions: []resource.Permission{{DelegatedWork: []string{"SecurityEvents.ReadWrite.All"}, Application: []string{"SecurityEvents.ReadWrite.All"}}},
		Samples: []resource.Sample{
			{ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "tenants/{tenant}/security/alerts", `{"title":"Sample alert","severity":"high","vendorInformation":{"provider":"Sample","vendor":"Contoso"}}`)}, Admin: true},
			{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "security/alerts/{id}", `{"status":"inProgress","vendorInformation":{"provider":"Sample","vendor":"Contoso"}}`)}, Permission: "SecurityEvents.ReadWrite.All"},
			{ChangeType: store.Deleted, Requests: []resource.Request{resource.Req("DELETE", "tenants/{tenant}/security/alerts/{id}", "")}, Admin: true},
		},
	}}
}
