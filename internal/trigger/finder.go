package trigger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Placeholders are the names samples may use in their paths and bodies; a request's
// params may set any of them. {id} is the object an updated or deleted change
// changes (made first with the created change when not given); {thread} is a group
// conversation's thread.
var Placeholders = []string{"tenant", "user", "group", "team", "channel", "chat", "site", "list", "drive", "meeting", "todoList", "thread", "id"}

// finder finds (or creates) the object a placeholder stands for, in the run's tenant,
// through the Graph API.
type finder func(ctx context.Context, r *run) (string, error)

// finderOf returns the finder of a placeholder; nil for the run's own ({tenant},
// {user}, {id}).
func finderOf(name string) finder {
	switch name {
	case "group":
		return findGroup
	case "team":
		return findTeam
	case "channel":
		return findChannel
	case "chat":
		return findChat
	case "site":
		return findSite
	case "list":
		return findList
	case "drive":
		return findDrive
	case "meeting":
		return findMeeting
	case "todoList":
		return findTodoList
	case "thread":
		return findThread
	}
	return nil
}

// freshOf returns how to make a new object of a placeholder a deleting change gets
// anew each time (nil when the placeholder has none).
func freshOf(name string) finder {
	switch name {
	case "user":
		return newUser
	case "group":
		return newGroup
	}
	return nil
}

// resolve returns the value of placeholder name, finding it the first time.
func (r *run) resolve(ctx context.Context, name string) (string, error) {
	if v, ok := r.vars[name]; ok {
		return v, nil
	}
	f := finderOf(name)
	if f == nil {
		return "", badRequest("Type '%s' needs the parameter '%s', which trigger cannot find by itself; set it.", r.d.Type, name)
	}
	v, err := f(ctx, r)
	if err != nil {
		return "", err
	}
	r.vars[name] = v
	return v, nil
}

// get sends a GET as an app holding one of perms and returns the answer's object.
func (r *run) get(ctx context.Context, path string, perms ...string) (map[string]any, error) {
	resp, err := r.c.do(ctx, asApp(perms...), "GET", path, "")
	if err != nil {
		return nil, err
	}
	return resp.object(), nil
}

// post sends a POST (or PUT) of a JSON body as an app holding one of perms and
// returns the answer's id.
func (r *run) post(ctx context.Context, method, path string, body any, perms ...string) (string, error) {
	data, _ := json.Marshal(body)
	resp, err := r.c.do(ctx, asApp(perms...), method, path, string(data))
	if err != nil {
		return "", err
	}
	id, _ := resp.object()["id"].(string)
	if id == "" {
		return "", badRequest("%s %s returned no id.", method, path)
	}
	return id, nil
}

// values returns the "value" array of a collection answer.
func values(m map[string]any) []map[string]any {
	raw, _ := m["value"].([]any)
	var out []map[string]any
	for _, v := range raw {
		if o, ok := v.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// suffix is a short random name part for objects trigger creates.
func suffix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var (
	readUsers   = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	readGroups  = []string{"Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	writeGroups = []string{"Group.ReadWrite.All", "Directory.ReadWrite.All"}
)

// findGroup: the first group the user is a member of (group conversations are read
// by members), else the tenant's first group, else a new Microsoft 365 group.
func findGroup(ctx context.Context, r *run) (string, error) {
	m, err := r.get(ctx, "users/"+url.PathEscape(r.vars["user"])+"/memberOf", readGroups...)
	if err != nil {
		return "", err
	}
	for _, g := range values(m) {
		if strings.Contains(str(g["@odata.type"]), "group") || g["@odata.type"] == nil {
			return str(g["id"]), nil
		}
	}
	if m, err = r.get(ctx, "groups?$top=1", readGroups...); err != nil {
		return "", err
	}
	if gs := values(m); len(gs) > 0 {
		return str(gs[0]["id"]), nil
	}
	return newGroup(ctx, r)
}

// newGroup creates a Microsoft 365 group with the user as member and owner.
func newGroup(ctx context.Context, r *run) (string, error) {
	s := suffix()
	bind := "https://graph.microsoft.com/v1.0/users/" + r.vars["user"]
	return r.post(ctx, "POST", "groups", map[string]any{
		"displayName": "graphhook trigger " + s, "mailNickname": "trigger-" + s, "mailEnabled": true, "securityEnabled": false,
		"groupTypes": []string{"Unified"}, "members@odata.bind": []string{bind}, "owners@odata.bind": []string{bind},
	}, writeGroups...)
}

// newUser creates a user, for a change that deletes one.
func newUser(ctx context.Context, r *run) (string, error) {
	s := suffix()
	t, _ := r.t.cfg.Identity.Tenant(r.tenant)
	return r.post(ctx, "POST", "users", map[string]any{
		"accountEnabled": true, "displayName": "graphhook trigger " + s, "mailNickname": "trigger-" + s,
		"userPrincipalName": "trigger-" + s + "@" + t.Domain,
		"passwordProfile":   map[string]any{"password": "Trigger-" + s + "!", "forceChangePasswordNextSignIn": false},
	}, "User.ReadWrite.All", "Directory.ReadWrite.All")
}

// findTeam: the team of {group}, made a team when it is not one yet.
func findTeam(ctx context.Context, r *run) (string, error) {
	group, err := r.resolve(ctx, "group")
	if err != nil {
		return "", err
	}
	path := "groups/" + url.PathEscape(group) + "/team"
	resp, err := r.c.do(ctx, asApp(readGroups...), "GET", path, "")
	switch {
	case err == nil && str(resp.object()["id"]) != "":
		return str(resp.object()["id"]), nil
	case err != nil && resp.status != 404:
		return "", err
	}
	return r.post(ctx, "PUT", path, map[string]any{}, "Team.Create", "Group.ReadWrite.All")
}

// findChannel: the primary channel of {team}.
func findChannel(ctx context.Context, r *run) (string, error) {
	team, err := r.resolve(ctx, "team")
	if err != nil {
		return "", err
	}
	m, err := r.get(ctx, "teams/"+url.PathEscape(team)+"/primaryChannel", "Channel.ReadBasic.All", "ChannelSettings.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All")
	if err != nil {
		return "", err
	}
	return str(m["id"]), nil
}

// findChat: the user's one-on-one chat with the tenant's first other user. Teams
// keeps one such chat per pair, so creating it finds it when it exists.
func findChat(ctx context.Context, r *run) (string, error) {
	m, err := r.get(ctx, "users?$top=2", readUsers...)
	if err != nil {
		return "", err
	}
	other := ""
	for _, u := range values(m) {
		if id := str(u["id"]); !strings.EqualFold(id, r.vars["user"]) && other == "" {
			other = id
		}
	}
	if other == "" {
		return "", badRequest("Tenant %s has a single user; a chat needs two.", r.tenant)
	}
	member := func(id string) map[string]any {
		return map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": []string{"owner"},
			"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + id + "')"}
	}
	return r.post(ctx, "POST", "chats", map[string]any{"chatType": "oneOnOne", "members": []any{member(r.vars["user"]), member(other)}}, "Chat.Create")
}

// findSite: the tenant's root site.
func findSite(ctx context.Context, r *run) (string, error) {
	m, err := r.get(ctx, "sites/root", "Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All")
	if err != nil {
		return "", err
	}
	return str(m["id"]), nil
}

// triggerList is the display name of the list trigger finds or creates.
const triggerList = "graphhook trigger"

// findList: the list of {site} named "graphhook trigger", created when missing.
func findList(ctx context.Context, r *run) (string, error) {
	site, err := r.resolve(ctx, "site")
	if err != nil {
		return "", err
	}
	path := "sites/" + url.PathEscape(site) + "/lists"
	m, err := r.get(ctx, path, "Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All")
	if err != nil {
		return "", err
	}
	for _, l := range values(m) {
		if strings.EqualFold(str(l["displayName"]), triggerList) {
			return str(l["id"]), nil
		}
	}
	return r.post(ctx, "POST", path, map[string]any{"displayName": triggerList, "list": map[string]any{"template": "genericList"}}, "Sites.Manage.All", "Sites.ReadWrite.All", "Sites.FullControl.All")
}

// findDrive: the user's OneDrive.
func findDrive(ctx context.Context, r *run) (string, error) {
	m, err := r.get(ctx, "users/"+url.PathEscape(r.vars["user"])+"/drive", "Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All")
	if err != nil {
		return "", err
	}
	return str(m["id"]), nil
}

// findMeeting: a new online meeting organised by the user, tomorrow (Graph lists a
// user's meetings only by join URL, so there is none to find).
func findMeeting(ctx context.Context, r *run) (string, error) {
	start := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Hour)
	return r.post(ctx, "POST", "users/"+url.PathEscape(r.vars["user"])+"/onlineMeetings", map[string]any{
		"subject":       triggerList,
		"startDateTime": start.Format(time.RFC3339),
		"endDateTime":   start.Add(30 * time.Minute).Format(time.RFC3339),
	}, "OnlineMeetings.ReadWrite.All", "OnlineMeetings.ReadWrite")
}

// findTodoList: the user's first To Do list, created when there is none.
func findTodoList(ctx context.Context, r *run) (string, error) {
	path := "users/" + url.PathEscape(r.vars["user"]) + "/todo/lists"
	m, err := r.get(ctx, path, "Tasks.Read.All", "Tasks.ReadWrite.All", "Tasks.ReadWrite", "Tasks.Read")
	if err != nil {
		return "", err
	}
	if ls := values(m); len(ls) > 0 {
		return str(ls[0]["id"]), nil
	}
	return r.post(ctx, "POST", path, map[string]any{"displayName": triggerList}, "Tasks.ReadWrite.All", "Tasks.ReadWrite")
}

// findThread: the first thread of {group}'s conversations, after starting a
// conversation when it has none.
func findThread(ctx context.Context, r *run) (string, error) {
	group, err := r.resolve(ctx, "group")
	if err != nil {
		return "", err
	}
	path := "groups/" + url.PathEscape(group) + "/threads"
	for attempt := 0; attempt < 2; attempt++ {
		m, err := r.get(ctx, path, readGroups...)
		if err != nil {
			return "", err
		}
		if ts := values(m); len(ts) > 0 {
			return str(ts[0]["id"]), nil
		}
		if attempt == 0 {
			body := map[string]any{"topic": triggerList, "threads": []any{map[string]any{"posts": []any{map[string]any{"body": map[string]any{"contentType": "text", "content": "Hello"}}}}}}
			if _, err := r.post(ctx, "POST", "groups/"+url.PathEscape(group)+"/conversations", body, writeGroups...); err != nil {
				return "", err
			}
		}
	}
	return "", fmt.Errorf("trigger: group %s has no thread after a conversation was started", group)
}
