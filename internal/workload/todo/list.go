package todo

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// listSchema is what a client may set on a todoTaskList: its name, nothing else.
var listSchema = schema{
	typeName: "microsoft.graph.todoTaskList",
	writable: map[string]rule{"displayName": requiredString},
	readOnly: []string{"id", "isOwner", "isShared", "wellknownListName"},
}

// newList is a list's document before a request body is applied.
func newList(id, name, wellKnown string) map[string]any {
	return map[string]any{"id": id, "displayName": name, "isOwner": true, "isShared": false, "wellknownListName": wellKnown}
}

// loadList finds the {list} of a path in the user's To Do.
func (o *op) loadList(ow owner, id string) (store.Object, map[string]any, error) {
	return o.load(ow, KindList, id)
}

func (w *Workload) listLists(c *httpapi.Ctx) error {
	q, err := parseList(c)
	if err != nil {
		return err
	}
	var docs []map[string]any
	var ow owner
	err = w.run(c, false, func(o *op) error {
		if ow, err = o.owner(c.Param("user"), readRule); err != nil {
			return err
		}
		objs, err := o.tx.ListObjects(o.ctx, store.ObjectQuery{Tenant: ow.tenant, Kind: KindList, Owner: ow.user})
		if err != nil {
			return err
		}
		// The built-in list comes first, then the others in the order they were made.
		slices.SortStableFunc(objs, func(a, b store.Object) int {
			return cmp.Or(cmp.Compare(b.Alt, a.Alt), a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
		})
		docs, err = decodeAll(objs)
		return err
	})
	if err != nil {
		return err
	}
	return q.write(c, userPath(ow)+"/todo/lists", docs)
}

func (w *Workload) getList(c *httpapi.Ctx) error {
	fields, err := rest.Fields(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	var ow owner
	err = w.run(c, false, func(o *op) error {
		if ow, err = o.owner(c.Param("user"), readRule); err != nil {
			return err
		}
		_, doc, err = o.loadList(ow, c.Param("list"))
		return err
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, userPath(ow)+"/todo/lists/$entity", rest.Select(doc, fields))
}

func (w *Workload) createList(c *httpapi.Ctx) error {
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	var ow owner
	err = w.run(c, true, func(o *op) error {
		if ow, err = o.owner(c.Param("user"), writeRule); err != nil {
			return err
		}
		doc = map[string]any{"id": newID(), "isOwner": true, "isShared": false, "wellknownListName": "none"}
		if err := listSchema.apply(doc, body); err != nil {
			return err
		}
		if doc["displayName"] == nil {
			return graph.BadRequest("The property 'displayName' is required to create a todoTaskList.")
		}
		id := doc["id"].(string)
		return o.insert(listType, ow, "", doc, listResource(ow, id), change.TodoLists(ow.user))
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusCreated, userPath(ow)+"/todo/lists/$entity", doc)
}

func (w *Workload) updateList(c *httpapi.Ctx) error {
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	var ow owner
	err = w.run(c, true, func(o *op) error {
		if ow, err = o.owner(c.Param("user"), writeRule); err != nil {
			return err
		}
		var obj store.Object
		if obj, doc, err = o.loadList(ow, c.Param("list")); err != nil {
			return err
		}
		if err := checkIfMatch(c, doc); err != nil {
			return err
		}
		if err := listSchema.apply(doc, body); err != nil {
			return err
		}
		// The built-in list keeps its name.
		if obj.Alt != "" && doc["displayName"] != "Tasks" {
			return graph.ExchangeAccessDenied()
		}
		return o.update(listType, ow, obj, doc, listResource(ow, obj.ID), change.TodoLists(ow.user))
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, userPath(ow)+"/todo/lists/$entity", doc)
}

// deleteList removes a list and its tasks; each task records its own "deleted"
// change, so subscriptions on the list's tasks and its task delta see them go.
func (w *Workload) deleteList(c *httpapi.Ctx) error {
	err := w.run(c, true, func(o *op) error {
		ow, err := o.owner(c.Param("user"), writeRule)
		if err != nil {
			return err
		}
		obj, doc, err := o.loadList(ow, c.Param("list"))
		if err != nil {
			return err
		}
		if obj.Alt != "" {
			return graph.Errorf(http.StatusForbidden, codeDeleteDistinguished, "Distinguished folders cannot be deleted.")
		}
		if err := checkIfMatch(c, doc); err != nil {
			return err
		}
		tasks, err := o.tx.ListObjects(o.ctx, store.ObjectQuery{Tenant: ow.tenant, Kind: KindTask, Owner: ow.user, Parent: obj.ID})
		if err != nil {
			return err
		}
		for _, t := range tasks {
			if err := o.remove(taskType, ow, t, taskResource(ow, obj.ID, t.ID), change.TodoTasks(ow.user, obj.ID)); err != nil {
				return err
			}
		}
		return o.remove(listType, ow, obj, listResource(ow, obj.ID), change.TodoLists(ow.user))
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// decodeAll decodes stored documents.
func decodeAll(objs []store.Object) ([]map[string]any, error) {
	docs := make([]map[string]any, 0, len(objs))
	for _, obj := range objs {
		doc, err := rest.Decode(obj.Data)
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
	return docs, nil
}
