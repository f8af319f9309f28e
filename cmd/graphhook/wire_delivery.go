package main

import (
	"context"
	"sync"

	"github.com/graphhook/graphhook/internal/delivery"
)

// deliveryConfig is the delivery pipeline's configuration; Graph's numbers are the
// defaults. `graphhook bench` adjusts it before starting its server.
var deliveryConfig delivery.Config

// pipelines remembers each Main's pipeline, for bench and tests.
var pipelines sync.Map // *Main → *delivery.Pipeline

// The delivery pipeline: the matcher as the store's change hook, and the
// dispatcher, reauthorization scheduler, rescuer and retention as services.
func init() {
	wirings = append(wirings, wiring{name: "delivery", wire: func(ctx context.Context, m *Main) error {
		cfg := deliveryConfig
		// With the embedded store this process is the only dispatcher, so whatever
		// is left running at start was in flight when an earlier process died.
		cfg.RescueOnStart = m.Config.Database == ""
		// The strict profile's address rule holds for notification POSTs as it does
		// for the handshake: a name that resolved to a public address at creation
		// may point inside the network later.
		cfg.Strict = m.Config.Profile == "strict"
		p, err := delivery.New(cfg, delivery.Options{
			Store: m.Store, Clock: m.Clock, Signer: m.Identity, Registry: m.Registry,
			Logger: m.Log.With("part", "delivery"), Resources: resources(),
		})
		if err != nil {
			return err
		}
		p.Install()
		// Services lists the dispatcher first: it runs on every node, the others
		// (restartable, so the same instance serves each term) on the leader only.
		services := p.Services()
		m.AddService(services[0])
		for _, s := range services[1:] {
			m.AddService(m.leaderOnly(func() Service { return s }))
		}
		pipelines.Store(m, p)
		return nil
	}})
}
