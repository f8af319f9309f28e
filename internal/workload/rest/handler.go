package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
)

// TxFunc is a request's work inside a transaction. Under PostgreSQL an Update may run
// it more than once, so it must only do store work and reset what it collects.
type TxFunc func(ctx context.Context, tx store.Tx) error

// DocFunc is a TxFunc that produces the document the response carries.
type DocFunc func(ctx context.Context, tx store.Tx) (map[string]any, error)

// View runs fn in a read transaction bound to the request's context. A delta
// request's view reads the change log after what the path names (the user, the
// folder): it is marked store.ReadsChangeLog, so that it sees every change
// committed before it began, the caller's own included.
func View(c *httpapi.Ctx, st store.Store, fn TxFunc) error {
	ctx := c.R.Context()
	if slices.Contains(c.Segments, "delta") {
		ctx = store.ReadsChangeLog(ctx)
	}
	return st.View(ctx, func(tx store.Tx) error { return fn(ctx, tx) })
}

// Update runs fn in a write transaction bound to the request's context.
func Update(c *httpapi.Ctx, st store.Store, fn TxFunc) error {
	ctx := c.R.Context()
	return st.Update(ctx, func(tx store.Tx) error { return fn(ctx, tx) })
}

// Run runs fn in a write transaction when write is set, else in a read one.
func Run(c *httpapi.Ctx, st store.Store, write bool, fn TxFunc) error {
	if write {
		return Update(c, st, fn)
	}
	return View(c, st, fn)
}

// Get reads one document in a read transaction and answers it with 200 and the
// @odata.context of fragment (for example "teams/$entity").
func Get(c *httpapi.Ctx, st store.Store, fragment string, fn DocFunc) error {
	doc, err := collect(c, st.View, fn)
	if err != nil {
		return err
	}
	return Entity(c, http.StatusOK, fragment, doc)
}

// Write runs fn in a write transaction and answers the document it returns with
// status and the @odata.context of fragment.
func Write(c *httpapi.Ctx, st store.Store, status int, fragment string, fn DocFunc) error {
	doc, err := collect(c, st.Update, fn)
	if err != nil {
		return err
	}
	return Entity(c, status, fragment, doc)
}

func collect(c *httpapi.Ctx, run func(context.Context, func(store.Tx) error) error, fn DocFunc) (map[string]any, error) {
	ctx := c.R.Context()
	var doc map[string]any
	err := run(ctx, func(tx store.Tx) error {
		var err error
		doc, err = fn(ctx, tx)
		return err
	})
	return doc, err
}

// Entity writes one document with status and its @odata.context.
func Entity(c *httpapi.Ctx, status int, fragment string, doc map[string]any) error {
	doc["@odata.context"] = c.ContextURL(fragment)
	return c.JSON(status, doc)
}

// contextKey is the key Entity adds, as docjson writes it.
const contextKey = `"@odata.context"`

// EntityEncoded is Entity for a document already encoded with docjson (the bytes a
// write just stored): it writes the same bytes, without encoding the document again.
// docjson writes keys in byte order, so @odata.context goes first unless a key of
// the document sorts before it (or its first key is escaped); such a document is
// decoded and written by Entity.
func EntityEncoded(c *httpapi.Ctx, status int, fragment string, data []byte) error {
	first, ok := firstKey(data)
	// A key written with an escape sorts by what it stands for, not by its escape.
	if !ok || (first != "" && first <= contextKey) || strings.ContainsRune(first, '\\') {
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			return err
		}
		return Entity(c, status, fragment, doc)
	}
	out := make([]byte, 0, len(data)+len(contextKey)+128)
	out = append(out, '{')
	out = append(out, contextKey...)
	out = append(out, ':')
	out = docjson.AppendString(out, c.ContextURL(fragment))
	if first != "" {
		out = append(out, ',')
	}
	out = append(out, data[1:]...)
	return c.EncodedJSON(status, out)
}

// firstKey returns the first key of the JSON object data as written, quotes
// included ("" for an empty object), or false when data does not start as an
// object does.
func firstKey(data []byte) (string, bool) {
	if len(data) < 2 || data[0] != '{' {
		return "", false
	}
	if data[1] == '}' {
		return "", true
	}
	if data[1] != '"' {
		return "", false
	}
	for i := 2; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return string(data[1 : i+1]), true
		}
	}
	return "", false
}

// Collection writes a page of a collection: its @odata.context, the values and, when
// next is not empty, the @odata.nextLink. value is written as given: pass an empty
// slice, not nil, for an empty page.
func Collection(c *httpapi.Ctx, fragment string, value []map[string]any, next string) error {
	out := map[string]any{"@odata.context": c.ContextURL(fragment), "value": value}
	if next != "" {
		out["@odata.nextLink"] = next
	}
	return c.JSON(http.StatusOK, out)
}

// Counted writes a whole collection with its @odata.count, the way the Teams APIs
// answer lists they do not page.
func Counted(c *httpapi.Ctx, fragment string, value []map[string]any) error {
	if value == nil {
		value = []map[string]any{}
	}
	return c.JSON(http.StatusOK, map[string]any{"@odata.context": c.ContextURL(fragment), "@odata.count": len(value), "value": value})
}

// Accepted answers 202 with no body, as Graph's actions that finish later do.
func Accepted(c *httpapi.Ctx) error {
	c.W.Header().Set("Content-Length", "0")
	c.W.WriteHeader(http.StatusAccepted)
	return nil
}

// DeltaPage writes one page of a delta round: its @odata.context, the values and the
// link that continues it, under key ("@odata.nextLink" or "@odata.deltaLink").
func DeltaPage(c *httpapi.Ctx, fragment string, value []map[string]any, key, link string) error {
	return c.JSON(http.StatusOK, map[string]any{"@odata.context": c.ContextURL(fragment), "value": value, key: link})
}
