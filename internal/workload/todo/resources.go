package todo

import (
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
)

// TaskResource is the resource type name of To Do tasks.
const TaskResource = "todoTask"

// Resources describes To Do's subscribable resource: the tasks of one task list,
// after "Set up notifications for changes in resource data" (changes to all tasks in
// a specific task list), the subscription lifetime table (4,230 minutes) and
// "Create subscription" (Tasks.ReadWrite for delegated work and personal callers,
// not available to applications). The path names a user whose tasks only that user
// may watch with a delegated token.
func Resources() []resource.Descriptor {
	return []resource.Descriptor{{
		Type:        TaskResource,
		Workload:    "To Do",
		Kinds:       []string{KindTask, KindList},
		ChangeTypes: []string{store.Created, store.Updated, store.Deleted},
		MaxLifetime: 4230 * time.Minute,
		// A deleted user takes the subscriptions on its task lists with it (the
		// directory's RemovedWith covers users/{u}/).
		Lifecycle: []string{graph.LifecycleSubscriptionRemoved, graph.LifecycleMissed},
		Paths: []resource.Path{
			{Pattern: "users/{user}/todo/lists/{todoList}/tasks", OwnUser: true, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				u, err := directory.SubscribedUser(r, ids[0])
				if err != nil {
					return resource.Target{}, err
				}
				list, err := subscribedList(r, u, ids[1])
				return resource.Target{Topic: change.TodoTasks(u, list), User: u}, err
			}},
		},
		Permissions: []resource.Permission{{DelegatedWork: []string{"Tasks.ReadWrite"}, DelegatedPersonal: []string{"Tasks.ReadWrite"}}},
		Samples: []resource.Sample{
			{ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "users/{user}/todo/lists/{todoList}/tasks", `{"title":"Sample"}`)}, Permission: "Tasks.ReadWrite.All"},
			{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "users/{user}/todo/lists/{todoList}/tasks/{id}", `{"status":"completed"}`)}, Permission: "Tasks.ReadWrite.All"},
			{ChangeType: store.Deleted, Requests: []resource.Request{resource.Req("DELETE", "users/{user}/todo/lists/{todoList}/tasks/{id}", "")}, Permission: "Tasks.ReadWrite.All"},
		},
	}}
}

// subscribedList resolves a task list of user u for a resource path: the default
// list's derived id (stored or not yet), or a list the user owns.
func subscribedList(r *resource.Resolver, u, id string) (string, error) {
	if id == DefaultListID(u) {
		return id, nil
	}
	o, err := r.Object(KindList, id, u, "The task list '%s' does not exist.")
	return o.ID, err
}
