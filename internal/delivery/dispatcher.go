package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/egress"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
)

// endpoint is one notification URL: its health and its POST slots.
type endpoint struct {
	url    string
	health *Health
	// slots bounds the POSTs in flight to this URL (Config.PerURL): a slow
	// endpoint uses up its own slots and nobody else's. tickets (2×aheadFactor per
	// slot) bound the batches claimed and waiting for a slot (see work).
	slots, tickets chan struct{}
	// turn is closed once the batch claimed last has taken its slot (see
	// takeSlot); only the URL's worker, one at a time, sets it.
	turn chan struct{}

	// lastPost is how long the last POST to this URL took, in nanoseconds (see
	// pushBack).
	lastPost atomic.Int64

	mu      sync.Mutex
	active  bool // a worker goroutine is claiming for this URL
	pending bool // new rows arrived while the worker was active
}

// The dispatcher is a service.Loop: on each commit signal, wake-up or poll tick it
// asks which URLs have due rows and starts a worker for each idle one. Workers and
// the acker belong to one run of the loop, from startDispatch to stopDispatch.

// startDispatch starts the acker of a new run.
func (p *Pipeline) startDispatch(ctx context.Context) error {
	if err := p.rescueOnStart(ctx); err != nil {
		return err
	}
	acks, done := make(chan *ack, 1024), make(chan struct{})
	p.acks, p.ackDone = acks, done
	go func() {
		defer close(done)
		p.acker(acks)
	}()
	return nil
}

// stopDispatch waits for the run's workers (which end with the loop's context),
// then lets the acker write their outcomes and end.
func (p *Pipeline) stopDispatch() {
	p.workers.Wait()
	close(p.acks)
	<-p.ackDone
}

// pass starts workers for the URLs with due rows and counts them. Its Wait is how
// long until the earliest not-yet-due row falls due, when that is sooner than the
// next poll.
func (p *Pipeline) pass(ctx context.Context) (service.Result, error) {
	var due []store.DueURL
	// The list only decides which URLs to claim rows of; a claim is a write, and
	// nothing is sent before it is durable.
	err := p.st.View(store.ReadsForItself(ctx), func(tx store.Tx) error {
		if err := p.refreshFaults(ctx, tx); err != nil {
			return err
		}
		var err error
		due, err = tx.DueURLs(ctx, 0)
		return err
	})
	if err != nil {
		return service.Result{}, fmt.Errorf("delivery: listing due notifications: %w", err)
	}
	now := p.clock.Now()
	var res service.Result
	var earliest time.Time
	var lag time.Duration // for push-back
	for _, d := range due {
		ep := p.endpoint(d.URL)
		cutoff := p.cutoff(ep, now)
		if d.Next.After(cutoff) {
			at := d.Next.Add(now.Sub(cutoff))
			if earliest.IsZero() || at.Before(earliest) {
				earliest = at
			}
			continue
		}
		lag = max(lag, p.lateness(ep, d.Next, now))
		ep.mu.Lock()
		if ep.active {
			ep.pending = true
			ep.mu.Unlock()
			continue
		}
		ep.active = true
		ep.mu.Unlock()
		res.N++
		p.workers.Add(1)
		go func() {
			defer p.workers.Done()
			p.work(ctx, ep)
		}()
	}
	p.push.measured(lag, p.cfg.PushBack, time.Now())
	if !earliest.IsZero() {
		res.Wait = max(earliest.Sub(now), time.Millisecond)
	}
	return res, nil
}

// cutoff is the latest Scheduled time a row of ep may have to be claimed now: a
// slow endpoint gets its notifications SlowDelay late.
func (p *Pipeline) cutoff(ep *endpoint, now time.Time) time.Time {
	if ep.health.State(now) == Slow {
		return now.Add(-p.cfg.Health.SlowDelay)
	}
	return now
}

// work claims batches for one URL while there are due rows. A batch holds one of
// the URL's tickets from its claim until it takes one of the URL's slots, which it
// holds while it is posted. A claim asks for every batch the URL may have waiting
// (aheadFactor per slot), so that an endpoint taking one notification per POST
// still costs one transaction per several POSTs: a claim, a write that waits for
// the store's writer and its flush, lasts as long as several POSTs to a quick
// endpoint, so the next claim runs while the last one's batches are posted and
// takes what arrived meanwhile. There are twice as many tickets as a claim takes,
// so that the batches of the last claim still waiting for slots do not shrink the
// next. Sized by the free slots, claims under load took half the slots' worth and
// a backlog grew while the endpoint was idle part of the time. To an endpoint whose
// last POST was not quick (quick), a claim takes no more than the free slots, so
// that rows do not wait in flight behind slow POSTs.
func (p *Pipeline) work(ctx context.Context, ep *endpoint) {
	var posts sync.WaitGroup
	defer posts.Wait()
	for {
		select {
		case ep.tickets <- struct{}{}:
		case <-ctx.Done():
			p.idle(ep)
			return
		}
		most := aheadFactor * cap(ep.slots)
		if !p.quick(ep) {
			most = max(1, cap(ep.slots)-len(ep.slots))
		}
		k := 1
	more:
		for k < most {
			select {
			case ep.tickets <- struct{}{}:
				k++
			default:
				break more
			}
		}
		if ctx.Err() != nil {
			for range k {
				<-ep.tickets
			}
			p.idle(ep)
			return
		}
		// The claim is not cut off midway either: a claim that committed while its
		// caller saw the context end would leave rows in flight that no POST follows
		// (the rescuer would take them back only after RescueAfter, this node being
		// alive).
		batches, drained, err := p.claim(context.WithoutCancel(ctx), ep, k)
		for i := len(batches); i < k; i++ {
			<-ep.tickets
		}
		if err != nil {
			if ctx.Err() == nil {
				p.log.Error("delivery: claiming notifications", "url", ep.url, "err", err)
			}
			p.idle(ep)
			return
		}
		if len(batches) == 0 {
			if p.continueWork(ep) {
				continue
			}
			return
		}
		for _, b := range batches {
			prev, turn := ep.turn, make(chan struct{})
			ep.turn = turn
			posts.Add(1)
			go func() {
				defer posts.Done()
				got := takeSlot(ctx, ep, prev)
				<-ep.tickets
				close(turn)
				if !got {
					// Claimed but never tried: the acker puts the rows back, due now,
					// and takes back the attempt their claim counted.
					p.acks <- &ack{url: ep.url, release: rowIDs(b.rows)}
					return
				}
				defer func() { <-ep.slots }()
				p.send(ctx, ep, b)
			}()
		}
		// A claim that took fewer rows than it asked for left nothing due: claiming
		// again would cost a transaction to find nothing, unless rows arrived since,
		// which the pass that their commit woke has told (pending).
		if drained && !p.continueWork(ep) {
			return
		}
	}
}

// continueWork is asked when a claim found nothing, or less than it asked for: the
// worker goes on if rows arrived meanwhile, and otherwise marks the URL idle.
func (p *Pipeline) continueWork(ep *endpoint) bool {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.pending {
		ep.pending = false
		return true
	}
	ep.active = false
	return false
}

// takeSlot waits until the batch claimed before this one has taken its slot
// (prev is closed), then for a slot of its own: batches are posted in the order
// they were claimed, so that a URL with one slot gets its notifications in that
// order. It reports false if ctx ended first.
func takeSlot(ctx context.Context, ep *endpoint, prev <-chan struct{}) bool {
	select {
	case <-prev:
	case <-ctx.Done():
		return false
	}
	select {
	case ep.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// closedTurn is an endpoint's first turn (see takeSlot): already taken.
var closedTurn = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// aheadFactor is how many batches per slot a claim may take (see work).
const aheadFactor = 4

// quick reports whether ep's last POST took less than a tenth of Timeout: then
// its claims may take batches for tickets whose slots are still busy.
func (p *Pipeline) quick(ep *endpoint) bool {
	return time.Duration(ep.lastPost.Load()) < p.cfg.Timeout/10
}

func rowIDs(rows []store.Notification) []int64 {
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	return ids
}

func (p *Pipeline) idle(ep *endpoint) {
	ep.mu.Lock()
	ep.active, ep.pending = false, false
	ep.mu.Unlock()
}

// batch is one claimed POST.
type batch struct {
	rows  []store.Notification
	infos []*subInfo // per row; nil for lifecycle rows
	// tls is the latestSupportedTlsVersion the POST offers at most: the lowest of
	// the batch's subscriptions, all of which point at this endpoint.
	tls string
}

// claim claims up to k batches for ep and, in the same transaction, settles the
// rows that must not be sent: subscription gone, endpoint dropping, authorization
// lapsed (held). It returns no batch when nothing is left to send, and drained when
// its last claim took fewer rows than it asked for.
func (p *Pipeline) claim(ctx context.Context, ep *endpoint, k int) (batches []*batch, drained bool, err error) {
	for {
		now := p.clock.Now()
		state := ep.health.State(now)
		size, cutoff := p.cfg.BatchSize, now
		switch state {
		case Slow:
			cutoff = now.Add(-p.cfg.Health.SlowDelay)
		case Probing:
			size, k = 1, 1
		}
		var b batch
		claimed, limit := 0, size*k
		err := p.updateQueue(ctx, func(tx store.Tx) error {
			b = batch{}
			rows, err := tx.ClaimNotifications(ctx, ep.url, p.cfg.Node, cutoff, now, limit)
			if err != nil {
				return err
			}
			claimed = len(rows)
			return p.settle(ctx, tx, rows, state, now, &b)
		})
		if err != nil {
			return nil, false, err
		}
		drained = claimed < limit
		if len(b.rows) > 0 {
			var out []*batch
			for lo := 0; lo < len(b.rows); lo += size {
				hi := min(lo+size, len(b.rows))
				out = append(out, &batch{rows: b.rows[lo:hi:hi], infos: b.infos[lo:hi:hi], tls: b.tls})
			}
			return out, drained, nil
		}
		if claimed == 0 {
			return nil, true, nil
		}
		// Everything claimed was settled without a POST; look for more.
	}
}

// settle sorts claimed rows into the batch to send and the ones it finishes here.
func (p *Pipeline) settle(ctx context.Context, tx store.Tx, rows []store.Notification, state HealthState, now time.Time, b *batch) error {
	var gone, dropped, expired, held []int64
	missed := map[string]*store.Subscription{}
	var ids []string
	seen := map[string]bool{}
	for i := range rows {
		if id := rows[i].SubscriptionID; !seen[id] && !(rows[i].Lifecycle && state == Drop) {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	infos, err := p.subs.lookup(ctx, tx, ids)
	if err != nil {
		return err
	}
	b.rows = make([]store.Notification, 0, len(rows))
	b.infos = make([]*subInfo, 0, len(rows))
	for i := range rows {
		n := &rows[i]
		if n.Lifecycle {
			if state == Drop {
				dropped = append(dropped, n.ID)
				continue
			}
			// The item is rendered already; the subscription, when it still exists,
			// only tells the TLS version (a subscriptionRemoved outlives it).
			if info := infos[n.SubscriptionID]; info != nil {
				b.tls = lowerTLS(b.tls, info.tls)
			}
			b.rows = append(b.rows, *n)
			b.infos = append(b.infos, nil)
			continue
		}
		info := infos[n.SubscriptionID]
		switch {
		case info == nil:
			gone = append(gone, n.ID)
		case state == Drop:
			dropped = append(dropped, n.ID)
			missed[info.sub.ID] = &info.sub
		case !info.sub.AuthorizedUntil.IsZero() && now.After(info.sub.AuthorizedUntil):
			// Authorization lapsed: hold (no attempt counted, not slowness) until the
			// horizon; reauthorizing within it releases the backlog.
			if now.Sub(n.Created) > p.cfg.Horizon {
				expired = append(expired, n.ID)
				missed[info.sub.ID] = &info.sub
			} else {
				held = append(held, n.ID)
			}
		default:
			b.rows = append(b.rows, *n)
			b.infos = append(b.infos, info)
			b.tls = lowerTLS(b.tls, info.tls)
		}
	}
	if len(gone) > 0 {
		if _, err := tx.MarkDiscarded(ctx, gone, now, "subscription deleted"); err != nil {
			return err
		}
		p.countAfter(tx, outcomeDiscarded, len(gone))
	}
	if len(dropped) > 0 {
		if _, err := tx.MarkDiscarded(ctx, dropped, now, "endpoint in the drop state"); err != nil {
			return err
		}
		p.countAfter(tx, outcomeDropped, len(dropped))
	}
	if len(expired) > 0 {
		if _, err := tx.MarkDiscarded(ctx, expired, now, "authorization lapsed past the retry horizon"); err != nil {
			return err
		}
		p.countAfter(tx, outcomeDiscarded, len(expired))
	}
	if len(held) > 0 {
		if _, err := tx.ReleaseNotifications(ctx, held, now.Add(p.cfg.HoldRecheck)); err != nil {
			return err
		}
		p.countAfter(tx, outcomeHeld, len(held))
	}
	return p.enqueueMissed(ctx, tx, missed, now)
}

// countAfter counts n notifications under outcome once tx has committed.
func (p *Pipeline) countAfter(tx store.Tx, outcome string, n int) {
	tx.AfterCommit(func() { p.metrics.notifications.WithLabelValues(outcome).Add(float64(n)) })
}

func (p *Pipeline) enqueueMissed(ctx context.Context, tx store.Tx, subs map[string]*store.Subscription, now time.Time) error {
	var rows []*store.Notification
	for _, s := range subs {
		if p.supports(s, graph.LifecycleMissed) {
			rows = append(rows, lifecycleRow(s, graph.LifecycleMissed, now))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	missed := float64(len(rows))
	tx.AfterCommit(func() { p.metrics.lifecycle.WithLabelValues(graph.LifecycleMissed).Add(missed) })
	return tx.Enqueue(ctx, rows)
}

// send POSTs one batch and hands the outcome, with one attempt per row for the
// delivery log, to the acker. A fault injected for the URL stands in for the POST
// (status, timeout) or delays it (slow).
func (p *Pipeline) send(ctx context.Context, ep *endpoint, b *batch) {
	body, bad := p.body(b)
	a := &ack{url: ep.url}
	if len(bad) > 0 {
		a.discard = append(a.discard, bad...)
		a.discardErr = "resource data could not be encrypted with the subscription's certificate"
	}
	if body == nil {
		p.acks <- a
		return
	}
	timeout := p.cfg.Timeout
	for _, n := range b.rows {
		if n.Attempt > 1 {
			timeout = p.cfg.RetryTimeout
			break
		}
	}
	fault := p.takeFault(ctx, ep.url)
	started := p.clock.Now()
	var (
		status  int
		ra      time.Duration
		elapsed time.Duration
		err     error
	)
	switch {
	case fault != nil && fault.Mode == store.FaultStatus:
		status = fault.StatusCode
	case fault != nil && fault.Mode == store.FaultTimeout:
		err = context.DeadlineExceeded
	default:
		var delay time.Duration
		if fault != nil {
			delay = fault.Delay
		}
		// A POST once begun runs to its own timeout even when the dispatcher stops: cut
		// off, the endpoint may have taken it while the row stays in flight, and the
		// rescuer would send it again. Stop waits for it and the acker records it.
		status, ra, elapsed, err = p.post(context.WithoutCancel(ctx), p.clients.For(b.tls), ep.url, body, timeout, attemptHeader(b.rows), delay)
	}
	injected := fault != nil
	now := p.clock.Now()
	if !injected || fault.Mode == store.FaultSlow {
		class := respOK
		switch {
		case elapsed >= p.cfg.RetryTimeout:
			class = respDropClass
		case elapsed >= p.cfg.Timeout:
			class = respSlow
		}
		if ctx.Err() == nil {
			ep.health.observe(now, class)
		}
	}
	ep.lastPost.Store(int64(elapsed))
	ok := err == nil && status >= 200 && status < 300
	reason := ""
	if !ok {
		reason = describeFailure(status, err, timeout)
		if injected {
			reason += " (injected)"
		}
	}
	for _, n := range b.rows {
		a.attempts = append(a.attempts, store.Attempt{NotificationID: n.ID, Number: n.Attempt, Started: started,
			StatusCode: status, Latency: elapsed, Error: reason, Injected: injected})
	}
	if ok {
		p.metrics.posts.WithLabelValues("success").Inc()
		for _, n := range b.rows {
			a.delivered = append(a.delivered, n.ID)
			p.metrics.latency.Observe(now.Sub(n.Created).Seconds())
		}
		p.acks <- a
		return
	}
	p.metrics.posts.WithLabelValues("failure").Inc()
	a.retryErr = reason
	for i, n := range b.rows {
		next := p.cfg.Retry.Next(now, n.Attempt)
		if ra > 0 && now.Add(ra).After(next) {
			next = now.Add(ra)
		}
		if next.Sub(n.Created) > p.cfg.Horizon {
			a.expired = append(a.expired, n.ID)
			if info := b.infos[i]; info != nil {
				a.missed = append(a.missed, info.sub)
			}
			continue
		}
		a.retry = append(a.retry, store.Retry{ID: n.ID, Scheduled: next})
	}
	p.logFailure(ep.url, b.rows, a, status, reason)
	p.acks <- a
}

// logFailure tells the operator, at info, about a failed POST: one line per
// subscription in the batch, with its latest attempt and its earliest next retry
// (or that it was given up).
func (p *Pipeline) logFailure(url string, rows []store.Notification, a *ack, status int, reason string) {
	next := make(map[int64]time.Time, len(a.retry))
	for _, r := range a.retry {
		next[r.ID] = r.Scheduled
	}
	type sub struct {
		attempt, count int
		next           time.Time
	}
	var order []string
	subs := map[string]*sub{}
	for _, n := range rows {
		s, ok := subs[n.SubscriptionID]
		if !ok {
			s = &sub{}
			subs[n.SubscriptionID] = s
			order = append(order, n.SubscriptionID)
		}
		s.count++
		s.attempt = max(s.attempt, n.Attempt)
		if at, ok := next[n.ID]; ok && (s.next.IsZero() || at.Before(s.next)) {
			s.next = at
		}
	}
	for _, id := range order {
		s := subs[id]
		retry := "none (given up)"
		if !s.next.IsZero() {
			retry = graph.FormatTime(s.next)
		}
		p.log.Info("delivery: POST failed", "subscription", id, "url", url, "attempt", s.attempt,
			"status", status, "reason", reason, "notifications", s.count, "nextRetry", retry)
	}
}

// AttemptHeader is the request header of graphhook's notification POSTs that
// numbers each item's attempt, in item order, comma-separated ("1,3"): receivers
// such as graphhook listen mark retries with it. Graph sends no such header, and
// the body stays Graph's.
const AttemptHeader = "X-Graphhook-Attempt"

func attemptHeader(rows []store.Notification) string {
	b := make([]byte, 0, len(rows)*2)
	for i, n := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n.Attempt), 10)
	}
	return string(b)
}

func describeFailure(status int, err error, timeout time.Duration) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no response within %v", timeout)
	case err != nil:
		return err.Error()
	default:
		return fmt.Sprintf("HTTP %d", status)
	}
}

// post sends body with client and reports the status, Retry-After (on 429 and 503)
// and the time it took. A response that does not arrive within timeout is a
// failure, and so is a connection the strict profile refuses.
func (p *Pipeline) post(ctx context.Context, client *http.Client, url string, body []byte, timeout time.Duration, attempts string, delay time.Duration) (status int, ra time.Duration, elapsed time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, 0, err
	}
	req.Header["Content-Type"] = []string{"application/json; charset=utf-8"}
	req.Header[AttemptHeader] = []string{attempts}
	start := time.Now()
	if delay > 0 {
		// An injected slow answer: the endpoint's time counts from here, and the
		// timeout covers the delay as it would a slow endpoint.
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return 0, 0, time.Since(start), context.DeadlineExceeded
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		elapsed = time.Since(start)
		if ctx.Err() == context.DeadlineExceeded {
			err = context.DeadlineExceeded
		}
		return 0, 0, elapsed, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	elapsed = time.Since(start)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		ra = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return resp.StatusCode, ra, elapsed, nil
}

// body renders the POST body of b; bad lists rows whose resource data could not be
// encrypted (they are discarded). body is nil when nothing is left to send.
func (p *Pipeline) body(b *batch) (body []byte, bad []int64) {
	out := make([]byte, 0, 64+len(b.rows)*512)
	out = append(out, `{"value":[`...)
	type audTenant struct{ aud, tenant string }
	var rich []audTenant
	first := true
	keep := b.rows[:0]
	infos := b.infos[:0]
	for i := range b.rows {
		n := &b.rows[i]
		info := b.infos[i]
		var enc []byte
		if info != nil && n.Rich != nil {
			var err error
			enc, err = info.encrypt(n.Rich)
			if err != nil {
				p.log.Warn("delivery: encrypting resource data", "subscription", n.SubscriptionID, "err", err)
				bad = append(bad, n.ID)
				continue
			}
			at := audTenant{info.aud, n.Tenant}
			seen := false
			for _, x := range rich {
				seen = seen || x == at
			}
			if !seen {
				rich = append(rich, at)
			}
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		if info == nil {
			out = append(out, n.Payload...)
		} else {
			out = appendItem(out, &info.head, n, enc)
		}
		keep = append(keep, *n)
		infos = append(infos, info)
	}
	b.rows, b.infos = keep, infos
	if len(b.rows) == 0 {
		return nil, bad
	}
	out = append(out, ']')
	if len(rich) > 0 {
		// One validation token per (app, tenant) with rich data in the batch; the
		// key is absent (not empty) when there is none (Microsoft's "Set up change notifications that include resource data").
		out = append(out, `,"validationTokens":`...)
		var toks []string
		for _, at := range rich {
			tok, err := p.tokens.get(p, at.aud, at.tenant)
			if err != nil {
				p.log.Error("delivery: minting validation token", "err", err)
				toks = nil
				break
			}
			toks = append(toks, tok)
		}
		if toks == nil {
			out = append(out, "null"...)
		} else {
			out = append(out, '[')
			for i, t := range toks {
				if i > 0 {
					out = append(out, ',')
				}
				out = docjson.AppendString(out, t)
			}
			out = append(out, ']')
		}
	}
	return append(out, '}'), bad
}

// lowerTLS returns the lower of two latestSupportedTlsVersion values; "" (not yet
// known) yields to the other, and an unknown value counts as egress's default.
func lowerTLS(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	va, ok := tlsVersions[a]
	if !ok {
		a, va = egress.DefaultTLSVersion, tlsVersions[egress.DefaultTLSVersion]
	}
	if vb, ok := tlsVersions[b]; ok && vb < va {
		return b
	}
	return a
}

var tlsVersions = egress.TLSVersions()
