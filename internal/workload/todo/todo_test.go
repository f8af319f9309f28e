package todo_test

import (
	"net/http"
	"testing"

	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/todo"
)

// TestLists: the built-in list exists from the first request, lists are created,
// renamed and deleted (with their tasks), and the built-in one is protected.
func TestLists(t *testing.T) {
	t.Parallel()
	env := setup(t)
	adele := env.UserToken(testserver.AdeleUPN)
	def := todo.DefaultListID(testserver.Adele)
	ids := map[string]string{def: "{defaultList}"}

	r := env.Do("GET", "/v1.0/me/todo/lists", adele, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /me/todo/lists = %s, want 200", r)
	}
	golden(t, env, "lists_initial", r.Body, ids, volatileTimes...)

	r = env.Do("POST", "/v1.0/me/todo/lists", adele, map[string]any{"displayName": "Travel items"})
	if r.Status != http.StatusCreated {
		t.Fatalf("POST /me/todo/lists = %s, want 201", r)
	}
	id := r.JSON()["id"].(string)
	ids[id] = "{list}"
	golden(t, env, "list_created", r.Body, ids, volatileTimes...)

	r = env.Do("PATCH", "/v1.0/users/"+testserver.AdeleUPN+"/todo/lists/"+id, adele, map[string]any{"displayName": "Trips"})
	if r.Status != http.StatusOK || r.JSON()["displayName"] != "Trips" {
		t.Fatalf("PATCH list = %s, want 200 with the new name", r)
	}
	r = env.Do("GET", "/v1.0/me/todo/lists?$select=displayName&$top=1", adele, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET lists $top=1 = %s", r)
	}
	golden(t, env, "lists_page", r.Body, ids, volatileTimes...)

	// A task in the list goes with it.
	task := env.Do("POST", tasksOf("me", id), adele, map[string]any{"title": "Pack"})
	if task.Status != http.StatusCreated {
		t.Fatalf("POST task = %s", task)
	}
	if r := env.Do("DELETE", "/v1.0/me/todo/lists/"+id, adele, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE list = %s, want 204", r)
	}
	if r := env.Do("GET", "/v1.0/me/todo/lists/"+id, adele, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "ErrorItemNotFound" {
		t.Errorf("GET deleted list = %s, want 404 ErrorItemNotFound", r)
	}
	if r := env.Do("GET", tasksOf("me", id)+"/"+task.JSON()["id"].(string), adele, nil); r.Status != http.StatusNotFound {
		t.Errorf("GET task of deleted list = %s, want 404", r)
	}

	tests := []struct {
		name, method, path string
		body               any
		status             int
		code, message      string
	}{
		{"rename the built-in list", "PATCH", "/v1.0/me/todo/lists/" + def, map[string]any{"displayName": "Mine"}, 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."},
		{"delete the built-in list", "DELETE", "/v1.0/me/todo/lists/" + def, nil, 403, "ErrorDeleteDistinguishedFolder", "Distinguished folders cannot be deleted."},
		{"no name", "POST", "/v1.0/me/todo/lists", map[string]any{}, 400, "BadRequest", "The property 'displayName' is required to create a todoTaskList."},
		{"empty name", "POST", "/v1.0/me/todo/lists", map[string]any{"displayName": " "}, 400, "BadRequest", "The property 'displayName' must be a non-empty string."},
		{"read-only property", "POST", "/v1.0/me/todo/lists", map[string]any{"displayName": "x", "isShared": true}, 400, "BadRequest", "The property 'isShared' is read-only and cannot be set."},
		{"unknown property", "POST", "/v1.0/me/todo/lists", map[string]any{"displayName": "x", "color": "red"}, 400, "BadRequest",
			"The property 'color' does not exist on type 'microsoft.graph.todoTaskList'. Make sure to only use property names that are defined by the type or mark the type as open type."},
		{"unknown list", "GET", "/v1.0/me/todo/lists/AAMkAGnope", nil, 404, "ErrorItemNotFound", "The specified object was not found in the store."},
		{"another user's lists", "GET", "/v1.0/users/" + testserver.Bruno + "/todo/lists", nil, 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."},
		{"bad $top", "GET", "/v1.0/me/todo/lists?$top=0", nil, 400, "BadRequest", "Invalid value '0' for $top: it must be an integer from 1 to 1000."},
	}
	for _, tt := range tests {
		r := env.Do(tt.method, tt.path, adele, tt.body)
		if r.Status != tt.status || r.ErrorCode() != tt.code || r.ErrorMessage() != tt.message {
			t.Errorf("%s: %s %s = %s, want %d %s %q", tt.name, tt.method, tt.path, r, tt.status, tt.code, tt.message)
		}
	}
}

// TestTasks: a task's properties as Graph shapes them, its computed properties,
// paging, and the errors of bad bodies, callers and ids.
func TestTasks(t *testing.T) {
	t.Parallel()
	env := setup(t)
	adele := env.UserToken(testserver.AdeleUPN)
	def := todo.DefaultListID(testserver.Adele)
	ids := map[string]string{def: "{defaultList}"}

	r := env.Do("POST", tasksOf("me", def), adele, map[string]any{
		"title": "A new task", "importance": "HIGH", "categories": []any{"Red category"},
		"body":        map[string]any{"content": "Bring <b>snacks</b>", "contentType": "html"},
		"dueDateTime": map[string]any{"dateTime": "2030-01-02T17:00:00", "timeZone": "Pacific Standard Time"},
		"@odata.type": "#microsoft.graph.todoTask",
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("POST task = %s, want 201", r)
	}
	id := r.JSON()["id"].(string)
	ids[id] = "{task}"
	golden(t, env, "task_created", r.Body, ids, volatileTimes...)

	r = env.Do("PATCH", tasksOf("me", def)+"/"+id, adele, map[string]any{"status": "completed", "dueDateTime": nil})
	if r.Status != http.StatusOK {
		t.Fatalf("PATCH task = %s, want 200", r)
	}
	golden(t, env, "task_completed", r.Body, ids, append(volatileTimes, "dateTime")...)
	if r := env.Do("PATCH", tasksOf("me", def)+"/"+id, adele, map[string]any{"status": "inProgress"}); r.Status != http.StatusOK || r.JSON()["completedDateTime"] != nil {
		t.Errorf("PATCH reopened task = %s, want 200 without completedDateTime", r)
	}
	// If-Match with another version is refused.
	if r := env.Do("PATCH", tasksOf("me", def)+"/"+id, adele, map[string]any{"title": "x"}, "If-Match", `W/"stale"`); r.Status != http.StatusPreconditionFailed {
		t.Errorf("PATCH with a stale If-Match = %s, want 412", r)
	}

	// An application with Tasks.ReadWrite.All reaches every user's tasks, by UPN too.
	app := env.AppToken()
	for _, title := range []string{"two", "three"} {
		r := env.Do("POST", tasksOf("users/"+testserver.AdeleUPN, def), app, map[string]any{"title": title})
		if r.Status != http.StatusCreated {
			t.Fatalf("POST task as the app = %s", r)
		}
		ids[r.JSON()["id"].(string)] = "{task " + title + "}"
	}
	r = env.Do("GET", tasksOf("users/"+testserver.Adele, def)+"?$top=2&$select=title", app, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET tasks = %s", r)
	}
	golden(t, env, "tasks_page", r.Body, ids, volatileTimes...)
	r = env.Do("GET", tasksOf("me", def)+"?$filter=title%20eq%20'three'", adele, nil)
	if v, _ := r.JSON()["value"].([]any); len(v) != 1 {
		t.Errorf("GET tasks $filter=title eq 'three' = %s, want one task", r)
	}

	other := env.Do("POST", "/v1.0/me/todo/lists", adele, map[string]any{"displayName": "Other"}).JSON()["id"].(string)
	readOnly, secret := env.AddApp(nil, []string{"Tasks.Read"})
	reader := env.DelegatedToken(readOnly, secret, testserver.Tenant, testserver.AdeleUPN)
	tests := []struct {
		name, token, method, path string
		body                      any
		status                    int
		code, message             string
	}{
		{"task of another list", adele, "GET", tasksOf("me", other) + "/" + id, nil, 404, "ErrorItemNotFound", "The specified object was not found in the store."},
		{"bad status", adele, "PATCH", tasksOf("me", def) + "/" + id, map[string]any{"status": "done"}, 400, "BadRequest", "Cannot convert the literal 'done' to the expected type 'microsoft.graph.taskStatus'."},
		{"bad title", adele, "PATCH", tasksOf("me", def) + "/" + id, map[string]any{"title": 5}, 400, "BadRequest", "Cannot convert the literal '5' to the expected type 'Edm.String'."},
		{"bad due date", adele, "PATCH", tasksOf("me", def) + "/" + id, map[string]any{"dueDateTime": map[string]any{"dateTime": "soon", "timeZone": "UTC"}}, 400, "BadRequest", "The value 'soon' of property 'dueDateTime' is not a valid date and time."},
		{"read-only property", adele, "POST", tasksOf("me", def), map[string]any{"hasAttachments": true}, 400, "BadRequest", "The property 'hasAttachments' is read-only and cannot be set."},
		{"bad body type", adele, "POST", tasksOf("me", def), map[string]any{"body": map[string]any{"contentType": "rtf"}}, 400, "BadRequest", "Cannot convert the literal 'rtf' to the expected type 'microsoft.graph.bodyType'."},
		{"read only with Tasks.Read", reader, "POST", tasksOf("me", def), map[string]any{"title": "x"}, 403, "Forbidden",
			"Missing scope permissions on the request. API requires one of 'Tasks.ReadWrite'. Scopes on the request 'Tasks.Read'."},
		{"unknown user, app", app, "GET", tasksOf("users/nobody@contoso.onmicrosoft.com", def), nil, 404, "ErrorInvalidUser", "The requested user 'nobody@contoso.onmicrosoft.com' is invalid."},
		{"another user's list", app, "GET", tasksOf("users/"+testserver.Bruno, def), nil, 404, "ErrorItemNotFound", "The specified object was not found in the store."},
	}
	for _, tt := range tests {
		r := env.Do(tt.method, tt.path, tt.token, tt.body)
		if r.Status != tt.status || r.ErrorCode() != tt.code || r.ErrorMessage() != tt.message {
			t.Errorf("%s: %s %s = %s, want %d %s %q", tt.name, tt.method, tt.path, r, tt.status, tt.code, tt.message)
		}
	}
	if r := env.Do("GET", tasksOf("me", def), reader, nil); r.Status != http.StatusOK {
		t.Errorf("GET tasks with Tasks.Read = %s, want 200", r)
	}
	if r := env.Do("DELETE", tasksOf("me", def)+"/"+id, adele, nil); r.Status != http.StatusNoContent {
		t.Errorf("DELETE task = %s, want 204", r)
	}
	if r := env.Do("GET", tasksOf("me", def)+"/"+id, adele, nil); r.Status != http.StatusNotFound {
		t.Errorf("GET deleted task = %s, want 404", r)
	}
}

// TestPersonalAccount: a personal account has To Do too, with its own built-in list.
func TestPersonalAccount(t *testing.T) {
	t.Parallel()
	env := setup(t)
	sam := env.PersonalToken()
	r := env.Do("GET", "/v1.0/me/todo/lists", sam, nil)
	v, _ := r.JSON()["value"].([]any)
	if r.Status != http.StatusOK || len(v) != 1 || v[0].(map[string]any)["id"] != todo.DefaultListID(testserver.Sam) {
		t.Fatalf("GET /me/todo/lists as Sam = %s, want the built-in list", r)
	}
	if r := env.Do("POST", tasksOf("me", todo.DefaultListID(testserver.Sam)), sam, map[string]any{"title": "Milk"}); r.Status != http.StatusCreated {
		t.Errorf("POST task as Sam = %s, want 201", r)
	}
}
