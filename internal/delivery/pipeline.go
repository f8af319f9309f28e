package delivery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/egress"
	"github.com/graphhook/graphhook/internal/memo"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/richdata"
	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
)

// Options are the pipeline's collaborators.
type Options struct {
	Store store.Store
	// Clock tells the time (default the system clock); tests move it.
	Clock clock.Clock
	// Signer signs validation tokens (identity.Service). Without it rich
	// notifications carry "validationTokens": null, as Graph does when it cannot mint them.
	Signer richdata.Signer
	// Registry gets the metrics (none when nil).
	Registry prometheus.Registerer
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// OnPass, when set, is called after each pass of the pipeline's services (see
	// Services for their names) and after each write of POST outcomes (reported as
	// service "acker"). It is a hook for tests, which wait on it instead of polling:
	// every change of a queued row is followed by one of these reports, at the
	// latest by the dispatcher's next poll.
	OnPass func(service.Report)

	// Resources are the subscribable resources, as their workloads describe them:
	// what permissions a subscription keeps needing, which lifecycle events it gets,
	// and which subscriptions die with a deleted object. A subscription on a
	// resource type not listed here loses its permission at its next change.
	Resources []resource.Descriptor
}

// Pipeline is the matcher, the dispatcher and the lifecycle services over one store.
type Pipeline struct {
	cfg     Config
	st      store.Store
	clock   clock.Clock
	signer  richdata.Signer
	log     *slog.Logger
	clients *egress.Clients // one per latestSupportedTlsVersion
	metrics *metrics
	catalog *resource.Catalog

	filters sync.Map // $filter text → *odata.Filter (nil when it does not parse)
	subs    subCache
	grants  memo.Decoded[*appGrant]
	tokens  tokenCache
	faults  faultCache

	epMu      sync.Mutex
	endpoints map[string]*endpoint

	push pushBack

	dispatcher, reminder, rescuer, retention, heartbeat *service.Loop
	onPass                                              func(service.Report)

	// The dispatcher's run: made at its start, drained at its stop.
	workers sync.WaitGroup
	acks    chan *ack
	ackDone chan struct{}
}

// New returns a pipeline; Install hooks it into the store, Services runs it.
func New(cfg Config, o Options) (*Pipeline, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if o.Store == nil {
		return nil, errors.New("delivery: no store")
	}
	cfg = cfg.withDefaults()
	catalog, err := resource.NewCatalog(o.Resources)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{catalog: catalog,
		cfg: cfg, st: o.Store, clock: o.Clock, signer: o.Signer, log: o.Logger,
		endpoints: map[string]*endpoint{}, onPass: o.OnPass,
	}
	if p.clock == nil {
		p.clock = clock.Real{}
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.clients = egress.New(egress.Config{
		Strict: cfg.Strict, RootCAs: cfg.RootCAs, DialTimeout: 5 * time.Second,
		MaxIdleConns: 1024, MaxIdleConnsPerHost: cfg.PerURL * 4,
	})
	p.subs.init()
	p.metrics = newMetrics(p, o.Registry)
	p.dispatcher = &service.Loop{Name: "dispatcher", Every: cfg.PollInterval, Pass: p.pass,
		Starting: p.startDispatch, Stopped: p.stopDispatch, Signal: p.st.Committed(), Log: p.log, OnPass: o.OnPass}
	p.reminder = &service.Loop{Name: "reauthorization", Every: cfg.ReminderInterval, Pass: uncounted(p.remind), Log: p.log, OnPass: o.OnPass}
	p.rescuer = &service.Loop{Name: "rescuer", Every: cfg.RescueInterval, Pass: p.rescue, Log: p.log, OnPass: o.OnPass}
	p.retention = &service.Loop{Name: "retention", Every: cfg.RetentionInterval, Pass: p.prune, Log: p.log, OnPass: o.OnPass}
	p.heartbeat = &service.Loop{Name: "heartbeat", Every: cfg.heartbeatEvery(), Pass: uncounted(p.beat), Starting: p.beat, Log: p.log, OnPass: o.OnPass}
	return p, nil
}

// uncounted adapts a pass that does not count what it did.
func uncounted(pass func(context.Context) error) func(context.Context) (service.Result, error) {
	return func(ctx context.Context) (service.Result, error) { return service.Result{}, pass(ctx) }
}

// Install sets the matcher as the store's change hook. Call it before the store
// takes writes that should notify.
func (p *Pipeline) Install() { p.st.SetChangeHook(p.hook) }

// Wake makes the dispatcher look for due notifications now (after the clock moved,
// for instance).
func (p *Pipeline) Wake() { p.dispatcher.Wake() }

// EndpointState returns the health of a notification URL.
func (p *Pipeline) EndpointState(url string) HealthState {
	return p.endpoint(url).health.State(p.clock.Now())
}

func (p *Pipeline) endpoint(url string) *endpoint {
	p.epMu.Lock()
	defer p.epMu.Unlock()
	ep, ok := p.endpoints[url]
	if !ok {
		ep = &endpoint{url: url, health: NewHealth(p.cfg.Health), slots: make(chan struct{}, p.cfg.PerURL),
			tickets: make(chan struct{}, 2*aheadFactor*p.cfg.PerURL), turn: closedTurn}
		p.endpoints[url] = ep
	}
	return ep
}

func (p *Pipeline) countEndpoints(s HealthState) int {
	p.epMu.Lock()
	eps := make([]*endpoint, 0, len(p.endpoints))
	for _, ep := range p.endpoints {
		eps = append(eps, ep)
	}
	p.epMu.Unlock()
	now := p.clock.Now()
	n := 0
	for _, ep := range eps {
		if ep.health.State(now) == s {
			n++
		}
	}
	return n
}

// Services returns the heartbeat (when the node has a name), the dispatcher, the
// reauthorization scheduler, the rescuer and retention (named "heartbeat",
// "dispatcher", "reauthorization", "rescuer" and "retention" in their reports), in
// start order. Each call returns the same services; each can be started again after
// Stop.
func (p *Pipeline) Services() []service.Service {
	var out []service.Service
	if p.cfg.Node != "" {
		out = append(out, p.Heartbeat())
	}
	return append(append(out, p.Dispatcher()), p.LeaderServices()...)
}

// Heartbeat returns the service that records, every third of Config.HeartbeatTTL,
// that this node (Config.Node) is alive; it does nothing without a Node. It runs on
// every node, started before the dispatcher: its start records the first beat, so
// that the node's first claims are already covered.
func (p *Pipeline) Heartbeat() service.Service { return p.heartbeat }

// Dispatcher returns the service that claims due notifications and POSTs them. It
// runs on every node.
func (p *Pipeline) Dispatcher() service.Service { return p.dispatcher }

// LeaderServices returns the reauthorization scheduler, the rescuer and retention, in
// start order. Each needs one node to run it, and each can be started again after
// Stop, so that one value serves each term the node leads.
func (p *Pipeline) LeaderServices() []service.Service {
	return []service.Service{p.reminder, p.rescuer, p.retention}
}

// rescueOnStart takes back every row left running by an earlier process, or an
// earlier run of this dispatcher. The dispatcher's start runs it, before the
// dispatcher claims anything: run by the rescuer's start, as it was, it also took
// back the rows the dispatcher (started first) had just claimed and was posting,
// which were then claimed and posted again.
func (p *Pipeline) rescueOnStart(ctx context.Context) error {
	if !p.cfg.RescueOnStart {
		return nil
	}
	now := p.clock.Now()
	return p.st.Update(ctx, func(tx store.Tx) error {
		n, err := tx.RescueNotifications(ctx, now.Add(time.Nanosecond), now)
		if n > 0 {
			p.log.Info("delivery: rescued notifications left in flight", "count", n)
		}
		return err
	})
}

// beat records that this node is alive. Beats are on the pipeline's clock, the one
// claims are stamped with and the rescuer reads.
func (p *Pipeline) beat(ctx context.Context) error {
	if p.cfg.Node == "" {
		return nil
	}
	now := p.clock.Now()
	return p.st.Update(ctx, func(tx store.Tx) error { return tx.Heartbeat(ctx, p.cfg.Node, now) })
}

// rescue takes back the rows in flight whose dispatcher is gone: at once those of a
// node whose heartbeat lapsed, and after RescueAfter any row, whatever its node (a
// node that does not beat, or a stuck dispatcher). It counts the rows it moved.
func (p *Pipeline) rescue(ctx context.Context) (service.Result, error) {
	now := p.clock.Now()
	var lapsed, stale int
	err := p.st.Update(ctx, func(tx store.Tx) error {
		// The node running the rescuer is alive: it beats first, so that a jump of
		// the clock between two of its beats never makes it take back its own rows.
		if p.cfg.Node != "" {
			if err := tx.Heartbeat(ctx, p.cfg.Node, now); err != nil {
				return err
			}
		}
		var err error
		if lapsed, err = tx.RescueLapsed(ctx, now.Add(-p.cfg.HeartbeatTTL), now); err != nil {
			return err
		}
		if stale, err = tx.RescueNotifications(ctx, now.Add(-p.cfg.RescueAfter), now); err != nil {
			return err
		}
		// The lapsed nodes' rows are back in the queue: their heartbeats are history.
		_, err = tx.PruneHeartbeats(ctx, now.Add(-p.cfg.HeartbeatTTL))
		return err
	})
	if err != nil {
		return service.Result{}, err
	}
	if lapsed > 0 {
		p.log.Warn("delivery: rescued notifications of a node whose heartbeat lapsed", "count", lapsed)
	}
	if stale > 0 {
		p.log.Warn("delivery: rescued notifications stuck in flight", "count", stale)
	}
	return service.Result{N: lapsed + stale}, nil
}

// prune deletes delivered and discarded rows (with their attempts) older than
// Config.Retention, in batches, and the injected faults that are spent or expired,
// and counts the rows.
func (p *Pipeline) prune(ctx context.Context) (service.Result, error) {
	now := p.clock.Now()
	before := now.Add(-p.cfg.Retention)
	var res service.Result
	if err := p.st.Update(ctx, func(tx store.Tx) error {
		_, err := tx.PruneFaults(ctx, now)
		return err
	}); err != nil {
		return res, err
	}
	for {
		var n int
		err := p.st.Update(ctx, func(tx store.Tx) error {
			var err error
			n, err = tx.PruneNotifications(ctx, before, 1000)
			return err
		})
		if err != nil {
			return res, err
		}
		res.N += n
		if n < 1000 {
			return res, nil
		}
	}
}

// queueStore is a store that runs transactions over queue rows alone at a weaker
// isolation than Update's (PostgreSQL's READ COMMITTED, where a SERIALIZABLE claim
// was cancelled and run again most of the time under load).
type queueStore interface {
	UpdateQueue(ctx context.Context, fn func(store.Tx) error) error
}

// updateQueue runs fn, which touches queue rows (and reads subscriptions) only and
// appends no change, as the store runs such transactions best: every write in it is
// guarded by the state it expects, and claims lock the rows they take.
func (p *Pipeline) updateQueue(ctx context.Context, fn func(store.Tx) error) error {
	if q, ok := p.st.(queueStore); ok {
		return q.UpdateQueue(ctx, fn)
	}
	return p.st.Update(ctx, fn)
}
