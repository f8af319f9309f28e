package teams

import (
	"context"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/delta"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// channelMessagesDelta serves /teams/{id}/channels/{id}/messages/delta: the channel's
// top-level messages (Graph's delta leaves replies out), first every one of them, then
// those changed since the round's deltaLink. A soft-deleted message comes back in its
// latest state, with deletedDateTime set, as Graph shows it.
//
// An initial round pages through the stored messages by id and ends with a deltaLink
// at the log position the round began at, so changes made while it paged are served
// again in the next round rather than lost.
func (w *Workload) channelMessagesDelta(c *httpapi.Ctx) error {
	if err := channelMsgRead.Check(c.Principal); err != nil {
		return err
	}
	top, err := parseMessageTop(c)
	if err != nil {
		return err
	}
	var value []map[string]any
	var key, link string
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		ref, err := w.channelScope(c, tx)
		if err != nil {
			return err
		}
		topic := change.ChannelMessages(ref.team, ref.channel)
		tok := delta.Token{Topic: topic, Initial: true}
		raw := c.Query("$deltatoken")
		if raw == "" {
			raw = c.Query("$skiptoken")
		}
		if raw != "" {
			if tok, err = delta.Decode(raw, topic); err != nil {
				return delta.SyncStateNotFound()
			}
		} else if tok.Seq, err = delta.Latest(ctx, tx); err != nil {
			return err
		}
		value = []map[string]any{}
		var next *delta.Token
		if tok.Initial {
			// Replies are not part of the round: the store leaves them out, and reads
			// one message past the page to tell whether another follows.
			topLevel := &store.Cond{Op: store.CondEq, Prop: store.Prop{Path: "replyToId"}}
			objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: ref.tenant, Kind: KindChannelMessage, Owner: ref.team, Parent: ref.channel, AfterID: tok.After, Where: topLevel, Limit: top + 1})
			if err != nil {
				return err
			}
			for _, o := range objs {
				doc, err := rest.Decode(o.Data)
				if err != nil {
					return err
				}
				if len(value) == top {
					next = &delta.Token{Topic: topic, Initial: true, Seq: tok.Seq, After: rest.Str(value[top-1]["id"])}
					break
				}
				value = append(value, doc)
			}
			if next == nil {
				tok = delta.Token{Topic: topic, Seq: tok.Seq}
			}
		} else {
			entries, pos, more, err := delta.Page(ctx, tx, ref.tenant, topic, tok.Seq, top)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if e.Kind != KindChannelMessage || e.After == nil {
					continue
				}
				doc, err := rest.Decode(e.After)
				if err != nil {
					return err
				}
				if doc["replyToId"] != nil {
					continue
				}
				delete(doc, "@odata.context")
				value = append(value, doc)
			}
			tok = delta.Token{Topic: topic, Seq: pos}
			if more {
				next = &tok
			}
		}
		if next != nil {
			key, link = "@odata.nextLink", c.LinkWith(map[string]string{"$skiptoken": delta.Encode(*next), "$deltatoken": ""})
		} else {
			key, link = "@odata.deltaLink", c.LinkWith(map[string]string{"$deltatoken": delta.Encode(tok), "$skiptoken": ""})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rest.DeltaPage(c, "Collection(chatMessage)", value, key, link)
}
