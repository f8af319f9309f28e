package sites

import (
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
)

// ListResource is the resource type name of SharePoint lists.
const ListResource = "list"

// Resources describes the subscribable SharePoint lists, after "Change
// notifications for OneDrive and SharePoint": any change to a list's items is
// reported as "updated" on the list.
func Resources() []resource.Descriptor {
	perms := []string{"Sites.Read.All", "Sites.ReadWrite.All"}
	return []resource.Descriptor{{
		Type:        ListResource,
		Workload:    "SharePoint",
		Kinds:       []string{KindList, KindListItem},
		ChangeTypes: []string{store.Updated},
		MaxLifetime: 42300 * time.Minute,
		Paths: []resource.Path{
			{Pattern: "sites/{site}/lists/{list}", Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				site, err := r.Object(KindSite, ids[0], "", "Site '%s' does not exist.")
				if err != nil {
					return resource.Target{}, err
				}
				list, err := r.Object(KindList, ids[1], site.ID, "List '%s' does not exist in the site.")
				return resource.Target{Topic: change.SiteList(site.ID, list.ID)}, err
			}},
		},
		Permissions: []resource.Permission{{DelegatedWork: perms, DelegatedPersonal: perms, Application: perms}},
		Samples: []resource.Sample{
			{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("POST", "sites/{site}/lists/{list}/items", `{"fields":{"Title":"Sample"}}`)}, Permission: "Sites.ReadWrite.All"},
		},
	}}
}
