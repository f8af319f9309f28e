package directory_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/testserver"
)

const (
	dana = "22222222-0000-4000-8000-000000000004"
	emil = "22222222-0000-4000-8000-000000000005"
)

func TestListUsersQuery(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"eq", "$filter=" + url.QueryEscape("department eq 'Sales'"), []string{testserver.Adele, testserver.Bruno}},
		{"startswith", "$filter=" + url.QueryEscape("startswith(displayName,'c')"), []string{testserver.Chen}},
		{"and", "$filter=" + url.QueryEscape("department eq 'Engineering' and startswith(jobTitle,'Eng')"), []string{dana}},
		{"or", "$filter=" + url.QueryEscape("userPrincipalName eq 'emil@contoso.onmicrosoft.com' or surname eq 'Vance'"), []string{testserver.Adele, emil}},
		{"accountEnabled", "$filter=" + url.QueryEscape("accountEnabled eq false"), []string{}},
		{"orderby desc", "$orderby=" + url.QueryEscape("displayName desc"), []string{emil, dana, testserver.Chen, testserver.Bruno, testserver.Adele}},
		{"top 999", "$top=999", []string{testserver.Adele, testserver.Bruno, testserver.Chen, dana, emil}},
	} {
		r := env.Do("GET", "/v1.0/users?"+tc.query, app, nil)
		if r.Status != http.StatusOK {
			t.Errorf("%s: GET /users?%s = %s", tc.name, tc.query, r)
			continue
		}
		if diff := cmp.Diff(tc.want, ids(values(t, r))); diff != "" {
			t.Errorf("%s: GET /users?%s ids (-want +got):\n%s", tc.name, tc.query, diff)
		}
	}

	r := env.Do("GET", "/v1.0/users?$select=displayName&$filter="+url.QueryEscape("department eq 'Sales'")+"&$top=1&$count=true", app, nil, "ConsistencyLevel", "eventual")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /users with $count = %s", r)
	}
	golden(t, env, "users_list_page", r.Body)
	next, _ := r.JSON()["@odata.nextLink"].(string)
	r = env.Do("GET", next, app, nil, "ConsistencyLevel", "eventual")
	if got := ids(values(t, r)); r.JSON()["@odata.count"] != 2.0 || !cmp.Equal(got, []string{testserver.Bruno}) || r.JSON()["@odata.nextLink"] != nil {
		t.Errorf("second page = %s, want Bruno, count 2 and no nextLink", r)
	}

	// Ordered lists page by position.
	r = env.Do("GET", "/v1.0/users?$orderby=displayName&$top=3", app, nil)
	next, _ = r.JSON()["@odata.nextLink"].(string)
	r2 := env.Do("GET", next, app, nil)
	if got := append(ids(values(t, r)), ids(values(t, r2))...); !cmp.Equal(got, []string{testserver.Adele, testserver.Bruno, testserver.Chen, dana, emil}) {
		t.Errorf("ordered pages = %v", got)
	}

	for _, tc := range []struct {
		name, path string
		headers    []string
		status     int
		code, msg  string
	}{
		{"$count without ConsistencyLevel", "/v1.0/users?$count=true", nil, 400, "Request_BadRequest", "$count is not currently supported."},
		{"/$count without ConsistencyLevel", "/v1.0/users/$count", nil, 400, "Request_BadRequest", "$count is not currently supported."},
		{"filter on an unknown property", "/v1.0/users?$filter=" + url.QueryEscape("shoeSize eq 3"), nil, 400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'shoeSize' of resource 'User'."},
		{"malformed filter", "/v1.0/users?$filter=" + url.QueryEscape("displayName eq"), nil, 400, "Request_BadRequest", ""},
		{"select an unknown property", "/v1.0/users?$select=shoeSize", nil, 400, "Request_BadRequest", "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'."},
		{"orderby unsupported", "/v1.0/users?$orderby=jobTitle", nil, 400, "Request_UnsupportedQuery", "Sorting not supported for 'jobTitle'."},
		{"top 1000", "/v1.0/users?$top=1000", nil, 400, "Request_BadRequest", "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."},
		{"forged skiptoken", "/v1.0/users?$skiptoken=%21%21", nil, 400, "Request_BadRequest", "Invalid $skiptoken: the token is malformed. Use the @odata.nextLink of the previous page as it is."},
	} {
		r := env.Do("GET", tc.path, app, nil, tc.headers...)
		if r.Status != tc.status || r.ErrorCode() != tc.code || (tc.msg != "" && r.ErrorMessage() != tc.msg) {
			t.Errorf("%s: GET %s = %s, want %d %s %q", tc.name, tc.path, r, tc.status, tc.code, tc.msg)
		}
	}

	for _, tc := range []struct{ path, want string }{
		{"/v1.0/users/$count", "5"},
		{"/v1.0/users/$count?$filter=" + url.QueryEscape("department eq 'Engineering'"), "2"},
		{"/v1.0/groups/$count", "2"},
	} {
		r := env.Do("GET", tc.path, app, nil, "ConsistencyLevel", "eventual")
		if r.Status != http.StatusOK || string(r.Body) != tc.want {
			t.Errorf("GET %s = %s, want 200 %s", tc.path, r, tc.want)
		}
	}
}

func TestListGroupsQuery(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	r := env.Do("GET", "/v1.0/groups?$filter="+url.QueryEscape("mailNickname eq 'engineering'")+"&$select=displayName", app, nil)
	if r.Status != http.StatusOK || !cmp.Equal(ids(values(t, r)), []string{testserver.EngGroup}) {
		t.Fatalf("GET /groups?$filter = %s", r)
	}
	golden(t, env, "groups_list_filtered", r.Body)
}
