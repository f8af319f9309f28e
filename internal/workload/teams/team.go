package teams

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Channel limits, as Teams enforces them.
const (
	maxChannelName = 50
	maxChannels    = 1000 // per team, deleted ones included in Teams; here live ones
	channelBadChar = "~#%&*{}+/\\:<>?|'\""
)

// threadID makes a Teams thread id: 19:{32 hex}@{suffix}.
func threadID(suffix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return "19:" + hex.EncodeToString(b) + "@" + suffix
}

// teamSettings are the settings objects a team is created with, and Graph's defaults.
var teamSettings = map[string]map[string]any{
	"memberSettings": {"allowCreateUpdateChannels": true, "allowDeleteChannels": true, "allowAddRemoveApps": true,
		"allowCreateUpdateRemoveTabs": true, "allowCreateUpdateRemoveConnectors": true, "allowCreatePrivateChannels": true},
	"guestSettings":     {"allowCreateUpdateChannels": false, "allowDeleteChannels": false},
	"messagingSettings": {"allowUserEditMessages": true, "allowUserDeleteMessages": true, "allowOwnerDeleteMessages": true, "allowTeamMentions": true, "allowChannelMentions": true},
	"funSettings":       {"allowGiphy": true, "giphyContentRating": "moderate", "allowStickersAndMemes": true, "allowCustomMemes": true},
}

func (w *Workload) loadTeam(ctx context.Context, tx store.Tx, tenant, id string) (map[string]any, error) {
	_, doc, err := rest.Load(ctx, tx, tenant, KindTeam, strings.ToLower(id), graph.Errorf(http.StatusNotFound, codeNotFound, "No team found with Group Id %s", id))
	return doc, err
}

// teamAccess loads a team and checks that a delegated caller is on its roster.
func (w *Workload) teamAccess(ctx context.Context, tx store.Tx, p *identity.Principal, team string) (map[string]any, error) {
	doc, err := w.loadTeam(ctx, tx, p.TenantID, team)
	if err != nil {
		return nil, err
	}
	if p.Type.Delegated() {
		ok, err := identity.IsGroupMember(ctx, tx, p.TenantID, rest.Str(doc["id"]), p.UserID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, notMember("team")
		}
	}
	return doc, nil
}

// createTeam makes the team of a Unified group and its General channel.
func (w *Workload) createTeam(ctx context.Context, tx store.Tx, p *identity.Principal, group string, settings map[string]any, now time.Time) (map[string]any, error) {
	gid := strings.ToLower(group)
	g, err := tx.GetObject(ctx, p.TenantID, identity.KindGroup, gid)
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.Deleted) {
		return nil, graph.Errorf(http.StatusNotFound, codeNotFound, "Group '%s' was not found.", group)
	}
	if err != nil {
		return nil, err
	}
	gdoc, err := rest.Decode(g.Data)
	if err != nil {
		return nil, err
	}
	types, _ := gdoc["groupTypes"].([]any)
	if !slices.ContainsFunc(types, func(t any) bool { return strings.EqualFold(rest.Str(t), "Unified") }) {
		return nil, graph.BadRequest("Group '%s' is not a Microsoft 365 (Unified) group; only those can have a team.", group)
	}
	if p.Type.Delegated() {
		ok, err := identity.IsGroupMember(ctx, tx, p.TenantID, gid, p.UserID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, notMember("group")
		}
	}
	general := threadID("thread.tacv2")
	visibility := strings.ToLower(rest.Str(gdoc["visibility"]))
	if visibility == "" {
		visibility = "public"
	}
	team := map[string]any{
		"id":                          gid,
		"createdDateTime":             graph.FormatTime(now),
		"displayName":                 gdoc["displayName"],
		"description":                 gdoc["description"],
		"internalId":                  general,
		"classification":              nil,
		"specialization":              "none",
		"visibility":                  visibility,
		"webUrl":                      "https://teams.microsoft.com/l/team/" + url.PathEscape(general) + "/conversations?groupId=" + gid + "&tenantId=" + p.TenantID,
		"isArchived":                  false,
		"isMembershipLimitedToOwners": false,
		"tenantId":                    p.TenantID,
		"summary":                     nil,
	}
	for name, defaults := range teamSettings {
		merged := map[string]any{}
		for k, v := range defaults {
			merged[k] = v
		}
		if given, ok := settings[name]; ok {
			m, ok := given.(map[string]any)
			if !ok {
				return nil, graph.BadRequest("Invalid value for '%s': an object expected.", name)
			}
			for k, v := range m {
				if _, known := defaults[k]; !known {
					return nil, graph.BadRequest("Property '%s' does not exist on '%s'.", k, name)
				}
				merged[k] = v
			}
		}
		team[name] = merged
	}
	data, _ := json.Marshal(team)
	err = tx.InsertObject(ctx, &store.Object{Tenant: p.TenantID, Kind: KindTeam, ID: gid, Data: data, Created: now, Updated: now})
	if errors.Is(err, store.ErrConflict) {
		return nil, graph.Errorf(http.StatusConflict, graph.CodeConflict, "The group '%s' already has a team.", group)
	}
	if err != nil {
		return nil, err
	}
	if err := teamChange(p.TenantID, gid, store.Created, nil, team).record(ctx, tx, now); err != nil {
		return nil, err
	}
	if _, err := w.insertChannel(ctx, tx, p.TenantID, gid, general, "General", "", now); err != nil {
		return nil, err
	}
	return team, nil
}

func (w *Workload) putGroupTeam(c *httpapi.Ctx) error {
	p := c.Principal
	if err := teamCreate.Check(p); err != nil {
		return err
	}
	body := map[string]any{}
	if c.R.ContentLength != 0 {
		var err error
		if body, err = c.DecodeObject(); err != nil {
			return err
		}
	}
	body = httpapi.StripAnnotations(body)
	return rest.Write(c, w.st, http.StatusCreated, "teams/$entity", func(ctx context.Context, tx store.Tx) (map[string]any, error) {
		return w.createTeam(ctx, tx, p, c.Param("group"), body, c.Now)
	})
}

// postTeam creates a team with a template, the way Graph's POST /teams does: from an
// existing group (group@odata.bind) or with a new Microsoft 365 group; 202 Accepted
// with the operation to poll in Location.
func (w *Workload) postTeam(c *httpapi.Ctx) error {
	p := c.Principal
	if err := teamCreate.Check(p); err != nil {
		return err
	}
	body, err := c.DecodeObject()
	if err != nil {
		return err
	}
	if _, ok := bindID(body["template@odata.bind"], "teamsTemplates"); !ok {
		return graph.BadRequest("'template@odata.bind' is required, for example \"https://graph.microsoft.com/v1.0/teamsTemplates('standard')\".")
	}
	group, fromGroup := bindID(body["group@odata.bind"], "groups")
	if _, given := body["group@odata.bind"]; given && !fromGroup {
		return graph.BadRequest("Invalid value for 'group@odata.bind': a group URL such as \"https://graph.microsoft.com/v1.0/groups('{id}')\" is expected.")
	}
	var fresh *directory.UnifiedGroup
	if !fromGroup {
		var err error
		if fresh, err = w.newTeamGroup(p, body); err != nil {
			return err
		}
	}
	settings := httpapi.StripAnnotations(body)
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		if fresh != nil {
			id, err := directory.CreateUnifiedGroup(ctx, tx, *fresh, c.Now)
			if err != nil {
				return err
			}
			group = id
		}
		_, err := w.createTeam(ctx, tx, p, group, settings, c.Now)
		return err
	})
	if err != nil {
		return err
	}
	gid := strings.ToLower(group)
	c.W.Header().Set("Location", "/teams('"+gid+"')/operations('"+uuid.NewString()+"')")
	c.W.Header().Set("Content-Location", "/teams('"+gid+"')")
	return c.Write(http.StatusAccepted, "", nil)
}

// newTeamGroup reads the group a POST /teams without group@odata.bind creates:
// displayName and description from the body, owners and members from "members"
// (conversationMember objects with user@odata.bind and roles). A delegated caller is
// an owner; an application caller must name at least one owner, as Teams requires.
func (w *Workload) newTeamGroup(p *identity.Principal, body map[string]any) (*directory.UnifiedGroup, error) {
	name, _ := body["displayName"].(string)
	if strings.TrimSpace(name) == "" {
		return nil, graph.BadRequest("'displayName' is required to create a new team (or bind an existing group with 'group@odata.bind').")
	}
	desc, _ := body["description"].(string)
	t, _ := w.ident.Tenant(p.TenantID)
	g := &directory.UnifiedGroup{Tenant: p.TenantID, Domain: t.Domain, DisplayName: name, Description: desc}
	if p.Type.Delegated() {
		g.Owners = append(g.Owners, p.UserID)
	}
	list, _ := body["members"].([]any)
	if v, ok := body["members"]; ok && list == nil && v != nil {
		return nil, graph.BadRequest("Invalid value for 'members': an array of conversationMember objects expected.")
	}
	for _, m := range list {
		mm, _ := m.(map[string]any)
		user, ok := bindID(mm["user@odata.bind"], "users")
		if !ok {
			return nil, graph.BadRequest("Each member needs 'user@odata.bind', for example \"https://graph.microsoft.com/v1.0/users('{id}')\".")
		}
		owner := false
		roles, _ := mm["roles"].([]any)
		for _, r := range roles {
			owner = owner || strings.EqualFold(rest.Str(r), "owner")
		}
		if owner {
			g.Owners = append(g.Owners, user)
		} else {
			g.Members = append(g.Members, user)
		}
	}
	// A team's owners are members of its group too.
	g.Members = append(g.Members, g.Owners...)
	if len(g.Owners) == 0 {
		return nil, graph.BadRequest("An owner is required: add a member with roles [\"owner\"] when creating a team with application permissions.")
	}
	delete(body, "members")
	return g, nil
}

// getOperation reports a team operation. Creation is synchronous here, so every
// operation of an existing team has succeeded.
func (w *Workload) getOperation(c *httpapi.Ctx) error {
	p := c.Principal
	if err := teamRead.Check(p); err != nil {
		return err
	}
	var team map[string]any
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		team, err = w.teamAccess(ctx, tx, p, c.Param("team"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"@odata.context": c.ContextURL("teams('" + rest.Str(team["id"]) + "')/operations/$entity"),
		"id":             c.Param("op"), "operationType": "createTeam", "status": "succeeded",
		"createdDateTime": team["createdDateTime"], "lastActionDateTime": team["createdDateTime"], "attemptsCount": 1,
		"targetResourceId": team["id"], "targetResourceLocation": "/teams('" + rest.Str(team["id"]) + "')", "error": nil,
	})
}

func (w *Workload) getTeam(c *httpapi.Ctx) error { return w.serveTeam(c, c.Param("team")) }

func (w *Workload) getGroupTeam(c *httpapi.Ctx) error { return w.serveTeam(c, c.Param("group")) }

func (w *Workload) serveTeam(c *httpapi.Ctx, id string) error {
	p := c.Principal
	if err := teamRead.Check(p); err != nil {
		return err
	}
	return rest.Get(c, w.st, "teams/$entity", func(ctx context.Context, tx store.Tx) (map[string]any, error) {
		return w.teamAccess(ctx, tx, p, id)
	})
}

func (w *Workload) joinedTeams(c *httpapi.Ctx) error {
	p := c.Principal
	if err := teamRead.Check(p); err != nil {
		return err
	}
	var value []map[string]any
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		u, _, err := userDoc(ctx, tx, p.TenantID, c.Param("user"))
		if err != nil {
			return err
		}
		if p.Type.Delegated() && u.ID != p.UserID {
			return graph.Errorf(http.StatusForbidden, codeForbidden, "A delegated caller can only list its own joined teams.")
		}
		teams, err := joinedTeamObjects(ctx, tx, p.TenantID, u.ID)
		if err != nil {
			return err
		}
		for _, t := range teams {
			doc, err := rest.Decode(t.Data)
			if err != nil {
				return err
			}
			value = append(value, map[string]any{"id": doc["id"], "displayName": doc["displayName"], "description": doc["description"],
				"isArchived": doc["isArchived"], "tenantId": doc["tenantId"]})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rest.Counted(c, "teams", value)
}

func (w *Workload) insertChannel(ctx context.Context, tx store.Tx, tenant, team, id, name, description string, now time.Time) (map[string]any, error) {
	ch := map[string]any{
		"id":                  id,
		"createdDateTime":     graph.FormatTime(now),
		"displayName":         name,
		"description":         nilIfEmpty(description),
		"isFavoriteByDefault": nil,
		"email":               "",
		"tenantId":            tenant,
		"webUrl":              "https://teams.microsoft.com/l/channel/" + url.PathEscape(id) + "/" + url.PathEscape(name) + "?groupId=" + team + "&tenantId=" + tenant,
		"membershipType":      "standard",
		"isArchived":          false,
	}
	data, _ := json.Marshal(ch)
	if err := tx.InsertObject(ctx, &store.Object{Tenant: tenant, Kind: KindChannel, ID: id, Owner: team, Data: data, Created: now, Updated: now}); err != nil {
		return nil, err
	}
	return ch, channelChange(tenant, team, id, store.Created, nil, ch).record(ctx, tx, now)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// loadChannel loads a channel of a team; 404 when it is not there.
func (w *Workload) loadChannel(ctx context.Context, tx store.Tx, tenant, team, id string) (map[string]any, error) {
	o, err := tx.GetObject(ctx, tenant, KindChannel, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !strings.EqualFold(o.Owner, team)) {
		return nil, graph.Errorf(http.StatusNotFound, codeNotFound, "Channel '%s' was not found in team '%s'.", id, team)
	}
	if err != nil {
		return nil, err
	}
	return rest.Decode(o.Data)
}

func (w *Workload) listChannels(c *httpapi.Ctx) error {
	p := c.Principal
	if err := channelRead.Check(p); err != nil {
		return err
	}
	var value []map[string]any
	var teamID string
	err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		team, err := w.teamAccess(ctx, tx, p, c.Param("team"))
		if err != nil {
			return err
		}
		teamID = rest.Str(team["id"])
		objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: p.TenantID, Kind: KindChannel, Owner: teamID})
		if err != nil {
			return err
		}
		for _, o := range objs {
			doc, err := rest.Decode(o.Data)
			if err != nil {
				return err
			}
			value = append(value, doc)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortStableFunc(value, func(a, b map[string]any) int {
		return strings.Compare(rest.Str(a["createdDateTime"]), rest.Str(b["createdDateTime"]))
	})
	return rest.Counted(c, "teams('"+teamID+"')/channels", value)
}

func (w *Workload) getChannel(c *httpapi.Ctx) error {
	return w.serveChannel(c, "channels", func(map[string]any) string { return c.Param("channel") })
}

func (w *Workload) getPrimaryChannel(c *httpapi.Ctx) error {
	return w.serveChannel(c, "primaryChannel", func(team map[string]any) string { return rest.Str(team["internalId"]) })
}

// serveChannel answers the channel pick names in the team of the path; slot is its
// navigation property in the @odata.context. Team ids are stored lower case.
func (w *Workload) serveChannel(c *httpapi.Ctx, slot string, pick func(team map[string]any) string) error {
	p := c.Principal
	if err := channelRead.Check(p); err != nil {
		return err
	}
	fragment := "teams('" + strings.ToLower(c.Param("team")) + "')/" + slot + "/$entity"
	return rest.Get(c, w.st, fragment, func(ctx context.Context, tx store.Tx) (map[string]any, error) {
		team, err := w.teamAccess(ctx, tx, p, c.Param("team"))
		if err != nil {
			return nil, err
		}
		return w.loadChannel(ctx, tx, p.TenantID, rest.Str(team["id"]), pick(team))
	})
}

func (w *Workload) createChannel(c *httpapi.Ctx) error {
	p := c.Principal
	if err := channelCreate.Check(p); err != nil {
		return err
	}
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	name, ok := body["displayName"].(string)
	name = strings.TrimSpace(name)
	switch {
	case !ok || name == "":
		return graph.BadRequest("The channel's displayName is required.")
	case len([]rune(name)) > maxChannelName:
		return graph.BadRequest("The channel's displayName can have at most %d characters.", maxChannelName)
	case strings.ContainsAny(name, channelBadChar):
		return graph.BadRequest("The channel's displayName cannot contain any of %s.", channelBadChar)
	}
	desc, _ := body["description"].(string)
	if v, ok := body["description"]; ok && v != nil && desc == "" && v != "" {
		return graph.BadRequest("Invalid value for 'description': a string expected.")
	}
	if mt, ok := body["membershipType"]; ok && mt != nil && !strings.EqualFold(rest.Str(mt), "standard") {
		return graph.Errorf(http.StatusBadRequest, graph.CodeNotSupported, "graphhook supports standard channels only; membershipType '%v' is not supported.", mt)
	}
	var ch map[string]any
	var teamID string
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		team, err := w.teamAccess(ctx, tx, p, c.Param("team"))
		if err != nil {
			return err
		}
		teamID = rest.Str(team["id"])
		existing, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: p.TenantID, Kind: KindChannel, Owner: teamID})
		if err != nil {
			return err
		}
		if len(existing) >= maxChannels {
			return graph.BadRequest("The team already has the maximum of %d channels.", maxChannels)
		}
		for _, o := range existing {
			doc, err := rest.Decode(o.Data)
			if err != nil {
				return err
			}
			if strings.EqualFold(rest.Str(doc["displayName"]), name) {
				return graph.Errorf(http.StatusBadRequest, "NameAlreadyExists", "Channel name already existed, please use other name.")
			}
		}
		ch, err = w.insertChannel(ctx, tx, p.TenantID, teamID, threadID("thread.tacv2"), name, desc, c.Now)
		return err
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusCreated, "teams('"+teamID+"')/channels/$entity", ch)
}
