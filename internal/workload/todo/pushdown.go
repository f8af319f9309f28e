package todo

import (
	"fmt"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/store"
)

// Tasks are listed in creation order, which the store keeps as their sort key
// (createdKey), so that it filters and pages a list of tasks itself: a page then
// costs its own size, not the list's. Migration 010 gave the tasks stored before it
// the same key.

// createdKey is a task's sort key: its creation time in nanoseconds since 1970,
// written in 20 digits so that text order is time order.
func createdKey(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }

// taskProps are the task properties the store filters by: those whose stored values
// have one type, as taskSchema's rules and the service's own writes leave them.
var taskProps = []store.Prop{
	{Path: "id"}, {Path: "title"}, {Path: "importance"}, {Path: "status"},
	{Path: "isReminderOn", Type: store.PropBool},
	{Path: "createdDateTime", Type: store.PropTime, Layout: graph.TimeLayout},
	{Path: "lastModifiedDateTime", Type: store.PropTime, Layout: graph.TimeLayout},
	{Path: "dueDateTime/dateTime", Type: store.PropTime, Layout: localLayout},
	{Path: "startDateTime/dateTime", Type: store.PropTime, Layout: localLayout},
	{Path: "reminderDateTime/dateTime", Type: store.PropTime, Layout: localLayout},
	{Path: "completedDateTime/dateTime", Type: store.PropTime, Layout: localLayout},
}

// taskProp is the odata.PropFunc of tasks. Names match ignoring case, as odata reads
// documents.
func taskProp(path string) (store.Prop, bool) {
	for _, p := range taskProps {
		if strings.EqualFold(p.Path, path) {
			return p, true
		}
	}
	return store.Prop{}, false
}

// taskQuery is the store query of the tasks of list for q, in creation order (the
// sort key), filtered by the store as far as it can. When that is the whole filter,
// paged is set and the query is the page itself, one task past it when more remain
// (write it with writeStored); otherwise write filters and cuts the tasks it reads.
func (q listQuery) taskQuery(ow owner, list string) (query store.ObjectQuery, paged bool) {
	query = store.ObjectQuery{Tenant: ow.tenant, Kind: KindTask, Owner: ow.user, Parent: list, BySort: true}
	exact := true
	if q.filter != nil {
		query.Where, exact = q.filter.StoreCond(taskProp)
	}
	if exact {
		query.Offset, query.Limit = q.skip, q.top+1
	}
	return query, exact
}
