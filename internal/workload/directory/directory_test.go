package directory_test

import (
	"net/http"
	"testing"

	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/directory"
)

func setup(t *testing.T) *testserver.Env {
	t.Helper()
	return testserver.New(t, func(e *testserver.Env) {
		directory.New(e.Store, e.Identity).Routes(e.HTTP.Graph())
	})
}

func TestGetUserAndMe(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	if r := env.Do("GET", "/v1.0/users/"+testserver.AdeleUPN, app, nil); r.Status != http.StatusOK || r.JSON()["id"] != testserver.Adele {
		t.Fatalf("GET /users/{upn} = %s", r)
	}
	if r := env.Do("GET", "/v1.0/users('"+testserver.Adele+"')?$select=displayName", app, nil); r.Status != http.StatusOK || r.JSON()["displayName"] != "Adele Vance" || r.JSON()["mail"] != nil {
		t.Fatalf("GET /users('id')?$select = %s", r)
	}
	if r := env.Do("GET", "/v1.0/me", app, nil); r.Status != http.StatusBadRequest {
		t.Fatalf("GET /me with an app token = %s, want 400", r)
	}
	user := env.UserToken(testserver.BrunoUPN, "User.Read")
	if r := env.Do("GET", "/v1.0/me", user, nil); r.Status != http.StatusOK || r.JSON()["id"] != testserver.Bruno {
		t.Fatalf("GET /me (work) = %s", r)
	}
	if r := env.Do("GET", "/v1.0/users/"+testserver.Adele, user, nil); r.Status != http.StatusForbidden || r.ErrorCode() != "Authorization_RequestDenied" {
		t.Fatalf("GET another user with User.Read only = %s, want 403", r)
	}
	personal := env.PersonalToken("User.Read")
	if r := env.Do("GET", "/v1.0/me", personal, nil); r.Status != http.StatusOK || r.JSON()["userPrincipalName"] != testserver.SamUPN {
		t.Fatalf("GET /me (personal) = %s", r)
	}
	if r := env.Do("GET", "/v1.0/users", personal, nil); r.Status != http.StatusForbidden {
		t.Fatalf("GET /users (personal) = %s, want 403", r)
	}
	if r := env.Do("GET", "/v1.0/users/nobody@contoso.onmicrosoft.com", app, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "Request_ResourceNotFound" {
		t.Fatalf("GET unknown user = %s, want 404 Request_ResourceNotFound", r)
	}
}

func TestListUsersPaging(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	var ids []any
	next := "/v1.0/users?$top=2"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		r := env.Do("GET", next, app, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s = %s", next, r)
		}
		body := r.JSON()
		for _, u := range body["value"].([]any) {
			ids = append(ids, u.(map[string]any)["id"])
		}
		next, _ = body["@odata.nextLink"].(string)
	}
	if len(ids) != 5 {
		t.Fatalf("paged through %d users, want 5", len(ids))
	}
	for _, top := range []string{"0", "1000", "x"} {
		if r := env.Do("GET", "/v1.0/users?$top="+top, app, nil); r.Status != http.StatusBadRequest {
			t.Errorf("GET /users?$top=%s = %d, want 400", top, r.Status)
		}
	}
}
