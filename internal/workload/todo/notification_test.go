package todo_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/todo"
)

// TestTaskNotifications: Adele subscribes to the tasks of her built-in list before
// her To Do was ever used; an application creates, updates and deletes a task
// there through the API, and each change reaches her receiver as Graph shapes it
// (one golden file per change type). A task of another list is not reported.
func TestTaskNotifications(t *testing.T) {
	t.Parallel()
	env := setup(t)
	rcv := newReceiver(t)
	adele := env.UserToken(testserver.AdeleUPN)
	def := todo.DefaultListID(testserver.Adele)
	sub := subscribe(env, adele, rcv.URL, "me/todo/lists/"+def+"/tasks", "created,updated,deleted", time.Hour)
	if sub.Status != http.StatusCreated {
		t.Fatalf("POST /subscriptions on me/todo/lists/{default}/tasks = %s, want 201", sub)
	}
	subID := sub.JSON()["id"].(string)

	app := env.AppToken()
	other := env.Do("POST", "/v1.0/users/"+testserver.Adele+"/todo/lists", app, map[string]any{"displayName": "Other"}).JSON()["id"].(string)
	if r := env.Do("POST", tasksOf("users/"+testserver.Adele, other), app, map[string]any{"title": "Elsewhere"}); r.Status != http.StatusCreated {
		t.Fatalf("POST task to another list = %s", r)
	}
	r := env.Do("POST", tasksOf("users/"+testserver.Adele, def), app, map[string]any{"title": "Sample"})
	if r.Status != http.StatusCreated {
		t.Fatalf("POST task = %s, want 201", r)
	}
	id := r.JSON()["id"].(string)
	ids := map[string]string{def: "{defaultList}", id: "{task}"}
	steps := []struct {
		changeType, method string
		body               any
	}{
		{store.Created, "", nil},
		{store.Updated, "PATCH", map[string]any{"status": "completed"}},
		{store.Deleted, "DELETE", nil},
	}
	for i, s := range steps {
		if s.method != "" {
			if r := env.Do(s.method, tasksOf("users/"+testserver.Adele, def)+"/"+id, app, s.body); r.Status >= 300 {
				t.Fatalf("%s task = %s", s.method, r)
			}
		}
		// Each change is awaited before the next: two POSTs to one URL may arrive out
		// of order.
		it := rcv.next(t, i)
		if it["subscriptionId"] != subID || it["changeType"] != s.changeType {
			t.Fatalf("notification %d = %v, want %s on subscription %s", i, it, s.changeType, subID)
		}
		golden(t, env, "notification_"+s.changeType, jsonBytes(t, it), ids, volatileTimes...)
	}
	if n := rcv.count(); n != 3 {
		t.Errorf("received %d notifications, want 3 (the other list's task is not watched)", n)
	}
}

// TestSubscriptionRules: the todoTask rules Graph documents, row by row: who may
// subscribe with which permission (the expected rows written out here, not read from
// the descriptor), the change types, the lifetime, and paths that do not resolve.
func TestSubscriptionRules(t *testing.T) {
	t.Parallel()
	d := todo.Resources()[0]
	want := []resource.Permission{{
		Variant:           "",
		Application:       nil,
		DelegatedWork:     []string{"Tasks.ReadWrite"},
		DelegatedPersonal: []string{"Tasks.ReadWrite"},
	}}
	if diff := cmp.Diff(want, d.Permissions); diff != "" {
		t.Errorf("todoTask permission table (-want +got):\n%s", diff)
	}
	rows := []struct {
		pt    identity.PermissionType
		names []string
		ok    bool
	}{
		{identity.Application, nil, false},
		{identity.DelegatedWork, []string{"Tasks.ReadWrite"}, true},
		{identity.DelegatedPersonal, []string{"Tasks.ReadWrite"}, true},
	}
	for _, row := range rows {
		names, ok := d.Names("", row.pt)
		if ok != row.ok || !cmp.Equal(names, row.names) {
			t.Errorf("Names(%s) = %v, %v; want %v, %v", row.pt, names, ok, row.names, row.ok)
		}
	}
	if d.Type != "todoTask" || d.MaxLifetime != 4230*time.Minute || !cmp.Equal(d.ChangeTypes, []string{"created", "updated", "deleted"}) {
		t.Errorf("todoTask: type %q, lifetime %v, change types %v; want todoTask, 4230m, created/updated/deleted", d.Type, d.MaxLifetime, d.ChangeTypes)
	}

	env := setup(t)
	rcv := newReceiver(t)
	adeleList := "me/todo/lists/" + todo.DefaultListID(testserver.Adele) + "/tasks"
	samList := "me/todo/lists/" + todo.DefaultListID(testserver.Sam) + "/tasks"
	withOnly := func(perm string) string {
		id, secret := env.AddApp(nil, []string{perm})
		return env.DelegatedToken(id, secret, testserver.Tenant, testserver.AdeleUPN)
	}
	personalWith := func(perm string) string {
		id, secret := env.AddApp(nil, []string{perm})
		return env.DelegatedToken(id, secret, "consumers", testserver.SamUPN)
	}
	tests := []struct {
		name, token, resource, changeType string
		lifetime                          time.Duration
		status                            int
	}{
		{"application, every permission", env.AppToken(), "users/" + testserver.Adele + "/todo/lists/" + todo.DefaultListID(testserver.Adele) + "/tasks", "created", time.Hour, http.StatusForbidden},
		{"work account, Tasks.ReadWrite", withOnly("Tasks.ReadWrite"), adeleList, "created", time.Hour, http.StatusCreated},
		{"work account, Tasks.Read only", withOnly("Tasks.Read"), adeleList, "created", time.Hour, http.StatusForbidden},
		{"personal account, Tasks.ReadWrite", personalWith("Tasks.ReadWrite"), samList, "updated", time.Hour, http.StatusCreated},
		{"personal account, Tasks.Read only", personalWith("Tasks.Read"), samList, "updated", time.Hour, http.StatusForbidden},
		{"users/{id} form of the caller", withOnly("Tasks.ReadWrite"), "users/" + testserver.AdeleUPN + "/todo/lists/" + todo.DefaultListID(testserver.Adele) + "/tasks", "deleted", time.Hour, http.StatusCreated},
		{"another user's tasks", withOnly("Tasks.ReadWrite"), "users/" + testserver.Bruno + "/todo/lists/" + todo.DefaultListID(testserver.Bruno) + "/tasks", "created", time.Hour, http.StatusForbidden},
		{"a list that does not exist", withOnly("Tasks.ReadWrite"), "me/todo/lists/AAMkAGnope/tasks", "created", time.Hour, http.StatusNotFound},
		{"the longest lifetime", withOnly("Tasks.ReadWrite"), adeleList, "created", 4230 * time.Minute, http.StatusCreated},
		{"longer than Graph allows", withOnly("Tasks.ReadWrite"), adeleList, "created", 4235 * time.Minute, http.StatusBadRequest},
		{"an unknown change type", withOnly("Tasks.ReadWrite"), adeleList, "moved", time.Hour, http.StatusBadRequest},
	}
	for _, tt := range tests {
		r := subscribe(env, tt.token, rcv.URL, tt.resource, tt.changeType, tt.lifetime)
		if r.Status != tt.status {
			t.Errorf("%s: POST /subscriptions on %s = %s, want %d", tt.name, tt.resource, r, tt.status)
		}
	}
	// To Do offers no rich notifications.
	r := env.Do("POST", "/v1.0/subscriptions", withOnly("Tasks.ReadWrite"), map[string]any{
		"changeType": "created", "notificationUrl": rcv.URL, "resource": adeleList, "includeResourceData": true,
		"encryptionCertificate": "MIIB", "encryptionCertificateId": "c1",
		"expirationDateTime": graph.FormatTime(env.Clock.Now().Add(time.Hour)),
	})
	if r.Status != http.StatusBadRequest || r.ErrorMessage() != "To Do workload is not enabled for rich notifications." {
		t.Errorf("POST /subscriptions with includeResourceData = %s, want 400 To Do workload is not enabled", r)
	}
}

// TestSamples makes each sample change of the descriptor the way graphhook trigger
// does (placeholders {tenant}, {user}, {todoList} and {id} filled in, a token with
// only the sample's permission) and checks that a subscription on the list is told
// each change type.
func TestSamples(t *testing.T) {
	t.Parallel()
	env := setup(t)
	rcv := newReceiver(t)
	d := todo.Resources()[0]
	vars := map[string]string{"{tenant}": testserver.Tenant, "{user}": testserver.Bruno, "{todoList}": todo.DefaultListID(testserver.Bruno)}
	res := "users/" + testserver.Bruno + "/todo/lists/" + vars["{todoList}"] + "/tasks"
	if r := subscribe(env, env.UserToken(testserver.BrunoUPN), rcv.URL, res, strings.Join(d.ChangeTypes, ","), time.Hour); r.Status != http.StatusCreated {
		t.Fatalf("POST /subscriptions on %s = %s", res, r)
	}
	if len(d.Samples) != 3 {
		t.Fatalf("%d samples, want one per change type", len(d.Samples))
	}
	for i, s := range d.Samples {
		if s.Delegated || s.Admin {
			t.Fatalf("sample %s is delegated or admin; an application makes To Do changes", s.ChangeType)
		}
		id, secret := env.AddApp([]string{s.Permission}, nil)
		token := env.ClientToken(id, secret)
		for _, req := range s.Requests {
			path := req.Path
			for k, v := range vars {
				path = strings.ReplaceAll(path, k, v)
			}
			if strings.Contains(path, "{") {
				t.Fatalf("sample %s: path %s names a placeholder trigger does not know", s.ChangeType, req.Path)
			}
			var body any
			if req.Body != "" {
				body = req.Body
			}
			r := env.Do(req.Method, "/v1.0/"+path, token, body, "Content-Type", "application/json")
			if r.Status >= 300 {
				t.Fatalf("sample %s: %s %s = %s", s.ChangeType, req.Method, path, r)
			}
			if s.ChangeType == store.Created {
				vars["{id}"] = r.JSON()["id"].(string)
			}
		}
		if it := rcv.next(t, i); it["changeType"] != s.ChangeType {
			t.Errorf("sample %s: notification %v, want that change type", s.ChangeType, it)
		}
	}
}

// TestUserDeletedRemovesSubscription: purging a user takes the subscriptions on
// their task lists with them, with a subscriptionRemoved lifecycle notification.
func TestUserDeletedRemovesSubscription(t *testing.T) {
	t.Parallel()
	env := setup(t)
	rcv := newReceiver(t)
	r := env.Do("POST", "/v1.0/subscriptions", env.UserToken(testserver.BrunoUPN), map[string]any{
		"changeType": "created", "notificationUrl": rcv.URL, "lifecycleNotificationUrl": rcv.URL,
		"resource":           "me/todo/lists/" + todo.DefaultListID(testserver.Bruno) + "/tasks",
		"expirationDateTime": graph.FormatTime(env.Clock.Now().Add(time.Hour)),
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("POST /subscriptions = %s, want 201", r)
	}
	subID := r.JSON()["id"].(string)
	app := env.AppToken()
	for _, path := range []string{"/v1.0/users/" + testserver.Bruno, "/v1.0/directory/deletedItems/" + testserver.Bruno} {
		if r := env.Do("DELETE", path, app, nil); r.Status != http.StatusNoContent {
			t.Fatalf("DELETE %s = %s, want 204", path, r)
		}
	}
	it := rcv.next(t, 0)
	if it["subscriptionId"] != subID || it["lifecycleEvent"] != "subscriptionRemoved" {
		t.Errorf("notification = %v, want subscriptionRemoved for %s", it, subID)
	}
	if r := env.Do("GET", "/v1.0/subscriptions/"+subID, app, nil); r.Status != http.StatusNotFound {
		t.Errorf("GET the removed subscription = %s, want 404", r)
	}
}
