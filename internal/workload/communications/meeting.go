package communications

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

const noMeetings = "Online meetings are not available for personal Microsoft accounts."

// Permissions of the onlineMeeting API, after Microsoft's "Create onlineMeeting",
// "Get onlineMeeting", "Update onlineMeeting" and "Delete onlineMeeting" pages.
var (
	meetingRead  = rest.Permissions{Delegated: []string{"OnlineMeetings.Read", "OnlineMeetings.ReadWrite"}, Application: []string{"OnlineMeetings.Read.All", "OnlineMeetings.ReadWrite.All"}, Personal: noMeetings}
	meetingWrite = rest.Permissions{Delegated: []string{"OnlineMeetings.ReadWrite"}, Application: []string{"OnlineMeetings.ReadWrite.All"}, Personal: noMeetings}
)

// meetingProps are the properties a create or update body may set, with the JSON
// type each takes ("string", "time", "object", "bool").
var meetingProps = map[string]string{
	"subject": "string", "startDateTime": "time", "endDateTime": "time", "externalId": "string",
	"participants": "object", "lobbyBypassSettings": "object", "allowedPresenters": "string",
	"allowMeetingChat": "string", "allowTeamworkReactions": "bool", "isEntryExitAnnounced": "bool",
	"recordAutomatically": "bool", "allowAttendeeToEnableCamera": "bool", "allowAttendeeToEnableMic": "bool",
	"allowRecording": "bool", "allowTranscription": "bool",
}

// meetingReadOnly are server-set properties a body copied from a GET may carry;
// their values are ignored.
var meetingReadOnly = []string{"id", "creationDateTime", "joinWebUrl", "joinUrl", "chatInfo", "joinMeetingIdSettings", "videoTeleconferenceId"}

func meetingNotFound(id string) error {
	return graph.Errorf(http.StatusNotFound, "NotFound", "Online meeting '%s' was not found.", id)
}

func badMeeting(format string, args ...any) error {
	return graph.Errorf(http.StatusBadRequest, "InvalidArgument", format, args...)
}

// checkMeetingBody validates a create or update body.
func checkMeetingBody(body map[string]any) error {
	for k, v := range body {
		if strings.Contains(k, "@") || slices.Contains(meetingReadOnly, k) {
			continue
		}
		kind, ok := meetingProps[k]
		if !ok {
			return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Property '%s' does not exist on type 'microsoft.graph.onlineMeeting'.", k)
		}
		if v == nil {
			continue
		}
		bad := false
		switch kind {
		case "string":
			_, isStr := v.(string)
			bad = !isStr
		case "time":
			s, isStr := v.(string)
			_, err := graph.ParseTime(s)
			bad = !isStr || err != nil
		case "object":
			_, isObj := v.(map[string]any)
			bad = !isObj
		case "bool":
			_, isBool := v.(bool)
			bad = !isBool
		}
		if bad {
			return badMeeting("Invalid value for property '%s'.", k)
		}
	}
	if p, ok := body["participants"].(map[string]any); ok {
		for k := range p {
			if k != "attendees" && k != "organizer" && k != "contributors" && k != "producers" {
				return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Property '%s' does not exist on type 'microsoft.graph.meetingParticipants'.", k)
			}
		}
		if a, ok := p["attendees"]; ok && a != nil {
			if _, ok := a.([]any); !ok {
				return badMeeting("Invalid value for property 'participants/attendees'.")
			}
		}
	}
	return nil
}

// threadEscaper escapes a thread id in a join link the way Teams does (lower-case hex).
var threadEscaper = strings.NewReplacer(":", "%3a", "@", "%40")

// joinWebURL builds a Teams meeting join link for the meeting thread, with the
// tenant and organizer in its context, as Teams writes them.
func joinWebURL(thread, tenant, organizer string) string {
	return "https://teams.microsoft.com/l/meetup-join/" + threadEscaper.Replace(thread) +
		"/0?context=%7b%22Tid%22%3a%22" + tenant + "%22%2c%22Oid%22%3a%22" + organizer + "%22%7d"
}

// newMeeting builds a meeting from a create body. Its id encodes the organizer and
// the meeting's chat thread, as Graph's do (base64url here, so that ids need no
// escaping in paths).
func newMeeting(body map[string]any, tenant string, organizer store.Object, organizerDoc map[string]any, now string) map[string]any {
	thread := "19:meeting_" + base64URL(uuid.NewString()) + "@thread.v2"
	id := base64URL("1*" + organizer.ID + "*0**" + thread)
	doc := map[string]any{
		"id": id, "creationDateTime": now, "startDateTime": now, "endDateTime": nil,
		"joinWebUrl": joinWebURL(thread, tenant, organizer.ID), "subject": nil, "externalId": nil,
		"videoTeleconferenceId": nil, "allowedPresenters": "everyone", "allowMeetingChat": "enabled",
		"allowTeamworkReactions": true, "isEntryExitAnnounced": true, "recordAutomatically": false,
		"allowAttendeeToEnableCamera": true, "allowAttendeeToEnableMic": true, "allowRecording": true, "allowTranscription": true,
		"lobbyBypassSettings": map[string]any{"scope": "organization", "isDialInBypassEnabled": false},
		"chatInfo":            map[string]any{"threadId": thread, "messageId": "0", "replyChainMessageId": nil},
		"joinMeetingIdSettings": map[string]any{
			"joinMeetingId": fmt.Sprintf("%d", 100000000000+rand.Int64N(900000000000)), "passcode": randomPasscode(), "isPasscodeRequired": true,
		},
	}
	organizerIdentity := map[string]any{"user": map[string]any{"id": organizer.ID, "displayName": organizerDoc["displayName"], "tenantId": tenant, "identityProvider": "AAD"}}
	participants := map[string]any{
		"organizer": map[string]any{"identity": organizerIdentity, "upn": organizerDoc["userPrincipalName"], "role": "presenter"},
		"attendees": []any{},
	}
	for k, v := range body {
		if strings.Contains(k, "@") || slices.Contains(meetingReadOnly, k) || v == nil {
			continue
		}
		if k == "participants" {
			if a, ok := v.(map[string]any)["attendees"]; ok && a != nil {
				participants["attendees"] = a
			}
			continue
		}
		doc[k] = v
	}
	doc["participants"] = participants
	if doc["endDateTime"] == nil {
		start, _ := graph.ParseTime(rest.Str(doc["startDateTime"]))
		doc["endDateTime"] = graph.FormatTime(start.Add(time.Hour))
	}
	return doc
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func randomPasscode() string {
	const letters = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	b := make([]byte, 6)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}

// meetingOwner finds the organizer a /users/{id}/onlineMeetings path names and checks
// that a delegated caller is that user: Graph serves meetings through /me only.
func meetingOwner(ctx context.Context, tx store.Tx, p *identity.Principal, idOrUPN string) (store.Object, map[string]any, error) {
	u, doc, err := user(ctx, tx, p.TenantID, idOrUPN)
	if err != nil {
		return u, nil, err
	}
	if p.Type.Delegated() && u.ID != p.UserID {
		return u, nil, graph.Errorf(http.StatusForbidden, "Forbidden", "A delegated caller may use only its own online meetings (/me/onlineMeetings).")
	}
	return u, doc, nil
}

// loadMeeting reads a meeting of the organizer.
func loadMeeting(ctx context.Context, tx store.Tx, tenant, organizer, id string) (store.Object, map[string]any, error) {
	o, err := tx.GetObject(ctx, tenant, KindOnlineMeeting, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && organizer != "" && o.Owner != organizer) {
		return o, nil, meetingNotFound(id)
	}
	if err != nil {
		return o, nil, err
	}
	doc, err := rest.DecodeNumbers(o.Data)
	return o, doc, err
}

func meetingContext(userID string) string {
	return "users('" + userID + "')/onlineMeetings/$entity"
}

func (w *Workload) createMeeting(c *httpapi.Ctx) error {
	p := c.Principal
	if err := meetingWrite.Check(p); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	if err := checkMeetingBody(body); err != nil {
		return err
	}
	var doc map[string]any
	var owner string
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		u, udoc, err := meetingOwner(ctx, tx, p, c.Param("user"))
		if err != nil {
			return err
		}
		owner = u.ID
		doc = newMeeting(body, p.TenantID, u, udoc, graph.FormatTime(c.Now))
		data, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		return tx.InsertObject(ctx, &store.Object{Tenant: p.TenantID, Kind: KindOnlineMeeting, ID: rest.Str(doc["id"]),
			Owner: u.ID, Alt: rest.Str(doc["joinWebUrl"]), Data: data, Created: c.Now, Updated: c.Now})
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusCreated, meetingContext(owner), doc)
}

func (w *Workload) getMeeting(c *httpapi.Ctx) error {
	p := c.Principal
	if err := meetingRead.Check(p); err != nil {
		return err
	}
	var doc map[string]any
	var owner string
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		u, _, err := meetingOwner(ctx, tx, p, c.Param("user"))
		if err != nil {
			return err
		}
		owner = u.ID
		_, doc, err = loadMeeting(ctx, tx, p.TenantID, u.ID, c.Param("meeting"))
		return err
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, meetingContext(owner), doc)
}

// joinWebURLFilter is the one $filter the meeting list takes.
var joinWebURLFilter = regexp.MustCompile(`(?i)^\s*joinWebUrl\s+eq\s+'(.*)'\s*$`)

// listMeetings answers GET /users/{id}/onlineMeetings, which Graph serves only as a
// lookup by join link: $filter=JoinWebUrl eq '{url}'.
func (w *Workload) listMeetings(c *httpapi.Ctx) error {
	p := c.Principal
	if err := meetingRead.Check(p); err != nil {
		return err
	}
	m := joinWebURLFilter.FindStringSubmatch(c.Query("$filter"))
	if m == nil {
		return badMeeting("Filter expression expected - /onlineMeetings?$filter=JoinWebUrl eq 'joinUrl'.")
	}
	link := strings.ReplaceAll(m[1], "''", "'")
	var value []map[string]any
	var owner string
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		u, _, err := meetingOwner(ctx, tx, p, c.Param("user"))
		if err != nil {
			return err
		}
		owner = u.ID
		value = []map[string]any{}
		o, err := tx.GetObjectByAlt(ctx, p.TenantID, KindOnlineMeeting, link)
		if errors.Is(err, store.ErrNotFound) || (err == nil && o.Owner != u.ID) {
			return nil
		}
		if err != nil {
			return err
		}
		doc, err := rest.DecodeNumbers(o.Data)
		value = append(value, doc)
		return err
	})
	if err != nil {
		return err
	}
	return rest.Collection(c, "users('"+owner+"')/onlineMeetings", value, "")
}

func (w *Workload) patchMeeting(c *httpapi.Ctx) error {
	p := c.Principal
	if err := meetingWrite.Check(p); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	if err := checkMeetingBody(body); err != nil {
		return err
	}
	var doc map[string]any
	var owner string
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		u, _, err := meetingOwner(ctx, tx, p, c.Param("user"))
		if err != nil {
			return err
		}
		owner = u.ID
		o, cur, err := loadMeeting(ctx, tx, p.TenantID, u.ID, c.Param("meeting"))
		if err != nil {
			return err
		}
		for k, v := range body {
			if strings.Contains(k, "@") || slices.Contains(meetingReadOnly, k) {
				continue
			}
			if k == "participants" {
				// Only the attendees change; the organizer is the meeting's.
				pm, _ := v.(map[string]any)
				if a, ok := pm["attendees"]; ok {
					if a == nil {
						a = []any{}
					}
					cur["participants"].(map[string]any)["attendees"] = a
				}
				continue
			}
			cur[k] = v
		}
		doc = cur
		if o.Data, err = json.Marshal(doc); err != nil {
			return err
		}
		o.Updated = c.Now
		return tx.UpdateObject(ctx, &o)
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, meetingContext(owner), doc)
}

// deleteMeeting removes the meeting for good. Its change record (a deletion nobody
// subscribes to) is what removes the subscriptions on its call events, transcripts
// and recordings, each told with subscriptionRemoved where it has a lifecycle URL.
func (w *Workload) deleteMeeting(c *httpapi.Ctx) error {
	p := c.Principal
	if err := meetingWrite.Check(p); err != nil {
		return err
	}
	err := rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		u, _, err := meetingOwner(ctx, tx, p, c.Param("user"))
		if err != nil {
			return err
		}
		o, _, err := loadMeeting(ctx, tx, p.TenantID, u.ID, c.Param("meeting"))
		if err != nil {
			return err
		}
		if err := tx.DeleteObject(ctx, o.Tenant, o.Kind, o.ID); err != nil {
			return err
		}
		res := "users/" + u.ID + "/onlineMeetings/" + o.ID
		return record(ctx, tx, &o, store.Deleted, []string{change.OnlineMeeting(o.ID)}, o.Data, nil,
			change.Notice{Resource: res, ODataType: "#Microsoft.Graph.onlineMeeting", ODataID: res, ID: o.ID}, c)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// callEventTypes are the call events of a meeting Graph notifies about.
var callEventTypes = []string{"callStarted", "rosterUpdated", "callEnded"}

// adminCallEvent makes a call event of a meeting, as a Teams client would by
// starting, joining or ending the meeting's call.
func (w *Workload) adminCallEvent(c *httpapi.Ctx) error {
	t, err := admin.Tenant(w.ident, c.Param("tenant"))
	if err != nil {
		return err
	}
	body, err := admin.Object(c)
	if err != nil {
		return err
	}
	for k := range body {
		if k != "callEventType" && k != "eventDateTime" && k != "participants" {
			return admin.BadRequest("Property '%s' does not exist on type 'microsoft.graph.callEvent'.", k)
		}
	}
	kind, _ := body["callEventType"].(string)
	if !slices.Contains(callEventTypes, kind) {
		return admin.BadRequest("Invalid value '%v' for property 'callEventType'; expected one of: %s.", body["callEventType"], strings.Join(callEventTypes, ", "))
	}
	at := graph.FormatTime(c.Now)
	if v, ok := body["eventDateTime"]; ok && v != nil {
		s, _ := v.(string)
		if _, err := graph.ParseTime(s); err != nil {
			return admin.BadRequest("Invalid value for property 'eventDateTime': a DateTimeOffset (RFC 3339) string expected.")
		}
		at = s
	}
	participants := []any{}
	if v, ok := body["participants"]; ok && v != nil {
		arr, ok := v.([]any)
		if !ok {
			return admin.BadRequest("Invalid value for property 'participants': an array of participant objects expected.")
		}
		for _, e := range arr {
			if _, ok := e.(map[string]any); !ok {
				return admin.BadRequest("Invalid value for property 'participants': an array of participant objects expected.")
			}
		}
		participants = arr
	}
	doc := map[string]any{"id": uuid.NewString(), "callEventType": kind, "eventDateTime": at, "participants": participants}
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		m, _, err := loadMeeting(ctx, tx, t.ID, "", c.Param("meeting"))
		if err != nil {
			return err
		}
		data, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		o := store.Object{Tenant: t.ID, Kind: KindCallEvent, ID: rest.Str(doc["id"]), Owner: m.ID, Data: data, Created: c.Now, Updated: c.Now}
		if err := tx.InsertObject(ctx, &o); err != nil {
			return err
		}
		// Every call event reaches the subscriber as "updated" on the meeting's call
		// events; the event's own callEventType says what happened.
		res := "communications/onlineMeetings('" + m.ID + "')/meetingCallEvents('" + o.ID + "')"
		return record(ctx, tx, &o, store.Updated, []string{change.MeetingCallEvents(m.ID)}, nil, data,
			change.Notice{Resource: res, ODataType: "#Microsoft.Graph.callEvent", ODataID: res, ID: o.ID, Rich: true}, c)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, doc)
}
