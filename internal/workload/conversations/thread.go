package conversations

import (
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// topicOf reads the topic property of a conversation or thread.
func topicOf(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", graph.ExchangeInvalidProperty("Invalid value for property 'topic': a string is expected.")
	}
	return s, nil
}

// newThread reads {"topic", "posts": [...]} into a thread of conv with its posts.
func (o *op) newThread(conv *store.Object, convDoc map[string]any, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return graph.ExchangeInvalidProperty("Invalid value for property 'threads': an array of conversationThread objects is expected.")
	}
	topic, _ := convDoc["topic"].(string)
	var posts []any
	for k, val := range m {
		switch strings.ToLower(k) {
		case "topic":
			var err error
			if topic, err = topicOf(val); err != nil {
				return err
			}
		case "posts":
			if posts, ok = val.([]any); !ok {
				return graph.ExchangeInvalidProperty("Invalid value for property 'posts': an array of posts is expected.")
			}
		case "torecipients", "ccrecipients":
			if _, err := recipients(k, val); err != nil {
				return err
			}
		default:
			return graph.ExchangeInvalidProperty("The property '%s' does not exist on type 'Microsoft.OutlookServices.ConversationThread'.", k)
		}
	}
	if len(posts) == 0 {
		return graph.ExchangeInvalidRequest("A new thread needs at least one post.")
	}
	thread := &store.Object{Kind: kindThread, ID: newID("AAQkAG"), Parent: conv.ID}
	doc := summary(topic)
	doc["id"], doc["isLocked"], doc["toRecipients"], doc["ccRecipients"] = thread.ID, false, []any{}, []any{}
	for _, p := range posts {
		post, err := o.parsePost(p)
		if err != nil {
			return err
		}
		if err := o.addPost(conv, thread, convDoc, doc, post); err != nil {
			return err
		}
	}
	return o.put(thread, doc, true)
}

// createThread adds a thread: to the conversation in the path, or, under
// groups/{id}/threads, in a new conversation of its own, as Graph does.
func (w *Workload) createThread(c *httpapi.Ctx) error {
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	err = w.run(c, true, func(o *op) error {
		if id := c.Param("conv"); id != "" {
			obj, doc, err := o.get(kindConversation, id, "")
			if err != nil {
				return err
			}
			if err := o.newThread(&obj, doc, body); err != nil {
				return err
			}
			return o.saveConversation(&obj, doc, false)
		}
		topic, _ := body["topic"].(string)
		if strings.TrimSpace(topic) == "" {
			return graph.ExchangeInvalidRequest("A thread needs a topic.")
		}
		conv := &store.Object{Kind: kindConversation, ID: newID("AAQkAG")}
		doc := summary(topic)
		doc["id"] = conv.ID
		if err := o.newThread(conv, doc, body); err != nil {
			return err
		}
		return o.saveConversation(conv, doc, true)
	})
	if err != nil {
		return err
	}
	return rest.Accepted(c)
}

func (w *Workload) getThread(c *httpapi.Ctx) error {
	return w.getOne(c, "threads", func(o *op) (map[string]any, error) {
		_, doc, err := o.thread(c)
		return doc, err
	})
}

func (w *Workload) listThreads(c *httpapi.Ctx) error {
	return w.listOf(c, "threads", newestFirst, func(o *op) (store.ObjectQuery, error) {
		if id := c.Param("conv"); id != "" {
			if _, _, err := o.get(kindConversation, id, ""); err != nil {
				return store.ObjectQuery{}, err
			}
			return o.query(kindThread, id), nil
		}
		return o.query(kindThread, ""), nil
	})
}
