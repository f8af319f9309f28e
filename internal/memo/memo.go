// Package memo keeps values decoded from stored bytes, so that a hot path that
// re-reads the same row (an app's grant on every change, a mailbox's owner on every
// message) decodes its JSON once. A value is reused only for identical bytes, so a
// row that changed is always decoded afresh; no invalidation is needed.
package memo

import (
	"bytes"
	"sync"
)

// maxEntries bounds a memo; past it, it starts again empty.
const maxEntries = 10_000

// Decoded maps keys to the value last decoded for them, beside its bytes. The
// zero value is ready; it is safe for concurrent use. Values are shared between
// callers and must not be modified.
type Decoded[T any] struct {
	mu sync.Mutex
	m  map[string]entry[T]
}

type entry[T any] struct {
	data  []byte
	value T
}

// Get returns the value for key decoded from data: the remembered one when it was
// decoded from the same bytes, else decode(data), remembered when it succeeds. A nil
// memo remembers nothing.
func (d *Decoded[T]) Get(key string, data []byte, decode func([]byte) (T, error)) (T, error) {
	if d == nil {
		return decode(data)
	}
	d.mu.Lock()
	e, ok := d.m[key]
	d.mu.Unlock()
	if ok && bytes.Equal(e.data, data) {
		return e.value, nil
	}
	v, err := decode(data)
	if err != nil {
		return v, err
	}
	d.mu.Lock()
	if d.m == nil || len(d.m) >= maxEntries {
		d.m = map[string]entry[T]{}
	}
	d.m[key] = entry[T]{data: bytes.Clone(data), value: v}
	d.mu.Unlock()
	return v, nil
}
