package security

import (
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
)

// Alerts are filtered, ordered (newest first) and paged by the store where it gives
// the page the in-memory evaluation gives; what it cannot filter exactly is matched,
// sorted and cut in memory as before, over the alerts the store lets through.

// alertStoreProps are the filterable alert properties the store compares. The
// client sets createdDateTime and eventDateTime in any RFC 3339 form, so they are
// only ordered by (as text, as list orders them), never compared with a time; the
// service writes lastModifiedDateTime itself, in graph.TimeLayout.
var alertStoreProps = []store.Prop{
	{Path: "status"}, {Path: "severity"}, {Path: "category"}, {Path: "vendorInformation/provider"},
	{Path: "assignedTo"}, {Path: "title"}, {Path: "azureTenantId"}, {Path: "feedback"},
	{Path: "lastModifiedDateTime", Type: store.PropTime, Layout: graph.TimeLayout},
}

func alertProp(path string) (store.Prop, bool) {
	for _, p := range alertStoreProps {
		if strings.EqualFold(p.Path, path) {
			return p, true
		}
	}
	return store.Prop{}, false
}

// newestFirst is list's order: createdDateTime as text, descending, ties by id
// ascending.
var newestFirst = []store.OrderKey{{Prop: store.Prop{Path: "createdDateTime", Type: store.PropTime}, Desc: true}}

// alertQuery is the store query of a tenant's alerts for a list request. When the
// store evaluates the whole filter, paged is set and the query is the page itself,
// one alert past it when more remain.
func alertQuery(tenant string, filter *odata.Filter, offset, top int) (q store.ObjectQuery, paged bool) {
	q = store.ObjectQuery{Tenant: tenant, Kind: Kind}
	exact := true
	if filter != nil {
		q.Where, exact = filter.StoreCond(alertProp)
	}
	if exact {
		q.OrderBy, q.Offset, q.Limit = newestFirst, offset, top+1
	}
	return q, exact
}
