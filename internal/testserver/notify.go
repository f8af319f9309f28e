package testserver

import (
	"io"
	"log/slog"
	"time"

	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/subscription"
)

// Notifications wires the subscriptions API and a delivery pipeline over resources
// (nil: every built-in workload's), polling every 20 ms, with its services run by
// the server: for tests that change resources through a workload's routes and
// receive the notifications on a loopback endpoint.
func Notifications(resources []resource.Descriptor) Wire {
	return func(env *Env) {
		t := env.T
		if resources == nil {
			resources = Resources()
		}
		pipeline, err := delivery.New(delivery.Config{PollInterval: 20 * time.Millisecond}, delivery.Options{
			Store: env.Store, Clock: env.Clock, Signer: env.Identity, Resources: resources,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		pipeline.Install()
		svc, err := subscription.New(env.Store, subscription.Config{Clock: env.Clock, Resources: resources, OnDelete: pipeline.DiscardQueued})
		if err != nil {
			t.Fatal(err)
		}
		svc.Routes(env.HTTP.Graph())
		for _, s := range pipeline.Services() {
			env.Main.AddService(s)
		}
	}
}
