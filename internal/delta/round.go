package delta

import (
	"context"

	"github.com/graphhook/graphhook/internal/store"
)

// Round is one page request of a delta query over one topic, in the common shape: a
// round without a token lists every current object (paged by id) and ends with a
// deltaLink at the log position the round began, so nothing that changes while a
// client pages is lost; later rounds replay the topic's change records after that
// position, each item once; "latest" answers with only a deltaLink at the log's end.
type Round struct {
	Tenant string
	Topic  string
	// Objects selects the objects of an initial round (AfterID and Limit are set by
	// Run).
	Objects store.ObjectQuery
	// Top is the page size.
	Top int
	// Render renders an object of an initial round.
	Render func(o store.Object) (map[string]any, error)
	// Prepare, when set, sees each page of an initial round before Render renders
	// its objects, to read what they need in one go rather than one by one.
	Prepare func(objs []store.Object) error
	// Changed renders an entry of a later round (current state or removal).
	Changed func(e Entry) (map[string]any, error)
}

// Link is where a page points next: Key is "@odata.nextLink" or "@odata.deltaLink".
type Link struct {
	Key   string
	Token Token
}

// Run serves the page for tokenText: "" starts a round, "latest" only returns the
// deltaLink, anything else must be a token of r.Topic (else SyncStateNotFound).
func (r Round) Run(ctx context.Context, tx store.Tx, tokenText string) ([]map[string]any, Link, error) {
	value := []map[string]any{}
	var tok Token
	switch tokenText {
	case "", "latest":
		seq, err := Latest(ctx, tx)
		if err != nil {
			return nil, Link{}, err
		}
		if tokenText == "latest" {
			return value, Link{"@odata.deltaLink", Token{Seq: seq, Topic: r.Topic}}, nil
		}
		tok = Token{Seq: seq, Topic: r.Topic, Initial: true}
	default:
		var err error
		if tok, err = Decode(tokenText, r.Topic); err != nil {
			return nil, Link{}, SyncStateNotFound()
		}
	}
	if tok.Initial {
		q := r.Objects
		q.AfterID, q.Limit = tok.After, r.Top+1
		objs, err := tx.ListObjects(ctx, q)
		if err != nil {
			return nil, Link{}, err
		}
		more := len(objs) > r.Top
		if more {
			objs = objs[:r.Top]
		}
		if r.Prepare != nil {
			if err := r.Prepare(objs); err != nil {
				return nil, Link{}, err
			}
		}
		for _, o := range objs {
			doc, err := r.Render(o)
			if err != nil {
				return nil, Link{}, err
			}
			value = append(value, doc)
		}
		if more {
			return value, Link{"@odata.nextLink", Token{Seq: tok.Seq, Topic: r.Topic, Initial: true, After: objs[len(objs)-1].ID}}, nil
		}
		return value, Link{"@odata.deltaLink", Token{Seq: tok.Seq, Topic: r.Topic}}, nil
	}
	entries, next, more, err := Page(ctx, tx, r.Tenant, r.Topic, tok.Seq, r.Top)
	if err != nil {
		return nil, Link{}, err
	}
	for _, e := range entries {
		doc, err := r.Changed(e)
		if err != nil {
			return nil, Link{}, err
		}
		value = append(value, doc)
	}
	key := "@odata.deltaLink"
	if more {
		key = "@odata.nextLink"
	}
	return value, Link{key, Token{Seq: next, Topic: r.Topic}}, nil
}
