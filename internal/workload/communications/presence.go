package communications

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

const noPresence = "Presence is not available for personal Microsoft accounts."

// Permissions of the presence API, after Microsoft's "Get presence",
// "getPresencesByUserId", "setPresence" and "clearPresence" pages. Reading one's own
// presence needs only Presence.Read (checked in readPresence).
var (
	presenceRead  = rest.Permissions{Delegated: []string{"Presence.Read", "Presence.Read.All", "Presence.ReadWrite"}, Application: []string{"Presence.Read.All", "Presence.ReadWrite.All"}, Personal: noPresence}
	presenceBulk  = rest.Permissions{Delegated: []string{"Presence.Read.All"}, Application: []string{"Presence.Read.All", "Presence.ReadWrite.All"}, Personal: noPresence}
	presenceWrite = rest.Permissions{Delegated: []string{"Presence.ReadWrite"}, Application: []string{"Presence.ReadWrite.All"}, Personal: noPresence}
)

// maxPresenceIDs is Graph's limit of user ids in getPresencesByUserId and in a
// presence subscription's $filter.
const maxPresenceIDs = 650

// setPresence's accepted availability/activity pairs.
var presencePairs = map[string][]string{
	"Available":    {"Available"},
	"Busy":         {"InACall", "InAConferenceCall"},
	"Away":         {"Away"},
	"DoNotDisturb": {"Presenting"},
}

// rank orders availabilities when sessions are aggregated: the most restrictive
// wins, and an idle Away gives way to any active session.
var rank = map[string]int{"Away": 1, "Available": 2, "Busy": 3, "DoNotDisturb": 4}

// Bounds and default of setPresence's expirationDuration.
const (
	minSession     = 5 * time.Minute
	maxSession     = 4 * time.Hour
	defaultSession = 5 * time.Minute
)

// session is one app's presence session, as setPresence made it.
type session struct {
	ID           string    `json:"sessionId"`
	Availability string    `json:"availability"`
	Activity     string    `json:"activity"`
	Set          time.Time `json:"setDateTime"`
	Expires      time.Time `json:"expirationDateTime"`
}

// presenceState is the stored presence object: the sessions; the representation
// is derived from them.
type presenceState struct {
	Sessions []session `json:"sessions"`
}

// view is the presence resource as Graph returns it: the highest-ranked live
// session (the latest one among equals), or Offline when none is live.
func (s *presenceState) view(userID string, now time.Time) map[string]any {
	availability, activity := "Offline", "Offline"
	var best *session
	for i := range s.Sessions {
		x := &s.Sessions[i]
		if !x.Expires.After(now) {
			continue
		}
		if best == nil || rank[x.Availability] > rank[best.Availability] ||
			(rank[x.Availability] == rank[best.Availability] && !x.Set.Before(best.Set)) {
			best = x
		}
	}
	if best != nil {
		availability, activity = best.Availability, best.Activity
	}
	return map[string]any{
		"id": userID, "availability": availability, "activity": activity,
		"statusMessage":       nil,
		"outOfOfficeSettings": map[string]any{"message": nil, "isOutOfOffice": false},
	}
}

// loadPresence reads a user's presence state (empty when never set).
func loadPresence(ctx context.Context, tx store.Tx, tenant, userID string) (store.Object, presenceState, bool, error) {
	var st presenceState
	o, err := tx.GetObject(ctx, tenant, KindPresence, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Object{Tenant: tenant, Kind: KindPresence, ID: userID}, st, false, nil
	}
	if err != nil {
		return o, st, false, err
	}
	err = json.Unmarshal(o.Data, &st)
	return o, st, true, err
}

// readPresence checks the caller may read userID's presence: its own with any read
// permission, another user's with Presence.Read.All.
func readPresence(p *identity.Principal, userID string) error {
	if err := presenceRead.Check(p); err != nil {
		return err
	}
	if p.Type.Delegated() && userID != p.UserID && !p.Has("Presence.Read.All") {
		return graph.MissingPermissions(true, []string{"Presence.Read.All"}, p.SortedPermissions())
	}
	return nil
}

func (w *Workload) getPresence(c *httpapi.Ctx) error {
	p := c.Principal
	if err := presenceRead.Check(p); err != nil {
		return err
	}
	var doc map[string]any
	var userID string
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		u, _, err := user(ctx, tx, p.TenantID, c.Param("user"))
		if err != nil {
			return err
		}
		userID = u.ID
		if err := readPresence(p, u.ID); err != nil {
			return err
		}
		_, st, _, err := loadPresence(ctx, tx, p.TenantID, u.ID)
		doc = st.view(u.ID, c.Now)
		return err
	})
	if err != nil {
		return err
	}
	frag := "users('" + userID + "')/presence/$entity"
	if strings.EqualFold(c.Segments[0], "communications") {
		frag = "communications/presences/$entity"
	}
	return rest.Entity(c, http.StatusOK, frag, doc)
}

func (w *Workload) getPresencesByUserID(c *httpapi.Ctx) error {
	p := c.Principal
	if err := presenceBulk.Check(p); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	for k := range body {
		if k != "ids" {
			return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Property '%s' does not exist on the getPresencesByUserId action.", k)
		}
	}
	ids, err := presenceIDs(body["ids"])
	if err != nil {
		return err
	}
	var value []map[string]any
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		value = value[:0]
		for _, id := range ids {
			u, err := tx.GetObject(ctx, p.TenantID, identity.KindUser, id)
			if errors.Is(err, store.ErrNotFound) || (err == nil && u.Deleted) {
				// Graph leaves out the ids it does not know.
				continue
			}
			if err != nil {
				return err
			}
			_, st, _, err := loadPresence(ctx, tx, p.TenantID, u.ID)
			if err != nil {
				return err
			}
			value = append(value, st.view(u.ID, c.Now))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if value == nil {
		value = []map[string]any{}
	}
	return rest.Collection(c, "Collection(microsoft.graph.presence)", value, "")
}

// presenceIDs checks the ids of getPresencesByUserId: user object ids (GUIDs), one
// to 650, duplicates dropped.
func presenceIDs(v any) ([]string, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "The 'ids' parameter must be a non-empty array of user object ids.")
	}
	if len(arr) > maxPresenceIDs {
		return nil, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "The number of ids exceeds the limit of %d.", maxPresenceIDs)
	}
	var ids []string
	for _, e := range arr {
		s, ok := e.(string)
		if !ok || !identity.IsGUID(s) {
			return nil, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Invalid user object id '%v': a GUID expected.", e)
		}
		if s = strings.ToLower(s); !slices.Contains(ids, s) {
			ids = append(ids, s)
		}
	}
	return ids, nil
}

// isoDuration reads the hours and minutes ISO 8601 durations setPresence takes
// (PT5M, PT1H, PT1H30M).
var isoDuration = regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?$`)

func parseDuration(s string) (time.Duration, bool) {
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || (m[1] == "" && m[2] == "") {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mins, _ := strconv.Atoi(m[2])
	return time.Duration(h)*time.Hour + time.Duration(mins)*time.Minute, true
}

func badPresence(format string, args ...any) error {
	return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, format, args...)
}

// presenceBody reads a setPresence or clearPresence body: only the named
// properties, sessionId required and a GUID.
func presenceBody(c *httpapi.Ctx, props ...string) (map[string]any, string, error) {
	body, err := c.DecodeObject()
	if err != nil {
		return nil, "", err
	}
	for k := range body {
		if !slices.Contains(props, k) {
			return nil, "", badPresence("Property '%s' does not exist on this action.", k)
		}
	}
	sid, _ := body["sessionId"].(string)
	if sid == "" {
		return nil, "", badPresence("The 'sessionId' parameter is required.")
	}
	if !identity.IsGUID(sid) {
		return nil, "", badPresence("Invalid 'sessionId' '%s': the application id (a GUID) expected.", sid)
	}
	return body, strings.ToLower(sid), nil
}

// writePresence runs fn on the user's presence state and records an "updated"
// change when the presence a GET returns changed.
func (w *Workload) writePresence(c *httpapi.Ctx, fn func(st *presenceState) error) error {
	p := c.Principal
	if err := presenceWrite.Check(p); err != nil {
		return err
	}
	return rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		u, _, err := user(ctx, tx, p.TenantID, c.Param("user"))
		if err != nil {
			return err
		}
		if p.Type.Delegated() && u.ID != p.UserID {
			return graph.Errorf(http.StatusForbidden, "Forbidden", "A delegated caller may set only its own presence.")
		}
		o, st, exists, err := loadPresence(ctx, tx, p.TenantID, u.ID)
		if err != nil {
			return err
		}
		beforeView := st.view(u.ID, c.Now)
		// Expired sessions no longer count; drop them as the state is rewritten.
		st.Sessions = slices.DeleteFunc(st.Sessions, func(s session) bool { return !s.Expires.After(c.Now) })
		if err := fn(&st); err != nil {
			return err
		}
		data, err := json.Marshal(st)
		if err != nil {
			return err
		}
		o.Data, o.Updated = data, c.Now
		if exists {
			err = tx.UpdateObject(ctx, &o)
		} else {
			o.Created = c.Now
			err = tx.InsertObject(ctx, &o)
		}
		if err != nil {
			return err
		}
		afterView := st.view(u.ID, c.Now)
		if afterView["availability"] == beforeView["availability"] && afterView["activity"] == beforeView["activity"] {
			return nil
		}
		before, _ := json.Marshal(beforeView)
		after, _ := json.Marshal(afterView)
		res := "communications/presences/" + u.ID
		return record(ctx, tx, &o, store.Updated, []string{change.Presences(), change.Presence(u.ID)}, before, after,
			change.Notice{Resource: res, ODataType: "#Microsoft.Graph.presence", ODataID: res, ID: u.ID, Rich: true}, c)
	})
}

func (w *Workload) setPresence(c *httpapi.Ctx) error {
	var body map[string]any
	var sid string
	var err error
	if body, sid, err = presenceBody(c, "sessionId", "availability", "activity", "expirationDuration"); err != nil {
		return err
	}
	availability, _ := body["availability"].(string)
	activity, _ := body["activity"].(string)
	if availability == "" || activity == "" {
		return badPresence("The 'availability' and 'activity' parameters are required.")
	}
	if !slices.Contains(presencePairs[availability], activity) {
		return badPresence("The availability '%s' and activity '%s' combination is not supported.", availability, activity)
	}
	d := defaultSession
	if v, ok := body["expirationDuration"]; ok && v != nil {
		s, _ := v.(string)
		var ok bool
		if d, ok = parseDuration(s); !ok {
			return badPresence("Invalid 'expirationDuration' '%v': an ISO 8601 duration such as PT1H expected.", v)
		}
		if d < minSession || d > maxSession {
			return badPresence("The 'expirationDuration' must be between PT5M and PT4H.")
		}
	}
	err = w.writePresence(c, func(st *presenceState) error {
		st.Sessions = slices.DeleteFunc(st.Sessions, func(s session) bool { return s.ID == sid })
		st.Sessions = append(st.Sessions, session{ID: sid, Availability: availability, Activity: activity, Set: c.Now, Expires: c.Now.Add(d)})
		return nil
	})
	if err != nil {
		return err
	}
	return c.Write(http.StatusOK, "", nil)
}

func (w *Workload) clearPresence(c *httpapi.Ctx) error {
	_, sid, err := presenceBody(c, "sessionId")
	if err != nil {
		return err
	}
	err = w.writePresence(c, func(st *presenceState) error {
		n := len(st.Sessions)
		st.Sessions = slices.DeleteFunc(st.Sessions, func(s session) bool { return s.ID == sid })
		if len(st.Sessions) == n {
			return graph.Errorf(http.StatusNotFound, graph.CodeResourceNotFound, "The presence session '%s' does not exist.", sid)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.Write(http.StatusOK, "", nil)
}
