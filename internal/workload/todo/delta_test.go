package todo_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/todo"
)

// deltaPage is one response of a delta round.
type deltaPage struct {
	value      []map[string]any
	next, last string // @odata.nextLink, @odata.deltaLink
}

func getDelta(t *testing.T, env *testserver.Env, token, url string, headers ...string) deltaPage {
	t.Helper()
	r := env.Do("GET", url, token, nil, headers...)
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s = %s, want 200", url, r)
	}
	var p deltaPage
	body := r.JSON()
	for _, v := range body["value"].([]any) {
		p.value = append(p.value, v.(map[string]any))
	}
	p.next, _ = body["@odata.nextLink"].(string)
	p.last, _ = body["@odata.deltaLink"].(string)
	if (p.next == "") == (p.last == "") {
		t.Fatalf("GET %s: nextLink %q, deltaLink %q; want exactly one", url, p.next, p.last)
	}
	return p
}

// ids lists the ids of a page's items, "-" before the removed ones.
func (p deltaPage) ids() []string {
	var out []string
	for _, it := range p.value {
		id, _ := it["id"].(string)
		if it["@removed"] != nil {
			id = "-" + id
		}
		out = append(out, id)
	}
	return out
}

// TestListsDelta: the first round lists the built-in list; the next reports a list
// created, one renamed (latest state, once) and one deleted (@removed).
func TestListsDelta(t *testing.T) {
	t.Parallel()
	env := setup(t)
	adele := env.UserToken(testserver.AdeleUPN)
	def := todo.DefaultListID(testserver.Adele)

	first := getDelta(t, env, adele, "/v1.0/me/todo/lists/delta")
	if got := strings.Join(first.ids(), ","); got != def || first.last == "" {
		t.Fatalf("first round = %v (deltaLink %q), want the built-in list and a deltaLink", got, first.last)
	}
	create := func(name string) string {
		r := env.Do("POST", "/v1.0/me/todo/lists", adele, map[string]any{"displayName": name})
		if r.Status != http.StatusCreated {
			t.Fatalf("POST list = %s", r)
		}
		return r.JSON()["id"].(string)
	}
	kept, gone := create("Kept"), create("Gone")
	env.Do("PATCH", "/v1.0/me/todo/lists/"+kept, adele, map[string]any{"displayName": "Renamed"})
	if r := env.Do("DELETE", "/v1.0/me/todo/lists/"+gone, adele, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE list = %s", r)
	}
	second := getDelta(t, env, adele, first.last)
	if got, want := strings.Join(second.ids(), ","), kept+",-"+gone; got != want {
		t.Errorf("second round ids = %s, want %s", got, want)
	}
	if second.value[0]["displayName"] != "Renamed" || second.value[1]["@odata.type"] != "#microsoft.graph.todoTaskList" {
		t.Errorf("second round = %v, want the renamed list and a removed todoTaskList", second.value)
	}
	if third := getDelta(t, env, adele, second.last); len(third.value) != 0 {
		t.Errorf("third round = %v, want nothing", third.value)
	}
}

// TestTasksDelta: paging with Prefer: odata.maxpagesize, $select kept across the
// round, changes after the deltaLink, and tokens that are refused.
func TestTasksDelta(t *testing.T) {
	t.Parallel()
	env := setup(t)
	adele := env.UserToken(testserver.AdeleUPN)
	def := todo.DefaultListID(testserver.Adele)
	var tasks []string
	for _, title := range []string{"one", "two", "three"} {
		r := env.Do("POST", tasksOf("me", def), adele, map[string]any{"title": title, "importance": "low"})
		if r.Status != http.StatusCreated {
			t.Fatalf("POST task = %s", r)
		}
		tasks = append(tasks, r.JSON()["id"].(string))
	}
	url := tasksOf("me", def) + "/delta?$select=title"
	var listed []string
	page := getDelta(t, env, adele, url, "Prefer", "odata.maxpagesize=2")
	for pages := 1; ; pages++ {
		for _, it := range page.value {
			if it["title"] == nil || it["importance"] != nil {
				t.Errorf("item %v, want $select=title applied", it)
			}
			listed = append(listed, it["id"].(string))
		}
		if page.last != "" {
			if pages != 2 {
				t.Errorf("initial round took %d pages, want 2", pages)
			}
			break
		}
		if strings.Contains(page.next, "$select") {
			t.Errorf("nextLink %s repeats $select; the token carries it", page.next)
		}
		page = getDelta(t, env, adele, page.next, "Prefer", "odata.maxpagesize=2")
	}
	if len(listed) != 3 {
		t.Fatalf("initial round listed %v, want the 3 tasks", listed)
	}
	last := page.last

	if r := env.Do("PATCH", tasksOf("me", def)+"/"+tasks[0], adele, map[string]any{"status": "completed"}); r.Status != http.StatusOK {
		t.Fatal(r)
	}
	if r := env.Do("DELETE", tasksOf("me", def)+"/"+tasks[1], adele, nil); r.Status != http.StatusNoContent {
		t.Fatal(r)
	}
	next := getDelta(t, env, adele, last)
	if got, want := strings.Join(next.ids(), ","), tasks[0]+",-"+tasks[1]; got != want {
		t.Errorf("next round ids = %s, want %s", got, want)
	}
	if it := next.value[0]; it["title"] != "one" || it["status"] != nil {
		t.Errorf("updated task in the next round = %v, want only its title ($select kept)", it)
	}
	if it := next.value[1]; it["@odata.type"] != "#microsoft.graph.todoTask" || it["@removed"].(map[string]any)["reason"] != "deleted" {
		t.Errorf("removed task = %v, want @removed reason deleted", it)
	}

	// A token of another collection, or a made-up one, is syncStateNotFound.
	other := env.Do("POST", "/v1.0/me/todo/lists", adele, map[string]any{"displayName": "Other"}).JSON()["id"].(string)
	token := last[strings.Index(last, "$deltatoken=")+len("$deltatoken="):]
	for _, u := range []string{tasksOf("me", other) + "/delta?$deltatoken=" + token, tasksOf("me", def) + "/delta?$deltatoken=bogus"} {
		if r := env.Do("GET", u, adele, nil); r.Status != http.StatusBadRequest || r.ErrorCode() != "syncStateNotFound" {
			t.Errorf("GET %s = %s, want 400 syncStateNotFound", u, r)
		}
	}
	if r := env.Do("GET", tasksOf("me", "AAMkAGnope")+"/delta", adele, nil); r.Status != http.StatusNotFound {
		t.Errorf("delta of a list that does not exist = %s, want 404", r)
	}
}
