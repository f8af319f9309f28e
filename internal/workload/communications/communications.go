// Package communications is the cloud communications workload beyond call records:
// users' presence (GET, getPresencesByUserId, setPresence, clearPresence), online
// meetings (/users/{id}/onlineMeetings), and the meetings' call events, transcripts
// and recordings.
//
// Graph has no API an app can call to start a meeting's call or to make Teams write a
// transcript or a recording: those happen in Teams clients. graphhook makes them
// through its admin API (internal/admin/README.md), the way call records are made, so
// that a test can cause each change an app subscribes to:
//
//	POST /_graphhook/tenants/{t}/onlineMeetings/{id}/callEvents   a call event
//	POST /_graphhook/tenants/{t}/onlineMeetings/{id}/transcripts  a transcript
//	POST /_graphhook/tenants/{t}/onlineMeetings/{id}/recordings   a recording
//
// Every change is recorded with the API representation a GET returns, which is what
// rich notifications (includeResourceData) encrypt.
package communications

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
)

// Store kinds.
const (
	// KindPresence is a user's presence (id = user id).
	KindPresence = "presence"
	// KindOnlineMeeting is an online meeting (owner = organizer, alt = joinWebUrl).
	KindOnlineMeeting = "onlineMeeting"
	// KindCallEvent is one call event of a meeting (owner = meeting id).
	KindCallEvent = "callEvent"
	// KindTranscript and KindRecording are a meeting's artifacts (owner = meeting id,
	// parent = organizer id).
	KindTranscript = "callTranscript"
	KindRecording  = "callRecording"
)

// Workload serves presence and online meetings.
type Workload struct {
	st    store.Store
	ident *identity.Service
}

// New returns the communications workload.
func New(st store.Store, ident *identity.Service) *Workload {
	return &Workload{st: st, ident: ident}
}

// Routes registers the Graph routes.
func (w *Workload) Routes(r *httpapi.Router) {
	r.Handle("GET", "users/{user}/presence", w.getPresence)
	r.Handle("GET", "communications/presences/{user}", w.getPresence)
	r.Handle("POST", "communications/getPresencesByUserId", w.getPresencesByUserID)
	r.Handle("POST", "users/{user}/presence/setPresence", w.setPresence)
	r.Handle("POST", "users/{user}/presence/clearPresence", w.clearPresence)

	r.Handle("POST", "users/{user}/onlineMeetings", w.createMeeting)
	r.Handle("GET", "users/{user}/onlineMeetings", w.listMeetings)
	r.Handle("GET", "users/{user}/onlineMeetings/{meeting}", w.getMeeting)
	r.Handle("PATCH", "users/{user}/onlineMeetings/{meeting}", w.patchMeeting)
	r.Handle("DELETE", "users/{user}/onlineMeetings/{meeting}", w.deleteMeeting)

	for _, a := range artifacts {
		r.Handle("GET", "users/{user}/onlineMeetings/{meeting}/"+a.segment, w.listArtifacts(a))
		r.Handle("GET", "users/{user}/onlineMeetings/{meeting}/"+a.segment+"/{id}", w.getArtifact(a))
		r.Handle("GET", "users/{user}/onlineMeetings/{meeting}/"+a.segment+"/{id}/content", w.getArtifactContent(a))
	}
}

// AdminRoutes registers the admin routes that stand in for Teams clients.
func (w *Workload) AdminRoutes(r *httpapi.Router) {
	r.Handle("POST", "tenants/{tenant}/onlineMeetings/{meeting}/callEvents", w.adminCallEvent)
	for _, a := range artifacts {
		r.Handle("POST", "tenants/{tenant}/onlineMeetings/{meeting}/"+a.segment, w.adminArtifact(a))
	}
}

// userNotFound is Entra's answer for a user path that names nobody.
func userNotFound(id string) error {
	return graph.Errorf(http.StatusNotFound, graph.CodeRequestResourceNotFound,
		"Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

// user finds a live user of the tenant by id or user principal name.
func user(ctx context.Context, tx store.Tx, tenant, idOrUPN string) (store.Object, map[string]any, error) {
	o, err := directory.ResolveUser(ctx, tx, tenant, idOrUPN)
	if errors.Is(err, store.ErrNotFound) {
		return o, nil, userNotFound(idOrUPN)
	}
	if err != nil {
		return o, nil, err
	}
	var doc map[string]any
	err = json.Unmarshal(o.Data, &doc)
	return o, doc, err
}

// record stores the change of an object with its notice; after is the API
// representation (nil for a deletion).
func record(ctx context.Context, tx store.Tx, o *store.Object, changeType string, topics []string, before, after []byte, n change.Notice, c *httpapi.Ctx) error {
	return change.Record(ctx, tx, o.Tenant, o.Kind, o.ID, changeType, topics, before, after, n, c.Now)
}
