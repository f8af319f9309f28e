package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/graphhook/graphhook/internal/store"
)

// Decode reads a stored JSON document.
func Decode(data []byte) (map[string]any, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// DecodeNumbers reads a stored JSON document keeping its numbers as json.Number, so
// that they are written back exactly as they were given.
func DecodeNumbers(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	err := dec.Decode(&doc)
	return doc, err
}

// Load reads the object of kind and id and decodes its document; a missing object
// yields notFound.
func Load(ctx context.Context, tx store.Tx, tenant, kind, id string, notFound error) (store.Object, map[string]any, error) {
	o, err := tx.GetObject(ctx, tenant, kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return o, nil, notFound
	}
	if err != nil {
		return o, nil, err
	}
	doc, err := Decode(o.Data)
	return o, doc, err
}

// Str is v when it is a string, else "".
func Str(v any) string {
	s, _ := v.(string)
	return s
}
