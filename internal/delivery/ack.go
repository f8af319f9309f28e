package delivery

import (
	"context"
	"time"

	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
)

// ack is the outcome of one POST, written by the acker.
type ack struct {
	url        string
	delivered  []int64
	retry      []retryAt
	retryErr   string
	expired    []int64              // failed past the horizon
	missed     []store.Subscription // whose notifications expired
	discard    []int64              // could not be rendered
	discardErr string
	attempts   []store.Attempt // one per row tried, for the delivery log
}

type retryAt struct {
	id int64
	at time.Time
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

func (p *Pipeline) writeAcks(ctx context.Context, acks []*ack) error {
	now := p.clock.Now()
	var delivered []int64
	var attempts []store.Attempt
	for _, a := range acks {
		delivered = append(delivered, a.delivered...)
		attempts = append(attempts, a.attempts...)
	}
	err := p.st.Update(ctx, func(tx store.Tx) error {
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
		missed := map[string]*store.Subscription{}
		for _, a := range acks {
			for _, r := range a.retry {
				if _, err := tx.MarkRetryable(ctx, []int64{r.id}, r.at, a.retryErr); err != nil {
					return err
				}
			}
			if len(a.expired) > 0 {
				if _, err := tx.MarkDiscarded(ctx, a.expired, now, "retry horizon passed: "+a.retryErr); err != nil {
					return err
				}
			}
			if len(a.discard) > 0 {
				if _, err := tx.MarkDiscarded(ctx, a.discard, now, a.discardErr); err != nil {
					return err
				}
			}
			for i := range a.missed {
				missed[a.missed[i].ID] = &a.missed[i]
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
