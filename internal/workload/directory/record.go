package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

// decodeView reads a stored object as its API representation.
func decodeView(o store.Object, s *schema) (map[string]any, error) {
	var doc map[string]any
	if err := json.Unmarshal(o.Data, &doc); err != nil {
		return nil, fmt.Errorf("directory: %s %s: %w", o.Kind, o.ID, err)
	}
	if o.Tenant == identity.ConsumersTenant {
		return doc, nil // personal accounts have no directory properties to fill in
	}
	return s.view(doc), nil
}

func schemaOf(kind string) *schema {
	if kind == identity.KindGroup {
		return groupSchema
	}
	return userSchema
}

// etag is the object's version as a weak entity tag. Entra does not show etags on
// users and groups, but If-Match needs something to compare; graphhook offers the
// object version so that optimistic concurrency works as on other Graph resources.
func etag(o store.Object) string { return fmt.Sprintf(`W/"%d"`, o.Version) }

// checkIfMatch enforces an If-Match header against the object's current version.
func checkIfMatch(c *httpapi.Ctx, o store.Object) error {
	h := c.R.Header.Get("If-Match")
	if h == "" {
		return nil
	}
	want := etag(o)
	for _, tag := range strings.Split(h, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || tag == want || "W/"+tag == want {
			return nil
		}
	}
	return preconditionFailed()
}

// entity adds the single-entity annotations to a view for a response.
func entity(c *httpapi.Ctx, doc map[string]any, fragment string, o store.Object) map[string]any {
	out := make(map[string]any, len(doc)+2)
	for k, v := range doc {
		out[k] = v
	}
	out["@odata.context"] = c.ContextURL(fragment)
	out["@odata.etag"] = etag(o)
	c.W.Header().Set("ETag", etag(o))
	return out
}

// writeObject stores doc as o's data (insert when o.Version is 0, else a guarded
// update) and returns the stored object.
func writeObject(ctx context.Context, tx store.Tx, o store.Object, doc map[string]any) (store.Object, error) {
	data, err := docjson.Marshal(doc)
	if err != nil {
		return o, err
	}
	o.Data = data
	if o.Version == 0 {
		err = tx.InsertObject(ctx, &o)
	} else {
		err = tx.UpdateObject(ctx, &o)
	}
	return o, err
}

// changeRecord is one change of a user or group, for the change log.
type changeRecord struct {
	tenant, kind, id, changeType string
	before, after                map[string]any
	membersDelta, ownersDelta    []map[string]any
	at                           time.Time
}

// record appends the change record with the directory's topics and notice.
func record(ctx context.Context, tx store.Tx, r changeRecord) error {
	n := change.Notice{ID: r.id, Directory: true, MembersDelta: r.membersDelta, OwnersDelta: r.ownersDelta}
	var topics []string
	if r.kind == identity.KindGroup {
		topics = []string{change.Groups(), change.Group(r.id)}
		// A purged group's membership ends with it: subscriptions on its members
		// hear of the deletion.
		if len(r.membersDelta) > 0 || (r.changeType == store.Deleted && r.after == nil) {
			topics = append(topics, change.GroupMembers(r.id))
		}
		if len(r.ownersDelta) > 0 {
			topics = append(topics, change.GroupOwners(r.id))
		}
		n.Resource, n.ODataType = "Groups/"+r.id, noticeTypeGroup
	} else {
		topics = []string{change.Users(), change.User(r.id)}
		n.Resource, n.ODataType = "Users/"+r.id, noticeTypeUser
	}
	n.ODataID = n.Resource
	before, err := marshalDoc(r.before)
	if err != nil {
		return err
	}
	after, err := marshalDoc(r.after)
	if err != nil {
		return err
	}
	return change.Record(ctx, tx, r.tenant, r.kind, r.id, r.changeType, topics, before, after, n, r.at)
}

func marshalDoc(doc map[string]any) ([]byte, error) {
	if doc == nil {
		return nil, nil
	}
	return docjson.Marshal(doc)
}

// linkDelta is one entry of members@delta / owners@delta.
func linkDelta(objectType, id string, removed bool) map[string]any {
	d := map[string]any{"@odata.type": objectType, "id": id}
	if removed {
		d["@removed"] = "deleted"
	}
	return d
}
