package directory

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/delta"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// deltaSpec describes one delta endpoint.
type deltaSpec struct {
	kind    string
	topic   string
	path    string // users or groups: the collection, also the context fragment
	schema  *schema
	read    []string
	members bool // groups carry members@delta
}

var (
	userDelta  = deltaSpec{kind: identity.KindUser, topic: change.Users(), path: "users", schema: userSchema, read: readAllUsers}
	groupDelta = deltaSpec{kind: identity.KindGroup, topic: change.Groups(), path: "groups", schema: groupSchema, read: readGroups, members: true}
)

func (w *Workload) usersDelta(c *httpapi.Ctx) error  { return w.serveDelta(c, userDelta) }
func (w *Workload) groupsDelta(c *httpapi.Ctx) error { return w.serveDelta(c, groupDelta) }

// maxDeltaPage bounds Prefer: odata.maxpagesize.
const maxDeltaPage = 999

// deltaPageSize reads Prefer: odata.maxpagesize. Preferences are hints: a malformed or
// out-of-range one is ignored, as HTTP says a server may.
func deltaPageSize(c *httpapi.Ctx) (size int, applied bool) {
	for _, h := range c.R.Header.Values("Prefer") {
		for _, pref := range strings.Split(h, ",") {
			name, val, ok := strings.Cut(strings.TrimSpace(pref), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "odata.maxpagesize") {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`))
			if err == nil && n >= 1 && n <= maxDeltaPage {
				return n, true
			}
		}
	}
	return defaultDeltaPage, false
}

// serveDelta answers one round trip of a delta query. The first round (no token)
// lists the live objects by id, one page per request; its last page hands out a
// deltaLink positioned where the log stood when the round began. Later rounds read the
// change log from there through internal/delta.
func (w *Workload) serveDelta(c *httpapi.Ctx, spec deltaSpec) error {
	p := c.Principal
	if err := inDirectory(p, spec.read); err != nil {
		return err
	}
	for _, opt := range []string{"$filter", "$orderby", "$top", "$expand", "$search", "$count"} {
		if c.HasQuery(opt) {
			return graph.Errorf(http.StatusBadRequest, codeUnsupported, "The query option '%s' is not supported with delta queries on %s.", opt, spec.path)
		}
	}
	size, applied := deltaPageSize(c)
	if applied {
		c.W.Header().Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(size))
	}
	var tok delta.Token
	latest := false
	switch {
	case c.HasQuery("$deltatoken") && strings.EqualFold(c.Query("$deltatoken"), "latest"):
		latest = true
		fallthrough
	case !c.HasQuery("$deltatoken") && !c.HasQuery("$skiptoken"):
		fields, err := spec.schema.parseSelect(c.Query("$select"))
		if err != nil {
			return err
		}
		tok = delta.Token{Initial: !latest, Topic: spec.topic, Seq: -1}
		if fields != nil {
			tok.Options = map[string]string{"$select": strings.Join(fields, ",")}
		}
	default:
		raw := c.Query("$deltatoken")
		if !c.HasQuery("$deltatoken") {
			raw = c.Query("$skiptoken")
		}
		var err error
		if tok, err = delta.Decode(raw, spec.topic); err != nil || tok.Seq < 0 {
			return delta.SyncStateNotFound()
		}
	}
	fields, err := spec.schema.parseSelect(tok.Options["$select"])
	if err != nil {
		return delta.SyncStateNotFound() // only a forged token carries a bad $select
	}
	out := map[string]any{"@odata.context": c.ContextURL(spec.path)}
	var value []map[string]any
	var next delta.Token
	more := false
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		if tok.Seq < 0 {
			seq, err := delta.Latest(ctx, tx)
			if err != nil {
				return err
			}
			tok.Seq = seq
		}
		if latest {
			next = delta.Token{Seq: tok.Seq, Topic: spec.topic, Options: tok.Options}
			return nil
		}
		if tok.Initial {
			value, next, more, err = initialPage(ctx, tx, p.TenantID, spec, tok, size)
		} else {
			value, next, more, err = changesPage(ctx, tx, p.TenantID, spec, tok, size)
		}
		return err
	})
	if err != nil {
		return err
	}
	if value == nil {
		value = []map[string]any{}
	}
	for i, doc := range value {
		value[i] = odata.Select(doc, fields)
	}
	out["value"] = value
	link := c.ServiceRoot() + "/" + spec.path + "/delta?"
	if more {
		out["@odata.nextLink"] = link + "$skiptoken=" + delta.Encode(next)
	} else {
		out["@odata.deltaLink"] = link + "$deltatoken=" + delta.Encode(next)
	}
	return c.JSON(http.StatusOK, out)
}

// checkPosition refuses an initial-round token whose log position the store cannot
// serve (forged, or older than the retained log).
func checkPosition(ctx context.Context, tx store.Tx, seq int64) error {
	first, err := tx.FirstSeq(ctx)
	if err != nil {
		return err
	}
	last, err := tx.LastSeq(ctx)
	if err != nil {
		return err
	}
	if seq > last || (first > 0 && seq < first-1) {
		return delta.SyncStateNotFound()
	}
	return nil
}

// initialPage lists one page of the live objects, after the id the token names.
func initialPage(ctx context.Context, tx store.Tx, tenant string, spec deltaSpec, tok delta.Token, size int) ([]map[string]any, delta.Token, bool, error) {
	if err := checkPosition(ctx, tx, tok.Seq); err != nil {
		return nil, tok, false, err
	}
	objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: tenant, Kind: spec.kind, AfterID: tok.After, Limit: size + 1})
	if err != nil {
		return nil, tok, false, err
	}
	more := len(objs) > size
	objs = objs[:min(size, len(objs))]
	value := make([]map[string]any, 0, len(objs))
	for _, o := range objs {
		doc, err := decodeView(o, spec.schema)
		if err != nil {
			return nil, tok, false, err
		}
		if spec.members {
			if doc["members@delta"], err = currentMembers(ctx, tx, o); err != nil {
				return nil, tok, false, err
			}
		}
		value = append(value, doc)
	}
	next := delta.Token{Seq: tok.Seq, Topic: spec.topic, Options: tok.Options}
	if more {
		next.Initial, next.After = true, objs[len(objs)-1].ID
	}
	return value, next, more, nil
}

// currentMembers is members@delta of an initial round: every live member, read with
// its link in one query.
func currentMembers(ctx context.Context, tx store.Tx, g store.Object) ([]map[string]any, error) {
	members, err := tx.ListObjects(ctx, links(g.Tenant, memberRel, g.ID, "", userSchema).query(nil))
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, o := range members {
		out = append(out, linkDelta(odataTypeOf(o.Kind), o.ID, false))
	}
	return out, nil
}

// changesPage lists the objects that changed after the token's log position, each
// once in its latest state, or as @removed.
func changesPage(ctx context.Context, tx store.Tx, tenant string, spec deltaSpec, tok delta.Token, size int) ([]map[string]any, delta.Token, bool, error) {
	entries, seq, more, err := delta.Page(ctx, tx, tenant, spec.topic, tok.Seq, size)
	if err != nil {
		return nil, tok, false, err
	}
	var value []map[string]any
	for _, e := range entries {
		if e.Kind != spec.kind {
			continue
		}
		var doc map[string]any
		if !e.Removed {
			if err := json.Unmarshal(e.After, &doc); err != nil {
				return nil, tok, false, err
			}
		}
		switch {
		case e.Removed:
			doc = map[string]any{"id": e.ID, "@removed": map[string]any{"reason": removedReasonPurge}}
		case isSoftDeleted(doc):
			doc = map[string]any{"id": e.ID, "@removed": map[string]any{"reason": removedReasonSoft}}
		case spec.members:
			md, err := membersSince(ctx, tx, tenant, e.ID, tok.Seq, seq)
			if err != nil {
				return nil, tok, false, err
			}
			if len(md) > 0 {
				doc["members@delta"] = md
			}
		}
		value = append(value, doc)
	}
	return value, delta.Token{Seq: seq, Topic: spec.topic, Options: tok.Options}, more, nil
}

// membersSince folds the membership changes of group g in the log window (after,
// upTo] into members@delta: each object once, as its last change left it.
func membersSince(ctx context.Context, tx store.Tx, tenant, g string, after, upTo int64) ([]map[string]any, error) {
	changes, err := tx.ListChanges(ctx, tenant, change.GroupMembers(g), after, 0)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	index := map[string]int{}
	for i := range changes {
		if changes[i].Seq > upTo {
			break
		}
		n, err := change.NoticeOf(&changes[i])
		if err != nil {
			return nil, err
		}
		for _, d := range n.MembersDelta {
			id, _ := d["id"].(string)
			if j, ok := index[id]; ok {
				out[j] = d
				continue
			}
			index[id] = len(out)
			out = append(out, d)
		}
	}
	return out, nil
}
