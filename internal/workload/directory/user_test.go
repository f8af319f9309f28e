package directory_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/testserver"
)

func newUserBody(alias string) map[string]any {
	return map[string]any{
		"accountEnabled":    true,
		"displayName":       "Test " + alias,
		"mailNickname":      alias,
		"userPrincipalName": alias + "@contoso.onmicrosoft.com",
		// The harness signs users in with the fixture's password.
		"passwordProfile": map[string]any{"password": testserver.Password, "forceChangePasswordNextSignIn": false},
	}
}

func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, tc := range workCallers(env, testserver.BrunoUPN) {
		t.Run(tc.name, func(t *testing.T) {
			alias := "new-" + tc.name
			r := env.Do("POST", "/v1.0/users", tc.token, newUserBody(alias))
			if r.Status != http.StatusCreated {
				t.Fatalf("POST /users = %s, want 201", r)
			}
			created := r.JSON()
			id := str(created, "id")
			if tc.name == "application" {
				golden(t, env, "user_create", r.Body)
			}
			got, n := lastChange(t, env, change.User(id))
			want := changeView{Kind: "user", ID: id, ChangeType: "created", Topics: []string{"users", "users/" + id},
				After:  withoutAnnotations(created),
				Notice: change.Notice{Resource: "Users/" + id, ODataType: "#Microsoft.Graph.User", ODataID: "Users/" + id, ID: id, Directory: true}}
			if diff := cmp.Diff(want, got); diff != "" || n != 1 {
				t.Errorf("change record of POST /users (%d records) (-want +got):\n%s", n, diff)
			}

			// The new user signs in with the password it was created with.
			me := env.DelegatedToken(testserver.DelegatedAppID, testserver.DelegatedSecret, testserver.Tenant, alias+"@contoso.onmicrosoft.com", "User.Read")
			if r := env.Do("GET", "/v1.0/me", me, nil); r.Status != http.StatusOK || str(r.JSON(), "id") != id {
				t.Fatalf("GET /me as the new user = %s", r)
			}

			r = env.Do("GET", "/v1.0/users/"+strings.ToUpper(alias)+"@contoso.onmicrosoft.com", tc.token, nil)
			if r.Status != http.StatusOK || str(r.JSON(), "id") != id {
				t.Fatalf("GET /users/{upn} = %s", r)
			}
			etag := r.Header.Get("ETag")
			if etag == "" || str(r.JSON(), "@odata.etag") != etag {
				t.Fatalf("GET /users/{id} ETag %q, @odata.etag %q: want equal and set", etag, str(r.JSON(), "@odata.etag"))
			}

			if r := env.Do("PATCH", "/v1.0/users/"+id, tc.token, map[string]any{"jobTitle": "Tester", "businessPhones": []string{"+1 555 0100"}}, "If-Match", etag); r.Status != http.StatusNoContent {
				t.Fatalf("PATCH /users/{id} = %s, want 204", r)
			}
			got, n = lastChange(t, env, change.User(id))
			if got.ChangeType != "updated" || got.Before["jobTitle"] != nil || got.After["jobTitle"] != "Tester" || n != 2 {
				t.Errorf("change record of PATCH = %+v (%d records), want updated with jobTitle null → Tester", got, n)
			}
			if r := env.Do("PATCH", "/v1.0/users/"+id, tc.token, map[string]any{"jobTitle": "Stale"}, "If-Match", etag); r.Status != http.StatusPreconditionFailed {
				t.Fatalf("PATCH with a stale If-Match = %s, want 412", r)
			}
			r = env.Do("GET", "/v1.0/users/"+id+"?$select=jobTitle,businessPhones", tc.token, nil)
			if body := r.JSON(); body["jobTitle"] != "Tester" || body["displayName"] != nil || len(body["businessPhones"].([]any)) != 1 {
				t.Fatalf("GET after PATCH = %s", r)
			}

			if r := env.Do("DELETE", "/v1.0/users/"+id, tc.token, nil); r.Status != http.StatusNoContent {
				t.Fatalf("DELETE /users/{id} = %s, want 204", r)
			}
			got, _ = lastChange(t, env, change.User(id))
			if got.ChangeType != "updated" || got.After["deletedDateTime"] == nil || got.Before["deletedDateTime"] != nil {
				t.Errorf("change record of soft delete = %+v, want updated with deletedDateTime set", got)
			}
			if r := env.Do("GET", "/v1.0/users/"+id, tc.token, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "Request_ResourceNotFound" {
				t.Fatalf("GET a deleted user = %s, want 404 Request_ResourceNotFound", r)
			}
			r = env.Do("GET", "/v1.0/directory/deletedItems/microsoft.graph.user", tc.token, nil)
			if r.Status != http.StatusOK || !contains(ids(values(t, r)), id) {
				t.Fatalf("GET deletedItems/microsoft.graph.user = %s, want it to list %s", r, id)
			}

			r = env.Do("POST", "/v1.0/directory/deletedItems/"+id+"/restore", tc.token, nil)
			if r.Status != http.StatusOK || str(r.JSON(), "id") != id || r.JSON()["deletedDateTime"] != nil {
				t.Fatalf("POST restore = %s, want 200 with the user", r)
			}
			got, _ = lastChange(t, env, change.User(id))
			if got.ChangeType != "updated" || got.Before["deletedDateTime"] == nil || got.After["deletedDateTime"] != nil {
				t.Errorf("change record of restore = %+v", got)
			}
			if r := env.Do("GET", "/v1.0/users/"+id, tc.token, nil); r.Status != http.StatusOK {
				t.Fatalf("GET a restored user = %s", r)
			}

			if r := env.Do("DELETE", "/v1.0/directory/deletedItems/"+id, tc.token, nil); r.Status != http.StatusNotFound {
				t.Fatalf("DELETE deletedItems/{live id} = %s, want 404", r)
			}
			env.Do("DELETE", "/v1.0/users/"+id, tc.token, nil)
			if r := env.Do("DELETE", "/v1.0/directory/deletedItems/"+id, tc.token, nil); r.Status != http.StatusNoContent {
				t.Fatalf("DELETE deletedItems/{id} = %s, want 204", r)
			}
			got, n = lastChange(t, env, change.User(id))
			if got.ChangeType != "deleted" || got.After != nil || got.Before["id"] != id || n != 6 || !cmp.Equal(got.Topics, []string{"users", "users/" + id}) {
				t.Errorf("change record of permanent delete = %+v (%d records), want deleted, 6 records", got, n)
			}
			if r := env.Do("GET", "/v1.0/directory/deletedItems/"+id, tc.token, nil); r.Status != http.StatusNotFound {
				t.Fatalf("GET a purged item = %s, want 404", r)
			}
		})
	}
}

func withoutAnnotations(doc map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range doc {
		if !strings.HasPrefix(k, "@") {
			out[k] = v
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestGetUserGolden(t *testing.T) {
	t.Parallel()
	env := setup(t)
	r := env.Do("GET", "/v1.0/users/"+testserver.Adele, env.AppToken(), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /users/{id} = %s", r)
	}
	golden(t, env, "user_get", r.Body)
}

func TestUserPermissions(t *testing.T) {
	t.Parallel()
	env := setup(t)
	readOnly := env.ClientToken(env.AddApp([]string{"User.Read.All"}, nil))
	noUsers := env.ClientToken(env.AddApp([]string{"Mail.Read"}, nil))
	selfOnly := env.UserToken(testserver.BrunoUPN, "User.Read")
	selfWrite := env.UserToken(testserver.BrunoUPN, "User.ReadWrite.All")
	personal := env.PersonalToken("User.Read")
	for _, tc := range []struct {
		name, token, method, path string
		body                      any
		want                      int
	}{
		{"read-only app lists", readOnly, "GET", "/v1.0/users", nil, 200},
		{"read-only app creates", readOnly, "POST", "/v1.0/users", newUserBody("ro"), 403},
		{"read-only app updates", readOnly, "PATCH", "/v1.0/users/" + testserver.Adele, map[string]any{"jobTitle": "x"}, 403},
		{"read-only app deletes", readOnly, "DELETE", "/v1.0/users/" + testserver.Adele, nil, 403},
		{"app without user permission lists", noUsers, "GET", "/v1.0/users", nil, 403},
		{"app without user permission reads", noUsers, "GET", "/v1.0/users/" + testserver.Adele, nil, 403},
		{"User.Read updates another user", selfOnly, "PATCH", "/v1.0/users/" + testserver.Adele, map[string]any{"jobTitle": "x"}, 403},
		{"User.Read lists", selfOnly, "GET", "/v1.0/users", nil, 403},
		{"User.Read reads memberOf of self", selfOnly, "GET", "/v1.0/me/memberOf", nil, 200},
		{"User.ReadWrite.All updates another user", selfWrite, "PATCH", "/v1.0/users/" + testserver.Adele, map[string]any{"officeLocation": "B1"}, 204},
		{"personal lists users", personal, "GET", "/v1.0/users", nil, 403},
		{"personal creates", personal, "POST", "/v1.0/users", newUserBody("p"), 403},
		{"personal updates self", personal, "PATCH", "/v1.0/me", map[string]any{"jobTitle": "x"}, 403},
		{"personal lists groups", personal, "GET", "/v1.0/groups", nil, 403},
		{"personal deleted items", personal, "GET", "/v1.0/directory/deletedItems/microsoft.graph.user", nil, 403},
		{"personal users delta", personal, "GET", "/v1.0/users/delta", nil, 403},
	} {
		r := env.Do(tc.method, tc.path, tc.token, tc.body)
		if r.Status != tc.want {
			t.Errorf("%s: %s %s = %s, want %d", tc.name, tc.method, tc.path, r, tc.want)
		}
		if tc.want == 403 && r.ErrorCode() != "Authorization_RequestDenied" {
			t.Errorf("%s: error code %q, want Authorization_RequestDenied", tc.name, r.ErrorCode())
		}
	}
	if n := len(env.Changes(testserver.Tenant, change.Users())); n != 1 {
		t.Errorf("%d change records after the permission checks, want 1 (the one allowed PATCH)", n)
	}
}

func TestCreateUserValidation(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	with := func(k string, v any) map[string]any {
		b := newUserBody("v-" + strings.ToLower(strings.ReplaceAll(k, " ", "")))
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	invalid := func(p string) string {
		return "Invalid value specified for property '" + p + "' of resource 'User'."
	}
	for _, tc := range []struct {
		name    string
		body    any
		status  int
		message string
	}{
		{"missing displayName", with("displayName", nil), 400, invalid("displayName")},
		{"missing accountEnabled", with("accountEnabled", nil), 400, invalid("accountEnabled")},
		{"missing mailNickname", with("mailNickname", nil), 400, invalid("mailNickname")},
		{"missing userPrincipalName", with("userPrincipalName", nil), 400, invalid("userPrincipalName")},
		{"missing passwordProfile", with("passwordProfile", nil), 400, invalid("passwordProfile")},
		{"password missing", with("passwordProfile", map[string]any{}), 400, invalid("passwordProfile")},
		{"weak password", with("passwordProfile", map[string]any{"password": "password"}), 400, "The specified password does not comply with password complexity requirements. Please provide a different password."},
		{"unknown property", with("favouriteColour", "blue"), 400, "Property 'favouriteColour' does not exist as a declared property or extension property."},
		{"read-only property", with("id", "x"), 400, "Property 'id' is read-only and cannot be set."},
		{"accountEnabled as string", with("accountEnabled", "yes"), 400, invalid("accountEnabled")},
		{"displayName as number", with("displayName", 3), 400, invalid("displayName")},
		{"displayName 256 characters", with("displayName", strings.Repeat("d", 256)), 201, ""},
		{"displayName 257 characters", with("displayName", strings.Repeat("d", 257)), 400, invalid("displayName")},
		{"mailNickname 64 characters", with("mailNickname", strings.Repeat("m", 64)), 201, ""},
		{"mailNickname 65 characters", with("mailNickname", strings.Repeat("n", 65)), 400, invalid("mailNickname")},
		{"mailNickname with a space", with("mailNickname", "a b"), 400, invalid("mailNickname")},
		{"one business phone", with("businessPhones", []string{"1"}), 201, ""},
		{"two business phones", with("businessPhones", []string{"1", "2"}), 400, invalid("businessPhones")},
		{"foreign domain", with("userPrincipalName", "x@fabrikam.com"), 400, "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."},
		{"UPN without @", with("userPrincipalName", "nobody"), 400, invalid("userPrincipalName")},
		{"UPN taken", with("userPrincipalName", strings.ToUpper(testserver.AdeleUPN[:1])+testserver.AdeleUPN[1:]), 400, "Another object with the same value for property userPrincipalName already exists."},
		{"not JSON", "{", 400, "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."},
	} {
		r := env.Do("POST", "/v1.0/users", app, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s: POST /users = %s, want %d", tc.name, r, tc.status)
			continue
		}
		if tc.status == 400 && (r.ErrorMessage() != tc.message || (r.ErrorCode() != "Request_BadRequest" && r.ErrorCode() != "BadRequest")) {
			t.Errorf("%s: POST /users error = %s %q, want Request_BadRequest %q", tc.name, r.ErrorCode(), r.ErrorMessage(), tc.message)
		}
	}
}

func TestUpdateUserErrors(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"unknown user", "/v1.0/users/nobody@contoso.onmicrosoft.com", map[string]any{"jobTitle": "x"}, 404, "Request_ResourceNotFound"},
		{"unknown property", "/v1.0/users/" + testserver.Adele, map[string]any{"jobTitel": "x"}, 400, "Request_BadRequest"},
		{"null displayName", "/v1.0/users/" + testserver.Adele, map[string]any{"displayName": nil}, 400, "Request_BadRequest"},
		{"UPN of another user", "/v1.0/users/" + testserver.Adele, map[string]any{"userPrincipalName": testserver.BrunoUPN}, 400, "Request_BadRequest"},
		{"read-only createdDateTime", "/v1.0/users/" + testserver.Adele, map[string]any{"createdDateTime": "2020-01-01T00:00:00Z"}, 400, "Request_BadRequest"},
	} {
		r := env.Do("PATCH", tc.path, app, tc.body)
		if r.Status != tc.status || r.ErrorCode() != tc.code {
			t.Errorf("%s: PATCH %s = %s, want %d %s", tc.name, tc.path, r, tc.status, tc.code)
		}
	}
	if r := env.Do("DELETE", "/v1.0/users/"+testserver.Adele, app, nil, "If-Match", `W/"99"`); r.Status != http.StatusPreconditionFailed {
		t.Errorf("DELETE with a stale If-Match = %s, want 412", r)
	}
	if n := len(env.Changes(testserver.Tenant, change.Users())); n != 0 {
		t.Errorf("%d change records after refused writes, want 0", n)
	}
	// A PATCH that changes nothing stores nothing and notifies nothing.
	if r := env.Do("PATCH", "/v1.0/users/"+testserver.Adele, app, map[string]any{"jobTitle": "Retail Manager"}); r.Status != http.StatusNoContent {
		t.Fatalf("PATCH with the current value = %s", r)
	}
	if n := len(env.Changes(testserver.Tenant, change.Users())); n != 0 {
		t.Errorf("%d change records after a no-op PATCH, want 0", n)
	}
	// Self-service: a user may change their own profile with User.ReadWrite, but not
	// their sign-in name.
	clientID, secret := env.AddApp(nil, []string{"User.ReadWrite"})
	self := env.DelegatedToken(clientID, secret, testserver.Tenant, testserver.BrunoUPN)
	if r := env.Do("PATCH", "/v1.0/me", self, map[string]any{"mobilePhone": "+1 555 0199"}); r.Status != http.StatusNoContent {
		t.Errorf("PATCH /me with User.ReadWrite = %s, want 204", r)
	}
	if r := env.Do("PATCH", "/v1.0/me", self, map[string]any{"accountEnabled": false}); r.Status != http.StatusForbidden {
		t.Errorf("PATCH /me accountEnabled with User.ReadWrite = %s, want 403", r)
	}
}
