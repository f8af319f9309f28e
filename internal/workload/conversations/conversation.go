package conversations

import (
	"net/http"
	"strings"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// record appends the change of a conversation.
func (o *op) record(id, changeType string, before, after []byte) error {
	res := "groups('" + o.group + "')/conversations('" + id + "')"
	n := change.Notice{Resource: res, ODataType: "#Microsoft.Graph.Conversation", ODataID: res, ID: id}
	return change.Record(o.ctx, o.tx, o.p.TenantID, kindConversation, id, changeType, []string{change.GroupConversations(o.group)}, before, after, n, o.now)
}

// saveConversation writes a conversation and records its change.
func (o *op) saveConversation(obj *store.Object, doc map[string]any, created bool) error {
	before := obj.Data
	if err := o.put(obj, doc, created); err != nil {
		return err
	}
	if created {
		return o.record(obj.ID, store.Created, nil, obj.Data)
	}
	return o.record(obj.ID, store.Updated, before, obj.Data)
}

func summary(topic string) map[string]any {
	return map[string]any{"topic": topic, "hasAttachments": false, "lastDeliveredDateTime": nil, "uniqueSenders": []any{}, "preview": ""}
}

func (w *Workload) createConversation(c *httpapi.Ctx) error {
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	var doc map[string]any
	err = w.run(c, true, func(o *op) error {
		var threads []any
		topic := ""
		for k, v := range body {
			switch strings.ToLower(k) {
			case "topic":
				var err error
				if topic, err = topicOf(v); err != nil {
					return err
				}
			case "threads":
				var ok bool
				if threads, ok = v.([]any); !ok {
					return graph.ExchangeInvalidProperty("Invalid value for property 'threads': an array is expected.")
				}
			default:
				return graph.ExchangeInvalidProperty("The property '%s' does not exist on type 'Microsoft.OutlookServices.Conversation'.", k)
			}
		}
		if strings.TrimSpace(topic) == "" {
			return graph.ExchangeInvalidRequest("A conversation needs a topic.")
		}
		if len(threads) == 0 {
			return graph.ExchangeInvalidRequest("A conversation needs at least one thread with a post.")
		}
		conv := &store.Object{Kind: kindConversation, ID: newID("AAQkAG")}
		doc = summary(topic)
		doc["id"] = conv.ID
		for _, t := range threads {
			if err := o.newThread(conv, doc, t); err != nil {
				return err
			}
		}
		return o.saveConversation(conv, doc, true)
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusCreated, groupPath(c)+"conversations/$entity", doc)
}

func (w *Workload) deleteConversation(c *httpapi.Ctx) error {
	err := w.run(c, true, func(o *op) error {
		conv, _, err := o.get(kindConversation, c.Param("conv"), "")
		if err != nil {
			return err
		}
		threads, err := o.tx.ListObjects(o.ctx, store.ObjectQuery{Tenant: o.p.TenantID, Kind: kindThread, Owner: o.group, Parent: conv.ID})
		if err != nil {
			return err
		}
		for _, t := range threads {
			posts, err := o.tx.ListObjects(o.ctx, store.ObjectQuery{Tenant: o.p.TenantID, Kind: kindPost, Owner: o.group, Parent: t.ID})
			if err != nil {
				return err
			}
			for _, p := range posts {
				if err := o.tx.DeleteObject(o.ctx, o.p.TenantID, kindPost, p.ID); err != nil {
					return err
				}
			}
			if err := o.tx.DeleteObject(o.ctx, o.p.TenantID, kindThread, t.ID); err != nil {
				return err
			}
		}
		if err := o.tx.DeleteObject(o.ctx, o.p.TenantID, kindConversation, conv.ID); err != nil {
			return err
		}
		return o.record(conv.ID, store.Deleted, conv.Data, nil)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

func (w *Workload) getConversation(c *httpapi.Ctx) error {
	return w.getOne(c, "conversations", func(o *op) (map[string]any, error) {
		_, doc, err := o.get(kindConversation, c.Param("conv"), "")
		return doc, err
	})
}

func (w *Workload) listConversations(c *httpapi.Ctx) error {
	return w.listOf(c, "conversations", newestFirst, func(o *op) (store.ObjectQuery, error) {
		return o.query(kindConversation, ""), nil
	})
}
