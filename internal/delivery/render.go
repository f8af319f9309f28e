package delivery

import (
	"cmp"
	"encoding/json"
	"strconv"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/store"
)

// A change notification item is assembled in two halves:
//
//   - at enqueue time (matcher), what the change decides: the members after
//     "tenantId" (siteUrl/webId, resourceData), stored as the row's Payload;
//   - at send time (dispatcher), what the subscription decides and may have
//     changed since: subscriptionId, subscriptionExpirationDateTime, clientState,
//     and encryptedContent.
//
// Items are written by hand, not through encoding/json, because this is the hot
// path; the field order follows Microsoft's documented samples (see graph.ChangeNotification),
// and the tests decode every item into graph.ChangeNotification and Validate it.

// renderResourceData returns the Payload of a change notification: a JSON object's
// members (no braces) to follow "tenantId".
func renderResourceData(n *change.Notice, c *store.Change) []byte {
	b := make([]byte, 0, 256)
	if n.RootResource {
		if n.SiteURL != "" {
			b = append(b, `"siteUrl":`...)
			b = docjson.AppendString(b, n.SiteURL)
			b = append(b, ',')
		}
		if n.WebID != "" {
			b = append(b, `"webId":`...)
			b = docjson.AppendString(b, n.WebID)
			b = append(b, ',')
		}
		b = append(b, `"resourceData":{"@odata.type":`...)
		b = docjson.AppendString(b, n.ODataType)
		return append(b, '}')
	}
	b = append(b, `"resourceData":{"@odata.type":`...)
	b = docjson.AppendString(b, n.ODataType)
	b = append(b, `,"@odata.id":`...)
	b = docjson.AppendString(b, cmp.Or(n.ODataID, n.Resource))
	if n.ETag != "" {
		b = append(b, `,"@odata.etag":`...)
		b = docjson.AppendString(b, n.ETag)
	}
	b = append(b, `,"id":`...)
	b = docjson.AppendString(b, n.ID)
	if n.Directory {
		b = append(b, `,"organizationId":`...)
		b = docjson.AppendString(b, c.Tenant)
		b = append(b, `,"eventTime":`...)
		b = docjson.AppendString(b, graph.FormatTime(c.Time))
		b = append(b, `,"sequenceNumber":`...)
		b = strconv.AppendInt(b, c.Seq, 10)
	}
	if len(n.MembersDelta) > 0 {
		b = append(b, `,"members@delta":`...)
		b = appendJSON(b, n.MembersDelta)
	}
	if len(n.OwnersDelta) > 0 {
		b = append(b, `,"owners@delta":`...)
		b = appendJSON(b, n.OwnersDelta)
	}
	return append(b, '}')
}

func appendJSON(b []byte, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		return append(b, "[]"...)
	}
	return append(b, data...)
}

// subHead is the send-time half of an item, rendered once per subscription version.
type subHead struct {
	// prefix is `{"subscriptionId":…,"subscriptionExpirationDateTime":…,"clientState":…,`.
	prefix []byte
	tenant []byte // `"tenantId":"…",`
}

func renderHead(s *store.Subscription) subHead {
	b := make([]byte, 0, 160)
	b = append(b, `{"subscriptionId":`...)
	b = docjson.AppendString(b, s.ID)
	b = append(b, `,"subscriptionExpirationDateTime":`...)
	b = docjson.AppendString(b, graph.FormatTime(s.Expiration))
	if s.ClientState != "" {
		b = append(b, `,"clientState":`...)
		b = docjson.AppendString(b, s.ClientState)
	}
	b = append(b, ',')
	t := docjson.AppendString([]byte(`"tenantId":`), s.Tenant)
	return subHead{prefix: b, tenant: append(t, ',')}
}

// appendItem writes one change notification item.
func appendItem(b []byte, h *subHead, n *store.Notification, enc []byte) []byte {
	b = append(b, h.prefix...)
	b = append(b, `"changeType":`...)
	b = docjson.AppendString(b, n.Event)
	b = append(b, `,"resource":`...)
	b = docjson.AppendString(b, n.Resource)
	b = append(b, ',')
	b = append(b, h.tenant...)
	b = append(b, n.Payload...)
	if enc != nil {
		b = append(b, `,"encryptedContent":`...)
		b = append(b, enc...)
	}
	return append(b, '}')
}

// renderLifecycle renders a whole lifecycle notification item at enqueue time: the
// subscription may be gone by the time it is sent (subscriptionRemoved).
func renderLifecycle(s *store.Subscription, event string) []byte {
	data, _ := json.Marshal(graph.ChangeNotification{
		SubscriptionID:                 s.ID,
		SubscriptionExpirationDateTime: graph.FormatTime(s.Expiration),
		ClientState:                    s.ClientState,
		LifecycleEvent:                 event,
		TenantID:                       s.Tenant,
		OrganizationID:                 s.Tenant,
	})
	return data
}
