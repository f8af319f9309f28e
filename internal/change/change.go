// Package change is the vocabulary shared by the workloads that write changes and the
// delivery pipeline that turns them into notifications:
//
//   - topic keys (topic.go): every change lists the topic keys it touches, and every
//     subscription is normalised to one topic key at creation; the matcher joins the
//     two. Both sides build keys with these functions only, so they cannot drift.
//   - Notice (this file): what a notification about the change must say, written by the
//     workload into the change record's Extra, read by the delivery pipeline.
//   - Record: appends a change record with its notice, in the caller's transaction.
package change

import (
	"context"
	"encoding/json"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// Notice is the notification-facing description of one change, in Change.Extra.
type Notice struct {
	// Resource is the notification's "resource" (relative to the Graph host, no
	// version), e.g. Users/{u}/Messages/{id} or teams('t')/channels('c')/messages('m').
	Resource string `json:"resource"`
	// ODataType is resourceData's "@odata.type", e.g. #Microsoft.Graph.Message.
	ODataType string `json:"odataType"`
	// ODataID is resourceData's "@odata.id"; usually equal to Resource.
	ODataID string `json:"odataId,omitempty"`
	// ETag is resourceData's "@odata.etag"; empty when the resource has none.
	ETag string `json:"etag,omitempty"`
	// ID is resourceData's "id".
	ID string `json:"id"`
	// Directory marks user and group changes: their resourceData adds organizationId,
	// eventTime and sequenceNumber, and created or soft-deleted items are reported as
	// "updated".
	Directory bool `json:"directory,omitempty"`
	// MembersDelta and OwnersDelta list membership changes of a group
	// ({"@odata.type":"#microsoft.graph.user","id":…} plus "@removed":"deleted" for
	// removals); they become members@delta / owners@delta in resourceData.
	MembersDelta []map[string]any `json:"membersDelta,omitempty"`
	OwnersDelta  []map[string]any `json:"ownersDelta,omitempty"`
	// RootResource marks drive and list changes: the notification names the subscribed
	// resource (the drive root or the list), carries only {"@odata.type": ODataType}
	// as resourceData, and is always "updated".
	RootResource bool `json:"rootResource,omitempty"`
	// SiteURL and WebID are added to SharePoint-backed drive and list notifications.
	SiteURL string `json:"siteUrl,omitempty"`
	WebID   string `json:"webId,omitempty"`
	// Rich marks changes whose After document may be sent encrypted as resource data
	// (chat and channel messages).
	Rich bool `json:"rich,omitempty"`
}

// Record appends a change record to the log in tx. before and after are the item's
// API representation (JSON) before and after the change (nil when absent); they are
// what $filter subscriptions are evaluated against and what rich notifications carry.
func Record(ctx context.Context, tx store.Tx, tenant, kind, id, changeType string, topics []string, before, after []byte, n Notice, at time.Time) error {
	extra, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return tx.AppendChange(ctx, &store.Change{
		Tenant: tenant, Kind: kind, ID: id, ChangeType: changeType, Topics: topics,
		Time: at, Before: before, After: after, Extra: extra, ExtraValue: n,
	})
}

// NoticeOf decodes the notice of a change record.
func NoticeOf(c *store.Change) (Notice, error) {
	if n, ok := c.ExtraValue.(Notice); ok {
		return n, nil
	}
	var n Notice
	if len(c.Extra) == 0 {
		return n, nil
	}
	err := json.Unmarshal(c.Extra, &n)
	return n, err
}
