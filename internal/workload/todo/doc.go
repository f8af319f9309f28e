// Package todo is the Microsoft To Do workload: a user's task lists
// (/users/{id}/todo/lists, todoTaskList) and the tasks in them
// (/users/{id}/todo/lists/{id}/tasks, todoTask), with their delta queries, after
// Microsoft's todoTaskList and todoTask reference pages, "todoTaskList: delta" and
// "todoTask: delta". Subscriptions watch the tasks of one list (todoTask).
//
// # The default list
//
// Every user and personal account has a built-in "Tasks" list (wellknownListName
// defaultList) that cannot be renamed or deleted. Nothing is stored for it until the
// user's To Do is first used: it is created then, in the same transaction as that
// request's work, with an id derived from the user (DefaultListID), so that a
// subscription on /users/{id}/todo/lists/{DefaultListID}/tasks made before any
// To Do request watches the same topic the first task is recorded on. A read that
// meets an unprovisioned user is repeated as a write (as outlook does for mailboxes).
//
// # Objects and changes
//
// A list is a store object of kind todoTaskList (owner user, alt "defaultList" for
// the built-in one); a task one of kind todoTask (owner user, parent list). Data is
// exactly the item's API representation (with @odata.etag), so reads serve it as
// stored and change records carry it. Every write of a list records its change on
// the user's lists topic (change.TodoLists), every write of a task on its list's
// tasks topic (change.TodoTasks); deleting a list records the deletion of each of
// its tasks first, so subscribers and delta see them go.
//
// # Notifications
//
// Microsoft's pages show a todoTask notification only as Event Grid delivers it:
// resourceData {"id", "@odata.type": "#microsoft.graph.todoTask"}. graphhook sends it
// in the shape Exchange-backed resources use: resource and @odata.id
// Users/{user}/todo/lists/{list}/tasks/{id}, and the task's @odata.etag.
//
// # Permissions
//
// Microsoft's per-operation tables for To Do disagree with each other (one page
// lists Tasks.Read as enough to delete a list, another refuses applications the GET
// of a task it lets them create). graphhook applies one rule: reads take Tasks.Read
// or Tasks.ReadWrite (delegated) and Tasks.Read.All or Tasks.ReadWrite.All
// (application); writes take Tasks.ReadWrite or Tasks.ReadWrite.All. Subscriptions
// follow "Create subscription": Tasks.ReadWrite for delegated callers (work and
// personal), no application permission.
//
// # Errors
//
// To Do answers with Exchange's codes: ErrorItemNotFound (404) for a list or task
// that does not exist or belongs to another user, ErrorInvalidUser (404) for an
// unknown user, ErrorAccessDenied (403) for another user's To Do with a delegated
// token, ErrorDeleteDistinguishedFolder (403) for the default list,
// ErrorIrresolvableConflict (412) for a stale If-Match. Bad bodies get the OData
// deserializer's 400 BadRequest texts, missing permissions Graph's 403 naming them.
package todo
