package todo

import (
	"net/http"
	"reflect"
	"slices"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// taskSchema is what a client may set on a todoTask.
var taskSchema = schema{
	typeName: "microsoft.graph.todoTask",
	writable: map[string]rule{
		"title":             str,
		"body":              itemBody,
		"categories":        strList,
		"importance":        enum("microsoft.graph.importance", "low", "normal", "high"),
		"isReminderOn":      boolean,
		"status":            enum("microsoft.graph.taskStatus", "notStarted", "inProgress", "completed", "waitingOnOthers", "deferred"),
		"dueDateTime":       dateTimeTimeZone,
		"startDateTime":     dateTimeTimeZone,
		"reminderDateTime":  dateTimeTimeZone,
		"completedDateTime": dateTimeTimeZone,
		"recurrence":        recurrence,
	},
	readOnly: []string{"id", "createdDateTime", "lastModifiedDateTime", "bodyLastModifiedDateTime", "hasAttachments"},
}

// optional are the task properties Graph leaves out while they have no value.
var optional = []string{"dueDateTime", "startDateTime", "reminderDateTime", "completedDateTime", "recurrence"}

// newTask is a task's document with every property at its default.
func (o *op) newTask() map[string]any {
	now := graph.FormatTime(o.now)
	return map[string]any{
		"id": newID(), "title": "", "body": map[string]any{"content": "", "contentType": "text"},
		"categories": []any{}, "importance": "normal", "isReminderOn": false, "status": "notStarted",
		"hasAttachments": false, "createdDateTime": now, "lastModifiedDateTime": now, "bodyLastModifiedDateTime": now,
	}
}

// applyTask sets body's properties on doc and keeps the computed ones true: the
// modification times, and completedDateTime, which To Do sets when a task is
// completed and clears when it is reopened.
func (o *op) applyTask(doc, body map[string]any) error {
	oldBody, oldStatus := doc["body"], doc["status"]
	if err := taskSchema.apply(doc, body); err != nil {
		return err
	}
	now := graph.FormatTime(o.now)
	doc["lastModifiedDateTime"] = now
	if !reflect.DeepEqual(oldBody, doc["body"]) {
		doc["bodyLastModifiedDateTime"] = now
	}
	switch {
	case doc["status"] != "completed":
		delete(doc, "completedDateTime")
	case oldStatus != "completed" && doc["completedDateTime"] == nil:
		doc["completedDateTime"] = map[string]any{"dateTime": o.now.Format(localLayout), "timeZone": "UTC"}
	}
	for _, k := range optional {
		if v, ok := doc[k]; ok && v == nil {
			delete(doc, k)
		}
	}
	return nil
}

// taskList resolves the user and the {list} of a task request.
func (o *op) taskList(c *httpapi.Ctx, rule rest.Permissions) (owner, store.Object, error) {
	ow, err := o.owner(c.Param("user"), rule)
	if err != nil {
		return ow, store.Object{}, err
	}
	list, _, err := o.loadList(ow, c.Param("list"))
	return ow, list, err
}

// loadTask finds the {id} of a path in the list; a task of another list is not
// found.
func (o *op) loadTask(ow owner, list store.Object, id string) (store.Object, map[string]any, error) {
	obj, doc, err := o.load(ow, KindTask, id)
	if err == nil && obj.Parent != list.ID {
		return store.Object{}, nil, graph.ExchangeItemNotFound()
	}
	return obj, doc, err
}

func tasksPath(ow owner, list string) string {
	return userPath(ow) + "/todo/lists('" + list + "')/tasks"
}

func (w *Workload) listTasks(c *httpapi.Ctx) error {
	q, err := parseList(c)
	if err != nil {
		return err
	}
	var docs []map[string]any
	var ow owner
	var list store.Object
	paged := false
	err = w.run(c, false, func(o *op) error {
		if ow, list, err = o.taskList(c, readRule); err != nil {
			return err
		}
		var query store.ObjectQuery
		query, paged = q.taskQuery(ow, list.ID)
		objs, err := o.tx.ListObjects(o.ctx, query)
		if err != nil {
			return err
		}
		slices.SortStableFunc(objs, func(a, b store.Object) int { return a.Created.Compare(b.Created) })
		docs, err = decodeAll(objs)
		return err
	})
	if err != nil {
		return err
	}
	if paged {
		return q.writeStored(c, tasksPath(ow, list.ID), docs)
	}
	return q.write(c, tasksPath(ow, list.ID), docs)
}

func (w *Workload) getTask(c *httpapi.Ctx) error {
	fields, err := rest.Fields(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	var ow owner
	var list store.Object
	err = w.run(c, false, func(o *op) error {
		if ow, list, err = o.taskList(c, readRule); err != nil {
			return err
		}
		_, doc, err = o.loadTask(ow, list, c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, tasksPath(ow, list.ID)+"/$entity", rest.Select(doc, fields))
}

func (w *Workload) createTask(c *httpapi.Ctx) error {
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	var ow owner
	var list store.Object
	err = w.run(c, true, func(o *op) error {
		if ow, list, err = o.taskList(c, writeRule); err != nil {
			return err
		}
		doc = o.newTask()
		if err := o.applyTask(doc, body); err != nil {
			return err
		}
		id := doc["id"].(string)
		return o.insert(taskType, ow, list.ID, doc, taskResource(ow, list.ID, id), change.TodoTasks(ow.user, list.ID))
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusCreated, tasksPath(ow, list.ID)+"/$entity", doc)
}

func (w *Workload) updateTask(c *httpapi.Ctx) error {
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	var ow owner
	var list store.Object
	err = w.run(c, true, func(o *op) error {
		if ow, list, err = o.taskList(c, writeRule); err != nil {
			return err
		}
		var obj store.Object
		if obj, doc, err = o.loadTask(ow, list, c.Param("id")); err != nil {
			return err
		}
		if err := checkIfMatch(c, doc); err != nil {
			return err
		}
		if err := o.applyTask(doc, body); err != nil {
			return err
		}
		return o.update(taskType, ow, obj, doc, taskResource(ow, list.ID, obj.ID), change.TodoTasks(ow.user, list.ID))
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, tasksPath(ow, list.ID)+"/$entity", doc)
}

func (w *Workload) deleteTask(c *httpapi.Ctx) error {
	err := w.run(c, true, func(o *op) error {
		ow, list, err := o.taskList(c, writeRule)
		if err != nil {
			return err
		}
		obj, doc, err := o.loadTask(ow, list, c.Param("id"))
		if err != nil {
			return err
		}
		if err := checkIfMatch(c, doc); err != nil {
			return err
		}
		return o.remove(taskType, ow, obj, taskResource(ow, list.ID, obj.ID), change.TodoTasks(ow.user, list.ID))
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}
