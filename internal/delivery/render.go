package delivery

import (
	"cmp"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/graphhook/graphhook/internal/change"
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
			b = appendString(b, n.SiteURL)
			b = append(b, ',')
		}
		if n.WebID != "" {
			b = append(b, `"webId":`...)
			b = appendString(b, n.WebID)
			b = append(b, ',')
		}
		b = append(b, `"resourceData":{"@odata.type":`...)
		b = appendString(b, n.ODataType)
		return append(b, '}')
	}
	b = append(b, `"resourceData":{"@odata.type":`...)
	b = appendString(b, n.ODataType)
	b = append(b, `,"@odata.id":`...)
	b = appendString(b, cmp.Or(n.ODataID, n.Resource))
	if n.ETag != "" {
		b = append(b, `,"@odata.etag":`...)
		b = appendString(b, n.ETag)
	}
	b = append(b, `,"id":`...)
	b = appendString(b, n.ID)
	if n.Directory {
		b = append(b, `,"organizationId":`...)
		b = appendString(b, c.Tenant)
		b = append(b, `,"eventTime":`...)
		b = appendString(b, graph.FormatTime(c.Time))
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
	b = appendString(b, s.ID)
	b = append(b, `,"subscriptionExpirationDateTime":`...)
	b = appendString(b, graph.FormatTime(s.Expiration))
	if s.ClientState != "" {
		b = append(b, `,"clientState":`...)
		b = appendString(b, s.ClientState)
	}
	b = append(b, ',')
	t := appendString([]byte(`"tenantId":`), s.Tenant)
	return subHead{prefix: b, tenant: append(t, ',')}
}

// appendItem writes one change notification item.
func appendItem(b []byte, h *subHead, n *store.Notification, enc []byte) []byte {
	b = append(b, h.prefix...)
	b = append(b, `"changeType":`...)
	b = appendString(b, n.Event)
	b = append(b, `,"resource":`...)
	b = appendString(b, n.Resource)
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

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
