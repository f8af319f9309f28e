package directory_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/delta"
	"github.com/graphhook/graphhook/internal/testserver"
)

// syncAll follows nextLinks from path until a deltaLink and returns every item and
// the deltaLink.
func syncAll(t *testing.T, env *testserver.Env, path, token string, headers ...string) (items []map[string]any, deltaLink string, pages int) {
	t.Helper()
	next := path
	for next != "" {
		pages++
		if pages > 20 {
			t.Fatalf("delta from %s does not end", path)
		}
		r := env.Do("GET", next, token, nil, headers...)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s = %s", next, r)
		}
		body := r.JSON()
		items = append(items, values(t, r)...)
		n, hasNext := body["@odata.nextLink"].(string)
		d, hasDelta := body["@odata.deltaLink"].(string)
		if hasNext == hasDelta {
			t.Fatalf("GET %s: a page must carry exactly one of nextLink and deltaLink: %s", next, r)
		}
		next, deltaLink = n, d
	}
	return items, deltaLink, pages
}

func TestUsersDeltaRoundTrip(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, tc := range workCallers(env, testserver.AdeleUPN) {
		t.Run(tc.name, func(t *testing.T) {
			items, link, pages := syncAll(t, env, "/v1.0/users/delta?$select=displayName,jobTitle", tc.token, "Prefer", "odata.maxpagesize=2")
			if len(items) < 5 || pages < 3 {
				t.Fatalf("initial sync: %d items in %d pages, want at least 5 in 3 (page size 2)", len(items), pages)
			}
			if _, ok := items[0]["mail"]; ok {
				t.Errorf("initial sync ignores $select: %v", items[0])
			}

			// A change, then the deltaLink returns exactly that change.
			if r := env.Do("PATCH", "/v1.0/users/"+testserver.Chen, env.AppToken(), map[string]any{"jobTitle": "Staff " + tc.name}); r.Status != http.StatusNoContent {
				t.Fatalf("PATCH = %s", r)
			}
			items, link, _ = syncAll(t, env, link, tc.token)
			want := []map[string]any{{"id": testserver.Chen, "displayName": "Chen Wei", "jobTitle": "Staff " + tc.name}}
			if diff := cmp.Diff(want, items); diff != "" {
				t.Errorf("delta after one PATCH (-want +got):\n%s", diff)
			}

			// Nothing changed: nothing returned.
			if items, _, _ := syncAll(t, env, link, tc.token); len(items) != 0 {
				t.Errorf("delta with no change = %v, want nothing", items)
			}

			// A soft delete is @removed "changed", a permanent one "deleted".
			r := env.Do("POST", "/v1.0/users", env.AppToken(), newUserBody("delta-"+tc.name))
			id := str(r.JSON(), "id")
			env.Do("DELETE", "/v1.0/users/"+id, env.AppToken(), nil)
			items, link, _ = syncAll(t, env, link, tc.token)
			want = []map[string]any{{"id": id, "@removed": map[string]any{"reason": "changed"}}}
			if diff := cmp.Diff(want, items); diff != "" {
				t.Errorf("delta after a soft delete (-want +got):\n%s", diff)
			}
			env.Do("DELETE", "/v1.0/directory/deletedItems/"+id, env.AppToken(), nil)
			items, _, _ = syncAll(t, env, link, tc.token)
			want = []map[string]any{{"id": id, "@removed": map[string]any{"reason": "deleted"}}}
			if diff := cmp.Diff(want, items); diff != "" {
				t.Errorf("delta after a permanent delete (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUsersDeltaGolden(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	r := env.Do("GET", "/v1.0/users/delta?$select=displayName", app, nil, "Prefer", "odata.maxpagesize=2")
	if r.Status != http.StatusOK || r.Header.Get("Preference-Applied") != "odata.maxpagesize=2" {
		t.Fatalf("GET /users/delta = %s (Preference-Applied %q)", r, r.Header.Get("Preference-Applied"))
	}
	golden(t, env, "users_delta_first_page", r.Body)
	_, link, _ := syncAll(t, env, "/v1.0/users/delta", app)
	env.Do("PATCH", "/v1.0/users/"+testserver.Adele, app, map[string]any{"officeLocation": "B2"})
	r = env.Do("GET", link, app, nil)
	golden(t, env, "users_delta_change", r.Body)
}

func TestGroupsDeltaMembers(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	items, link, _ := syncAll(t, env, "/v1.0/groups/delta", app)
	if len(items) != 2 {
		t.Fatalf("initial groups delta: %d groups, want 2", len(items))
	}
	wantSales := []any{
		map[string]any{"@odata.type": "#microsoft.graph.user", "id": testserver.Adele},
		map[string]any{"@odata.type": "#microsoft.graph.user", "id": testserver.Bruno},
	}
	if diff := cmp.Diff(wantSales, items[0]["members@delta"]); diff != "" {
		t.Errorf("initial members@delta of Sales (-want +got):\n%s", diff)
	}

	sales := "/v1.0/groups/" + testserver.SalesGroup
	env.Do("POST", sales+"/members/$ref", app, map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + testserver.Chen})
	env.Do("DELETE", sales+"/members/"+testserver.Bruno+"/$ref", app, nil)
	items, link, _ = syncAll(t, env, link, app)
	if len(items) != 1 || items[0]["id"] != testserver.SalesGroup {
		t.Fatalf("groups delta after membership changes = %v, want Sales only", items)
	}
	want := []any{
		map[string]any{"@odata.type": "#microsoft.graph.user", "id": testserver.Chen},
		map[string]any{"@odata.type": "#microsoft.graph.user", "id": testserver.Bruno, "@removed": "deleted"},
	}
	if diff := cmp.Diff(want, items[0]["members@delta"]); diff != "" {
		t.Errorf("members@delta after add and remove (-want +got):\n%s", diff)
	}
	r := env.Do("GET", link, app, nil)
	golden(t, env, "groups_delta_empty", r.Body)

	// $select without members leaves members@delta out.
	items, _, _ = syncAll(t, env, "/v1.0/groups/delta?$select=displayName", app)
	if _, ok := items[0]["members@delta"]; ok {
		t.Errorf("groups delta $select=displayName carries members@delta: %v", items[0])
	}
}

func TestDeltaTokens(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()

	// $deltatoken=latest: nothing now, only later changes.
	r := env.Do("GET", "/v1.0/users/delta?$deltatoken=latest", app, nil)
	link, _ := r.JSON()["@odata.deltaLink"].(string)
	if r.Status != http.StatusOK || len(values(t, r)) != 0 || link == "" {
		t.Fatalf("GET /users/delta?$deltatoken=latest = %s, want no items and a deltaLink", r)
	}
	env.Do("PATCH", "/v1.0/users/"+testserver.Bruno, app, map[string]any{"department": "Marketing"})
	items, _, _ := syncAll(t, env, link, app)
	if !cmp.Equal(ids(items), []string{testserver.Bruno}) {
		t.Errorf("delta from latest = %v, want Bruno only", ids(items))
	}

	forged := func(tok delta.Token) string { return delta.Encode(tok) }
	usersTok := strings.SplitN(link, "$deltatoken=", 2)[1]
	for _, tc := range []struct{ name, path string }{
		{"not base64", "/v1.0/users/delta?$deltatoken=%21%21%21"},
		{"not JSON", "/v1.0/users/delta?$deltatoken=" + base64.RawURLEncoding.EncodeToString([]byte("nope"))},
		{"future position", "/v1.0/users/delta?$deltatoken=" + forged(delta.Token{Seq: 1 << 40, Topic: "users"})},
		{"negative position", "/v1.0/users/delta?$deltatoken=" + forged(delta.Token{Seq: -5, Topic: "users"})},
		{"users token on groups", "/v1.0/groups/delta?$deltatoken=" + usersTok},
		{"forged skiptoken", "/v1.0/users/delta?$skiptoken=" + forged(delta.Token{Initial: true, Seq: 1 << 40, Topic: "users"})},
		{"forged $select", "/v1.0/users/delta?$deltatoken=" + forged(delta.Token{Topic: "users", Options: map[string]string{"$select": "nope"}})},
	} {
		r := env.Do("GET", tc.path, app, nil)
		if r.Status != http.StatusBadRequest || r.ErrorCode() != "syncStateNotFound" {
			t.Errorf("%s: GET %s = %s, want 400 syncStateNotFound", tc.name, tc.path, r)
		}
	}
	if r := env.Do("GET", "/v1.0/users/delta?$top=2", app, nil); r.Status != http.StatusBadRequest || r.ErrorCode() != "Request_UnsupportedQuery" {
		t.Errorf("GET /users/delta?$top = %s, want 400 Request_UnsupportedQuery", r)
	}

	// Prefer: odata.maxpagesize at its bounds; out of range it is ignored.
	for _, tc := range []struct {
		prefer  string
		items   int
		applied string
	}{
		{"odata.maxpagesize=1", 1, "odata.maxpagesize=1"},
		{"odata.maxpagesize=999", 5, "odata.maxpagesize=999"},
		{"odata.maxpagesize=1000", 5, ""},
		{"odata.maxpagesize=0", 5, ""},
	} {
		r := env.Do("GET", "/v1.0/users/delta", app, nil, "Prefer", tc.prefer)
		if n := len(values(t, r)); n != tc.items || r.Header.Get("Preference-Applied") != tc.applied {
			t.Errorf("GET /users/delta with Prefer %s: %d items, Preference-Applied %q; want %d, %q", tc.prefer, n, r.Header.Get("Preference-Applied"), tc.items, tc.applied)
		}
	}
}
