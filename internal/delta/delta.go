// Package delta serves Graph delta queries from the change log: a delta token is a
// position in the log (a sequence number) for one topic, plus the query options the
// round started with; the next round returns each item that changed after that
// position once, in its latest state, or as removed.
package delta

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/store"
)

// Token is the state a delta or skip token carries.
type Token struct {
	// Seq is the log position the round continues from.
	Seq int64 `json:"s"`
	// Topic is the topic key the round follows; a token used on another resource is
	// refused.
	Topic string `json:"t"`
	// Initial marks a skip token of an initial round, where After holds the last id
	// listed (objects are paged by id) and Seq the log position when the round began.
	Initial bool   `json:"i,omitempty"`
	After   string `json:"a,omitempty"`
	// Options keeps the query options of the first request ($select, …).
	Options map[string]string `json:"o,omitempty"`
}

// Encode renders a token for a URL.
func Encode(t Token) string {
	data, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(data)
}

// ErrBadToken is returned for a token that does not decode.
var ErrBadToken = errors.New("delta: malformed token")

// Decode reads a token; it checks that the token belongs to topic.
func Decode(s, topic string) (Token, error) {
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Token{}, ErrBadToken
	}
	var t Token
	if err := json.Unmarshal(data, &t); err != nil || t.Topic != topic {
		return Token{}, ErrBadToken
	}
	return t, nil
}

// SyncStateNotFound is Graph's answer to a token that is malformed, forged, or older
// than the retained change log.
func SyncStateNotFound() error {
	return graph.Errorf(http.StatusBadRequest, graph.CodeSyncStateNotFound, "The sync state generation is not found. The delta token is expired or invalid; start a new round without a token.")
}

// Entry is one item of a delta page.
type Entry struct {
	Kind string
	ID   string
	// Removed is set when the item's last change deleted it; After is then nil.
	Removed bool
	// ChangeType is the last change's type.
	ChangeType string
	// After is the item's latest state (from the change log).
	After []byte
	// Extra is the last change's Extra.
	Extra []byte
}

// Page reads up to limit distinct items that changed on topic after position after.
// It returns the entries (each item once, latest state), the position to continue
// from, and whether more changes remain. A position older than the retained log is
// refused with SyncStateNotFound.
func Page(ctx context.Context, tx store.Tx, tenant, topic string, after int64, limit int) (entries []Entry, next int64, more bool, err error) {
	first, err := tx.FirstSeq(ctx)
	if err != nil {
		return nil, 0, false, err
	}
	if after > 0 && first > 0 && after < first-1 {
		return nil, 0, false, SyncStateNotFound()
	}
	last, err := tx.LastSeq(ctx)
	if err != nil {
		return nil, 0, false, err
	}
	if after > last {
		return nil, 0, false, SyncStateNotFound()
	}
	// Read a window of the log; keep the latest change of each item. Stop once limit
	// distinct items are collected, at a change boundary.
	const window = 500
	index := map[string]int{}
	next = after
	for {
		changes, err := tx.ListChanges(ctx, tenant, topic, next, window)
		if err != nil {
			return nil, 0, false, err
		}
		for _, c := range changes {
			key := c.Kind + "/" + c.ID
			i, seen := index[key]
			if !seen {
				if limit > 0 && len(entries) >= limit {
					return entries, next, true, nil
				}
				index[key] = len(entries)
				entries = append(entries, Entry{})
				i = len(entries) - 1
			}
			entries[i] = Entry{Kind: c.Kind, ID: c.ID, Removed: c.ChangeType == store.Deleted, ChangeType: c.ChangeType, After: c.After, Extra: c.Extra}
			next = c.Seq
		}
		if len(changes) < window {
			return entries, next, false, nil
		}
	}
}

// Latest returns the current end of the log: the position of a "from now" token.
func Latest(ctx context.Context, tx store.Tx) (int64, error) { return tx.LastSeq(ctx) }
