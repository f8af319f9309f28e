package conversations

import (
	"cmp"
	"html"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)

// preview is a body's text, whitespace collapsed, at most 255 characters.
func preview(body map[string]any) string {
	text, _ := body["content"].(string)
	if body["contentType"] == "html" {
		text = html.UnescapeString(tagRE.ReplaceAllString(text, " "))
	}
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > 255 {
		text = string(r[:255])
	}
	return text
}

// parsePost checks a post the client sent: body (required), newParticipants, and for
// application callers from.
func (o *op) parsePost(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, graph.ExchangeInvalidProperty("Invalid value for property 'post': an object of type 'Microsoft.OutlookServices.Post' is expected.")
	}
	post := map[string]any{"body": nil, "newParticipants": []any{}, "from": o.sender}
	for k, val := range m {
		switch strings.ToLower(k) {
		case "body":
			b, ok := val.(map[string]any)
			if !ok {
				return nil, graph.ExchangeInvalidProperty("Invalid value for property 'body': an object of type 'Microsoft.OutlookServices.ItemBody' is expected.")
			}
			ct, _ := b["contentType"].(string)
			ct = strings.ToLower(cmp.Or(ct, "html"))
			content, ok := b["content"].(string)
			if (ct != "html" && ct != "text") || !ok {
				return nil, graph.ExchangeInvalidProperty("Invalid value for property 'body': contentType must be 'text' or 'html' and content a string.")
			}
			post["body"] = map[string]any{"contentType": ct, "content": content}
		case "newparticipants":
			list, err := recipients("newParticipants", val)
			if err != nil {
				return nil, err
			}
			post["newParticipants"] = list
		case "from":
			if o.p.Type.Delegated() {
				return nil, graph.ExchangeInvalidProperty("The property 'from' can be set only by application callers; delegated posts are from the signed-in user.")
			}
			list, err := recipients("from", []any{val})
			if err != nil {
				return nil, err
			}
			post["from"] = list[0]
		default:
			return nil, graph.ExchangeInvalidProperty("The property '%s' does not exist on type 'Microsoft.OutlookServices.Post'.", k)
		}
	}
	if post["body"] == nil {
		return nil, graph.ExchangeInvalidRequest("A post needs a body.")
	}
	return post, nil
}

func recipients(name string, v any) ([]any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, graph.ExchangeInvalidProperty("Invalid value for property '%s': an array of recipients is expected.", name)
	}
	out := make([]any, 0, len(arr))
	for _, r := range arr {
		m, _ := r.(map[string]any)
		ea, _ := m["emailAddress"].(map[string]any)
		addr, _ := ea["address"].(string)
		if at := strings.IndexByte(addr, '@'); at <= 0 || at == len(addr)-1 || strings.ContainsAny(addr, " <>") {
			return nil, graph.ExchangeInvalidProperty("Invalid value for property '%s': each recipient needs a valid emailAddress/address.", name)
		}
		nm, _ := ea["name"].(string)
		out = append(out, map[string]any{"emailAddress": map[string]any{"name": cmp.Or(nm, addr), "address": addr}})
	}
	return out, nil
}

// addPost stores a post in thread and refreshes the thread's and conversation's
// summaries; the conversation's change ("created" for a new one, else "updated") is
// recorded by the caller through touch.
func (o *op) addPost(conv, thread *store.Object, convDoc, threadDoc, post map[string]any) error {
	// Posts are read in delivery order; posts written by one request get distinct
	// times so that the order holds within it too.
	now := graph.FormatTime(o.now.Add(time.Duration(o.posts) * 100 * time.Nanosecond))
	o.posts++
	post["id"] = newID("AAMkAG")
	key := newID("CQAAABYAAAA")[:28]
	post["changeKey"], post["@odata.etag"] = key, `W/"`+key+`"`
	post["createdDateTime"], post["lastModifiedDateTime"], post["receivedDateTime"] = now, now, now
	post["categories"], post["hasAttachments"] = []any{}, false
	post["sender"] = post["from"]
	post["conversationThreadId"], post["conversationId"] = thread.ID, conv.ID
	if err := o.put(&store.Object{Kind: kindPost, ID: post["id"].(string), Parent: thread.ID}, post, true); err != nil {
		return err
	}
	sender := post["from"].(map[string]any)["emailAddress"].(map[string]any)["name"]
	text := preview(post["body"].(map[string]any))
	for _, doc := range []map[string]any{threadDoc, convDoc} {
		doc["lastDeliveredDateTime"] = now
		doc["preview"] = text
		senders, _ := doc["uniqueSenders"].([]any)
		if !slices.Contains(senders, sender) {
			doc["uniqueSenders"] = append(senders, sender)
		}
	}
	return nil
}

// reply adds a post to a thread (threads/{id}/reply, posts/{id}/reply): {"post": …}.
func (w *Workload) reply(c *httpapi.Ctx) error {
	body, err := rest.Body(c)
	if err != nil {
		return err
	}
	err = w.run(c, true, func(o *op) error {
		var raw any
		for k, v := range body {
			if !strings.EqualFold(k, "post") {
				return graph.ExchangeInvalidProperty("The property '%s' does not exist on the reply action; 'post' is expected.", k)
			}
			raw = v
		}
		if raw == nil {
			return graph.ExchangeInvalidRequest("The parameter 'post' is required.")
		}
		post, err := o.parsePost(raw)
		if err != nil {
			return err
		}
		thread, threadDoc, err := o.thread(c)
		if err != nil {
			return err
		}
		if threadDoc["isLocked"] == true {
			return graph.ExchangeAccessDenied()
		}
		if id := c.Param("post"); id != "" {
			if _, _, err := o.get(kindPost, id, thread.ID); err != nil {
				return err
			}
		}
		conv, convDoc, err := o.get(kindConversation, thread.Parent, "")
		if err != nil {
			return err
		}
		if err := o.addPost(&conv, &thread, convDoc, threadDoc, post); err != nil {
			return err
		}
		if err := o.put(&thread, threadDoc, false); err != nil {
			return err
		}
		return o.saveConversation(&conv, convDoc, false)
	})
	if err != nil {
		return err
	}
	return rest.Accepted(c)
}

func (w *Workload) getPost(c *httpapi.Ctx) error {
	return w.getOne(c, "threads('"+c.Param("thread")+"')/posts", func(o *op) (map[string]any, error) {
		thread, _, err := o.thread(c)
		if err != nil {
			return nil, err
		}
		_, doc, err := o.get(kindPost, c.Param("post"), thread.ID)
		return doc, err
	})
}

func (w *Workload) listPosts(c *httpapi.Ctx) error {
	return w.listOf(c, "threads('"+c.Param("thread")+"')/posts", deliveryOrder, func(o *op) (store.ObjectQuery, error) {
		thread, _, err := o.thread(c)
		if err != nil {
			return store.ObjectQuery{}, err
		}
		return o.query(kindPost, thread.ID), nil
	})

}
