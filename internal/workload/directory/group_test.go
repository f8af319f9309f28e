package directory_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/testserver"
)

func newGroupBody(nick string) map[string]any {
	return map[string]any{
		"displayName":     "Group " + nick,
		"mailEnabled":     true,
		"mailNickname":    nick,
		"securityEnabled": false,
		"groupTypes":      []string{"Unified"},
	}
}

func TestGroupLifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, tc := range workCallers(env, testserver.BrunoUPN) {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do("POST", "/v1.0/groups", tc.token, newGroupBody("g-"+tc.name))
			if r.Status != http.StatusCreated {
				t.Fatalf("POST /groups = %s, want 201", r)
			}
			created := r.JSON()
			id := str(created, "id")
			if created["mail"] != "g-"+tc.name+"@contoso.onmicrosoft.com" || created["visibility"] != "Public" {
				t.Errorf("POST /groups = %s, want mail and Public visibility", r)
			}
			got, _ := lastChange(t, env, change.Group(id))
			want := changeView{Kind: "group", ID: id, ChangeType: "created", Topics: []string{"groups", "groups/" + id},
				After:  withoutAnnotations(created),
				Notice: change.Notice{Resource: "Groups/" + id, ODataType: "#Microsoft.Graph.Group", ODataID: "Groups/" + id, ID: id, Directory: true}}
			if tc.name == "application" {
				golden(t, env, "group_create", r.Body)
			} else {
				// Created on Bruno's behalf, the group is owned by him.
				want.Topics = append(want.Topics, "groups/"+id+"/owners")
				want.Notice.OwnersDelta = []map[string]any{{"@odata.type": "#microsoft.graph.user", "id": testserver.Bruno}}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("change record of POST /groups (-want +got):\n%s", diff)
			}

			r = env.Do("GET", "/v1.0/groups/"+id, tc.token, nil)
			if r.Status != http.StatusOK || str(r.JSON(), "displayName") != "Group g-"+tc.name {
				t.Fatalf("GET /groups/{id} = %s", r)
			}
			etag := r.Header.Get("ETag")
			if r := env.Do("PATCH", "/v1.0/groups/"+id, tc.token, map[string]any{"description": "renamed", "displayName": "Renamed " + tc.name}, "If-Match", etag); r.Status != http.StatusNoContent {
				t.Fatalf("PATCH /groups/{id} = %s, want 204", r)
			}
			got, _ = lastChange(t, env, change.Group(id))
			if got.ChangeType != "updated" || got.Before["description"] != nil || got.After["description"] != "renamed" {
				t.Errorf("change record of PATCH /groups = %+v", got)
			}
			if r := env.Do("PATCH", "/v1.0/groups/"+id, tc.token, map[string]any{"description": "again"}, "If-Match", etag); r.Status != http.StatusPreconditionFailed {
				t.Fatalf("PATCH with a stale If-Match = %s, want 412", r)
			}

			if r := env.Do("DELETE", "/v1.0/groups/"+id, tc.token, nil); r.Status != http.StatusNoContent {
				t.Fatalf("DELETE /groups/{id} = %s", r)
			}
			got, _ = lastChange(t, env, change.Group(id))
			if got.ChangeType != "updated" || got.After["deletedDateTime"] == nil {
				t.Errorf("change record of soft delete = %+v", got)
			}
			if r := env.Do("GET", "/v1.0/groups/"+id, tc.token, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "Request_ResourceNotFound" {
				t.Fatalf("GET a deleted group = %s, want 404", r)
			}
			r = env.Do("GET", "/v1.0/directory/deletedItems/microsoft.graph.group", tc.token, nil)
			if r.Status != http.StatusOK || !contains(ids(values(t, r)), id) {
				t.Fatalf("GET deletedItems/microsoft.graph.group = %s", r)
			}
			if r := env.Do("POST", "/v1.0/directory/deletedItems/"+id+"/restore", tc.token, nil); r.Status != http.StatusOK || r.JSON()["@odata.type"] != "#microsoft.graph.group" {
				t.Fatalf("restore = %s", r)
			}
			env.Do("DELETE", "/v1.0/groups/"+id, tc.token, nil)
			if r := env.Do("DELETE", "/v1.0/directory/deletedItems/"+id, tc.token, nil); r.Status != http.StatusNoContent {
				t.Fatalf("purge = %s", r)
			}
			got, _ = lastChange(t, env, change.Group(id))
			if got.ChangeType != "deleted" || got.After != nil {
				t.Errorf("change record of purge = %+v", got)
			}
		})
	}
}

func TestGroupGolden(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	for _, tc := range []struct{ name, path string }{
		{"group_get", "/v1.0/groups/" + testserver.SalesGroup},
		{"group_members", "/v1.0/groups/" + testserver.SalesGroup + "/members?$select=displayName,userPrincipalName"},
		{"user_memberof", "/v1.0/users/" + testserver.Chen + "/memberOf?$select=displayName"},
	} {
		r := env.Do("GET", tc.path, app, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s = %s", tc.path, r)
		}
		golden(t, env, tc.name, r.Body)
	}
}

func TestMembersAndOwners(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	eng := "/v1.0/groups/" + testserver.EngGroup
	for _, ref := range []string{
		"https://graph.microsoft.com/v1.0/directoryObjects/" + testserver.Adele,
		env.URL + "/v1.0/users/" + testserver.Bruno,
		"https://example.org/beta/directoryObjects('" + testserver.Chen + "')",
	} {
		r := env.Do("POST", eng+"/members/$ref", app, map[string]any{"@odata.id": ref})
		if ref == "https://example.org/beta/directoryObjects('"+testserver.Chen+"')" {
			// Chen is a member already.
			if r.Status != http.StatusBadRequest || r.ErrorMessage() != "One or more added object references already exist for the following modified properties: 'members'." {
				t.Errorf("POST members/$ref of a member = %s, want 400 duplicate", r)
			}
			continue
		}
		if r.Status != http.StatusNoContent {
			t.Fatalf("POST members/$ref %s = %s, want 204", ref, r)
		}
	}
	got, n := lastChange(t, env, change.GroupMembers(testserver.EngGroup))
	want := []map[string]any{{"@odata.type": "#microsoft.graph.user", "id": testserver.Bruno}}
	if n != 2 || got.ChangeType != "updated" || !cmp.Equal(got.Notice.MembersDelta, want) ||
		!cmp.Equal(got.Topics, []string{"groups", "groups/" + testserver.EngGroup, "groups/" + testserver.EngGroup + "/members"}) {
		t.Errorf("membership change records: %d, last %+v; want 2, last adding Bruno", n, got)
	}
	r := env.Do("GET", eng+"/members", app, nil)
	if diff := cmp.Diff([]string{testserver.Adele, testserver.Bruno, testserver.Chen, "22222222-0000-4000-8000-000000000004"}, ids(values(t, r))); diff != "" {
		t.Errorf("GET members after adds (-want +got):\n%s", diff)
	}
	if r := env.Do("GET", "/v1.0/users/"+testserver.Bruno+"/memberOf", app, nil); !cmp.Equal(ids(values(t, r)), []string{testserver.SalesGroup, testserver.EngGroup}) {
		t.Errorf("GET memberOf = %s, want Sales and Engineering", r)
	}

	if r := env.Do("DELETE", eng+"/members/"+testserver.Bruno+"/$ref", app, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE members/{id}/$ref = %s", r)
	}
	got, _ = lastChange(t, env, change.GroupMembers(testserver.EngGroup))
	want = []map[string]any{{"@odata.type": "#microsoft.graph.user", "id": testserver.Bruno, "@removed": "deleted"}}
	if !cmp.Equal(got.Notice.MembersDelta, want) {
		t.Errorf("removal notice membersDelta = %v, want %v", got.Notice.MembersDelta, want)
	}
	if r := env.Do("DELETE", eng+"/members/"+testserver.Bruno+"/$ref", app, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "Request_ResourceNotFound" {
		t.Errorf("DELETE a non-member = %s, want 404", r)
	}

	if r := env.Do("POST", eng+"/owners/$ref", app, map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + testserver.Chen}); r.Status != http.StatusNoContent {
		t.Fatalf("POST owners/$ref = %s", r)
	}
	got, _ = lastChange(t, env, change.GroupOwners(testserver.EngGroup))
	if !cmp.Equal(got.Notice.OwnersDelta, []map[string]any{{"@odata.type": "#microsoft.graph.user", "id": testserver.Chen}}) || got.Notice.MembersDelta != nil {
		t.Errorf("owner change notice = %+v", got.Notice)
	}
	if r := env.Do("GET", eng+"/owners", app, nil); !cmp.Equal(ids(values(t, r)), []string{testserver.Chen, "22222222-0000-4000-8000-000000000004"}) {
		t.Errorf("GET owners = %s", r)
	}

	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
		code   string
	}{
		{"unknown object", eng + "/members/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/22222222-0000-4000-8000-0000000000ff"}, 404, "Request_ResourceNotFound"},
		{"not a reference", eng + "/members/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/me/messages"}, 400, "Request_BadRequest"},
		{"no @odata.id", eng + "/members/$ref", map[string]any{"id": testserver.Adele}, 400, "Request_BadRequest"},
		{"group into a Microsoft 365 group", eng + "/members/$ref", map[string]any{"@odata.id": "directoryObjects/" + testserver.SalesGroup}, 400, "Request_BadRequest"},
		{"malformed group id", "/v1.0/groups/not-a-guid/members/$ref", map[string]any{"@odata.id": "users/" + testserver.Adele}, 400, "Request_BadRequest"},
		{"unknown group", "/v1.0/groups/33333333-0000-4000-8000-0000000000ff/members/$ref", map[string]any{"@odata.id": "users/" + testserver.Adele}, 404, "Request_ResourceNotFound"},
	} {
		r := env.Do("POST", tc.path, app, tc.body)
		if r.Status != tc.status || r.ErrorCode() != tc.code {
			t.Errorf("%s: POST %s = %s, want %d %s", tc.name, tc.path, r, tc.status, tc.code)
		}
	}
}

func TestGroupPermissions(t *testing.T) {
	t.Parallel()
	env := setup(t)
	readOnly := env.ClientToken(env.AddApp([]string{"Group.Read.All"}, nil))
	memberWriter := env.ClientToken(env.AddApp([]string{"GroupMember.ReadWrite.All"}, nil))
	noGroups := env.ClientToken(env.AddApp([]string{"User.Read.All"}, nil))
	bruno := env.UserToken(testserver.BrunoUPN) // owns nothing in Engineering
	dana := env.UserToken("dana@contoso.onmicrosoft.com")
	eng := "/v1.0/groups/" + testserver.EngGroup
	ref := map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + testserver.Adele}
	for _, tc := range []struct {
		name, token, method, path string
		body                      any
		want                      int
	}{
		{"read-only app reads", readOnly, "GET", eng, nil, 200},
		{"read-only app lists members", readOnly, "GET", eng + "/members", nil, 200},
		{"read-only app creates", readOnly, "POST", "/v1.0/groups", newGroupBody("ro"), 403},
		{"read-only app updates", readOnly, "PATCH", eng, map[string]any{"description": "x"}, 403},
		{"read-only app deletes", readOnly, "DELETE", eng, nil, 403},
		{"read-only app adds a member", readOnly, "POST", eng + "/members/$ref", ref, 403},
		{"no group permission lists", noGroups, "GET", "/v1.0/groups", nil, 403},
		{"GroupMember.ReadWrite.All updates the group", memberWriter, "PATCH", eng, map[string]any{"description": "x"}, 403},
		{"non-owner updates", bruno, "PATCH", eng, map[string]any{"description": "x"}, 403},
		{"non-owner adds a member", bruno, "POST", eng + "/members/$ref", ref, 403},
		{"GroupMember.ReadWrite.All adds a member", memberWriter, "POST", eng + "/members/$ref", ref, 204},
		{"owner updates", dana, "PATCH", eng, map[string]any{"description": "by the owner"}, 204},
	} {
		r := env.Do(tc.method, tc.path, tc.token, tc.body)
		if r.Status != tc.want {
			t.Errorf("%s: %s %s = %s, want %d", tc.name, tc.method, tc.path, r, tc.want)
		}
		if tc.want == 403 && r.ErrorCode() != "Authorization_RequestDenied" {
			t.Errorf("%s: error code %q, want Authorization_RequestDenied", tc.name, r.ErrorCode())
		}
	}
	if n := len(env.Changes(testserver.Tenant, change.Group(testserver.EngGroup))); n != 2 {
		t.Errorf("%d change records on Engineering, want 2 (the allowed member add and PATCH)", n)
	}
}

func TestCreateGroupValidation(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	with := func(k string, v any) map[string]any {
		b := newGroupBody("v")
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	binds := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "https://graph.microsoft.com/v1.0/users/" + testserver.Adele
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		body    map[string]any
		status  int
		message string
	}{
		{"missing displayName", with("displayName", nil), 400, "Invalid value specified for property 'displayName' of resource 'Group'."},
		{"missing mailEnabled", with("mailEnabled", nil), 400, "Invalid value specified for property 'mailEnabled' of resource 'Group'."},
		{"missing mailNickname", with("mailNickname", nil), 400, "Invalid value specified for property 'mailNickname' of resource 'Group'."},
		{"missing securityEnabled", with("securityEnabled", nil), 400, "Invalid value specified for property 'securityEnabled' of resource 'Group'."},
		{"unknown group type", with("groupTypes", []string{"Team"}), 400, "Invalid value specified for property 'groupTypes' of resource 'Group'."},
		{"unknown property", with("colour", "red"), 400, "Property 'colour' does not exist as a declared property or extension property."},
		{"mail-enabled security group", map[string]any{"displayName": "s", "mailEnabled": true, "mailNickname": "s", "securityEnabled": true}, 400, "The service does not currently support writes of mail-enabled groups. Please ensure that the mail-enablement property is unset or is set to false."},
		{"20 binds", with("members@odata.bind", binds(20)), 201, ""},
		{"21 binds", with("members@odata.bind", binds(21)), 400, "A maximum of 20 members and owners combined can be added when a group is created."},
		{"security group", map[string]any{"displayName": "sec", "mailEnabled": false, "mailNickname": "sec", "securityEnabled": true}, 201, ""},
	} {
		r := env.Do("POST", "/v1.0/groups", app, tc.body)
		if r.Status != tc.status || (tc.status == 400 && (r.ErrorMessage() != tc.message || r.ErrorCode() != "Request_BadRequest")) {
			t.Errorf("%s: POST /groups = %s, want %d %q", tc.name, r, tc.status, tc.message)
		}
	}
	// members@odata.bind and owners@odata.bind link at creation, in the same record.
	body := newGroupBody("bound")
	body["members@odata.bind"] = []string{"https://graph.microsoft.com/v1.0/users/" + testserver.Adele}
	body["owners@odata.bind"] = []string{"https://graph.microsoft.com/v1.0/users/" + testserver.Bruno}
	r := env.Do("POST", "/v1.0/groups", app, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("POST /groups with binds = %s", r)
	}
	id := str(r.JSON(), "id")
	got, _ := lastChange(t, env, change.Group(id))
	if !cmp.Equal(got.Notice.MembersDelta, []map[string]any{{"@odata.type": "#microsoft.graph.user", "id": testserver.Adele}}) ||
		!cmp.Equal(got.Notice.OwnersDelta, []map[string]any{{"@odata.type": "#microsoft.graph.user", "id": testserver.Bruno}}) {
		t.Errorf("change record of a bound creation = %+v", got.Notice)
	}
	if r := env.Do("GET", "/v1.0/groups/"+id+"/members", app, nil); !cmp.Equal(ids(values(t, r)), []string{testserver.Adele}) {
		t.Errorf("members of a bound creation = %s", r)
	}
}
