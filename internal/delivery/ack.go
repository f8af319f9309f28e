package delivery

import (
	"context"

	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
)

// ack is the outcome of one POST, written by the acker.
type ack struct {
	url        string
	delivered  []int64
	retry      []store.Retry
	retryErr   string
	expired    []int64              // failed past the horizon
	missed     []store.Subscription // whose notifications expired
	discard    []int64              // could not be rendered
	discardErr string
	release    []int64         // claimed but not tried: back to available
	attempts   []store.Attempt // one per row tried, for the delivery log
}

// acker writes the POST outcomes it receives on acks until acks is closed. It
// gathers whatever outcomes are waiting into one transaction, so that many small
// POSTs cost few commits.
func (p *Pipeline) acker(acks chan *ack) {
	ctx := context.Background()
	var pending []*ack
	for a := range acks {
		pending = append(pending[:0], a)
	gather:
		for len(pending) < 512 {
			select {
			case more, ok := <-acks:
				if !ok {
					break gather
				}
				pending = append(pending, more)
			default:
				break gather
			}
		}
		err := p.writeAcks(ctx, pending)
		if err != nil {
			// The rows stay running; the rescuer retries them (a duplicate POST at
			// worst, which at-least-once allows).
			p.log.Error("delivery: recording outcomes", "err", err)
		}
		if p.onPass != nil {
			p.onPass(service.Report{Service: "acker", Result: service.Result{N: len(pending)}, Err: err})
		}
	}
}

// writeAcks records the outcomes of many POSTs in one transaction and in as few
// statements as their outcomes allow: one multi-row insert of attempts, one
// update of the delivered rows, and one update per distinct failure text for the
// retried and the discarded rows (each retried row keeps its own due time).
func (p *Pipeline) writeAcks(ctx context.Context, acks []*ack) error {
	now := p.clock.Now()
	var delivered, released []int64
	var attempts []store.Attempt
	// Failures are keyed by their text, in the order first seen, so that the
	// statements run in a stable order.
	type failed struct {
		text  string
		retry []store.Retry
		ids   []int64 // discarded
	}
	var retries, discards []*failed
	group := func(list *[]*failed, text string) *failed {
		for _, f := range *list {
			if f.text == text {
				return f
			}
		}
		f := &failed{text: text}
		*list = append(*list, f)
		return f
	}
	missed := map[string]*store.Subscription{}
	for _, a := range acks {
		delivered = append(delivered, a.delivered...)
		released = append(released, a.release...)
		attempts = append(attempts, a.attempts...)
		if len(a.retry) > 0 {
			f := group(&retries, a.retryErr)
			f.retry = append(f.retry, a.retry...)
		}
		if len(a.expired) > 0 {
			f := group(&discards, "retry horizon passed: "+a.retryErr)
			f.ids = append(f.ids, a.expired...)
		}
		if len(a.discard) > 0 {
			f := group(&discards, a.discardErr)
			f.ids = append(f.ids, a.discard...)
		}
		for i := range a.missed {
			missed[a.missed[i].ID] = &a.missed[i]
		}
	}
	err := p.updateQueue(ctx, func(tx store.Tx) error {
		// The delivery log's attempts ride in the outcomes' transaction: no commit
		// of their own on the dispatch path.
		if len(attempts) > 0 {
			if err := tx.RecordAttempts(ctx, attempts); err != nil {
				return err
			}
		}
		if len(delivered) > 0 {
			if _, err := tx.MarkDelivered(ctx, delivered, now); err != nil {
				return err
			}
		}
		for _, f := range retries {
			if _, err := tx.RetryNotifications(ctx, f.retry, f.text); err != nil {
				return err
			}
		}
		for _, f := range discards {
			if _, err := tx.MarkDiscarded(ctx, f.ids, now, f.text); err != nil {
				return err
			}
		}
		if len(released) > 0 {
			if _, err := tx.ReleaseNotifications(ctx, released, now); err != nil {
				return err
			}
		}
		return p.enqueueMissed(ctx, tx, missed, now)
	})
	if err != nil {
		return err
	}
	for _, a := range acks {
		p.metrics.notifications.WithLabelValues(outcomeDelivered).Add(float64(len(a.delivered)))
		p.metrics.notifications.WithLabelValues(outcomeRetried).Add(float64(len(a.retry)))
		p.metrics.notifications.WithLabelValues(outcomeDiscarded).Add(float64(len(a.expired) + len(a.discard)))
	}
	return nil
}
