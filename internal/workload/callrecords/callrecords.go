// Package callrecords is the Teams call records workload: GET
// /communications/callRecords/{id} (with $expand=sessions($expand=segments)) and the
// list, application permission CallRecords.Read.All only, as in Graph.
//
// Graph has no API to create call records: Teams writes them after a call and revises
// them (an increasing version) as late data arrives. graphhook does both through its
// admin API: POST creates version 1 and records a "created" change; each PATCH makes
// the next version and records an "updated" change. Both touch the topic
// communications/callRecords.
package callrecords

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Kind is the store kind of a call record.
const Kind = "callRecord"

// Page sizes of the list.
const (
	defaultTop = 60
	maxTop     = 60
)

// readPerms: call records are for applications only.
var readPerms = rest.Permissions{
	Application: []string{"CallRecords.Read.All"},
	NoDelegated: "Call records are only available with application permissions (CallRecords.Read.All); delegated calls are not supported.",
}

// Workload serves call records.
type Workload struct {
	st    store.Store
	ident *identity.Service
}

// New returns the call records workload.
func New(st store.Store, ident *identity.Service) *Workload {
	return &Workload{st: st, ident: ident}
}

// Routes registers the Graph routes.
func (w *Workload) Routes(r *httpapi.Router) {
	r.Handle("GET", "communications/callRecords", w.list)
	r.Handle("GET", "communications/callRecords/{id}", w.get)
}

// AdminRoutes registers the admin routes.
func (w *Workload) AdminRoutes(r *httpapi.Router) {
	r.Handle("POST", "tenants/{tenant}/communications/callRecords", w.adminCreate)
	r.Handle("PATCH", "tenants/{tenant}/communications/callRecords/{id}", w.adminPatch)
}

func notFound(id string) error {
	return graph.Errorf(http.StatusNotFound, "NotFound", "Call record '%s' was not found.", id)
}

func load(ctx context.Context, tx store.Tx, tenant, id string) (store.Object, map[string]any, error) {
	o, err := tx.GetObject(ctx, tenant, Kind, strings.ToLower(id))
	if errors.Is(err, store.ErrNotFound) {
		return o, nil, notFound(id)
	}
	if err != nil {
		return o, nil, err
	}
	doc, err := rest.DecodeNumbers(o.Data)
	return o, doc, err
}

// expand is what $expand asked for.
type expand int

const (
	expandNone expand = iota
	expandSessions
	expandSegments
)

var spaces = regexp.MustCompile(`\s+`)

func parseExpand(s string) (expand, error) {
	switch strings.ToLower(spaces.ReplaceAllString(s, "")) {
	case "":
		return expandNone, nil
	case "sessions":
		return expandSessions, nil
	case "sessions($expand=segments)":
		return expandSegments, nil
	}
	return 0, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Invalid $expand '%s': callRecord expands sessions or sessions($expand=segments).", s)
}

// shape cuts a stored record down to what was asked: no sessions unless expanded, no
// segments unless expanded too.
func shape(c *httpapi.Ctx, doc map[string]any, e expand) map[string]any {
	switch e {
	case expandNone:
		delete(doc, "sessions")
	case expandSessions:
		for _, s := range doc["sessions"].([]any) {
			delete(s.(map[string]any), "segments")
		}
		doc["sessions@odata.context"] = c.ContextURL("communications/callRecords('" + rest.Str(doc["id"]) + "')/sessions")
	case expandSegments:
		doc["sessions@odata.context"] = c.ContextURL("communications/callRecords('" + rest.Str(doc["id"]) + "')/sessions(segments())")
	}
	return doc
}

func (w *Workload) get(c *httpapi.Ctx) error {
	p := c.Principal
	if err := readPerms.Check(p); err != nil {
		return err
	}
	e, err := parseExpand(c.Query("$expand"))
	if err != nil {
		return err
	}
	var doc map[string]any
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		_, doc, err = load(ctx, tx, p.TenantID, c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	doc = shape(c, doc, e)
	frag := "communications/callRecords/$entity"
	switch e {
	case expandSessions:
		frag = "communications/callRecords(sessions())/$entity"
	case expandSegments:
		frag = "communications/callRecords(sessions(segments()))/$entity"
	}
	return rest.Entity(c, http.StatusOK, frag, doc)
}

func (w *Workload) list(c *httpapi.Ctx) error {
	p := c.Principal
	if err := readPerms.Check(p); err != nil {
		return err
	}
	top, err := rest.Top(c, defaultTop, maxTop)
	if err != nil {
		return err
	}
	filter, err := rest.Filter(c)
	if err != nil {
		return err
	}
	after := ""
	if _, err := rest.SkipToken(c, &after); err != nil {
		return err
	}
	var docs []map[string]any
	more := false
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		// Page by id through the store; a filter may drop rows, so read on until the
		// page is full or the records run out. The store drops what it can of them
		// itself (recordProp), so that a selective filter does not read every record.
		var where *store.Cond
		if filter != nil {
			where, _ = filter.StoreCond(recordProp)
		}
		for {
			objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: p.TenantID, Kind: Kind, AfterID: after, Limit: 200, Where: where})
			if err != nil {
				return err
			}
			for _, o := range objs {
				doc, err := rest.DecodeNumbers(o.Data)
				if err != nil {
					return err
				}
				if filter != nil && !filter.Match(doc) {
					after = o.ID
					continue
				}
				if len(docs) == top {
					more = true
					return nil
				}
				docs = append(docs, doc)
				after = o.ID
			}
			if len(objs) < 200 {
				return nil
			}
		}
	})
	if err != nil {
		return err
	}
	value := make([]map[string]any, 0, len(docs))
	for _, d := range docs {
		value = append(value, shape(c, d, expandNone))
	}
	next := ""
	if more {
		next = rest.NextToken(c, rest.Str(docs[len(docs)-1]["id"]))
	}
	return rest.Collection(c, "communications/callRecords", value, next)
}

func (w *Workload) record(ctx context.Context, tx store.Tx, o *store.Object, doc map[string]any, changeType string, before []byte, c *httpapi.Ctx) error {
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	o.Data, o.Updated = data, c.Now
	if changeType == store.Created {
		err = tx.InsertObject(ctx, o)
	} else {
		err = tx.UpdateObject(ctx, o)
	}
	if errors.Is(err, store.ErrConflict) {
		return graph.Errorf(http.StatusConflict, graph.CodeConflict, "A call record with id '%s' already exists; PATCH it to make a new version.", o.ID)
	}
	if err != nil {
		return err
	}
	res := "communications/callRecords/" + o.ID
	return change.Record(ctx, tx, o.Tenant, Kind, o.ID, changeType, []string{change.CallRecords()}, before, data,
		change.Notice{Resource: res, ODataType: "#Microsoft.Graph.callRecord", ODataID: res, ID: o.ID}, c.Now)
}

// readBody reads an admin body. Only the record's own annotations are dropped: nested
// ones stay, because Graph serves derived types such as the participantEndpoint of a
// session's caller with their @odata.type.
func readBody(c *httpapi.Ctx) (map[string]any, error) {
	body, err := c.DecodeObject()
	if err != nil {
		return nil, err
	}
	for k := range body {
		if strings.Contains(k, "@") {
			delete(body, k)
		}
	}
	return body, nil
}

func (w *Workload) adminCreate(c *httpapi.Ctx) error {
	t, err := admin.Tenant(w.ident, c.Param("tenant"))
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if err := checkBody(body); err != nil {
		return err
	}
	id := uuid.NewString()
	if s, ok := body["id"].(string); ok {
		if uuid.Validate(s) != nil {
			return admin.BadRequest("Invalid call record id '%s': a GUID expected.", s)
		}
		id = strings.ToLower(s)
	}
	doc := newRecord(body, id, c.Now)
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		return w.record(ctx, tx, &store.Object{Tenant: t.ID, Kind: Kind, ID: id, Created: c.Now}, doc, store.Created, nil, c)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, doc)
}

func (w *Workload) adminPatch(c *httpapi.Ctx) error {
	t, err := admin.Tenant(w.ident, c.Param("tenant"))
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if err := checkBody(body); err != nil {
		return err
	}
	if s, ok := body["id"].(string); ok && !strings.EqualFold(s, c.Param("id")) {
		return admin.BadRequest("The body's id '%s' differs from the record's id '%s' in the path.", s, c.Param("id"))
	}
	var doc map[string]any
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, cur, err := load(ctx, tx, t.ID, c.Param("id"))
		if err != nil {
			return err
		}
		before := o.Data
		nextVersion(cur, body, c.Now)
		doc = cur
		return w.record(ctx, tx, &o, doc, store.Updated, before, c)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, doc)
}

// recordStoreProps are the call record properties the store compares for a list
// $filter (the service writes lastModifiedDateTime itself, in graph.TimeLayout;
// the other times come from admin bodies in any RFC 3339 form and are left to memory).
var recordStoreProps = []store.Prop{
	{Path: "id"}, {Path: "type"}, {Path: "joinWebUrl"},
	{Path: "organizer/user/id"}, {Path: "organizer/user/displayName"},
	{Path: "lastModifiedDateTime", Type: store.PropTime, Layout: graph.TimeLayout},
}

func recordProp(path string) (store.Prop, bool) {
	for _, p := range recordStoreProps {
		if strings.EqualFold(p.Path, path) {
			return p, true
		}
	}
	return store.Prop{}, false
}
