package subscription

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/service"
	"github.com/graphhook/graphhook/internal/store"
)

// Profiles.
const (
	// ProfileDev lets notification URLs be http:// and point at loopback and private
	// addresses: what a developer running receivers on localhost needs.
	ProfileDev = "dev"
	// ProfileStrict demands https and refuses private, loopback and link-local
	// targets when connecting, so that a subscription cannot make the server probe its
	// own network.
	ProfileStrict = "strict"
)

// Quotas are the subscription limits (see resource.Quotas). A zero field takes its
// default.
type Quotas = resource.Quotas

// DeleteHook runs inside the transaction that deletes a subscription (through the API
// or the expiry sweeper). The delivery pipeline uses it to drop the subscription's
// queued notifications together with the subscription; an error undoes the delete.
type DeleteHook func(ctx context.Context, tx store.Tx, sub store.Subscription) error

// Config configures the subscriptions API. Zero fields take the default their comment
// states.
type Config struct {
	// Profile is ProfileDev (default) or ProfileStrict.
	Profile string
	// Clock tells the time of background work (default the system clock); request
	// handling uses the request's time, which the HTTP server takes from its clock.
	Clock clock.Clock
	// Log receives the sweeper's reports (default slog.Default()).
	Log *slog.Logger

	// HandshakeTimeout bounds one validation request, answer included (default 10 s,
	// Microsoft's "Receive change notifications through webhooks").
	HandshakeTimeout time.Duration
	// HandshakeMaxBody caps how much of a validation answer is read (default 1 MiB);
	// a longer answer cannot equal a token and fails the comparison.
	HandshakeMaxBody int64
	// RootCAs verifies receivers' certificates (default the system roots); tests set
	// it to trust their own https receivers.
	RootCAs *x509.CertPool

	// Resources are the subscribable resources, as their workloads describe them
	// (default none: every resource path is refused).
	Resources []resource.Descriptor
	// Lifetimes overrides maximum lifetimes per resource type name (default each
	// descriptor's MaxLifetime).
	Lifetimes map[string]time.Duration
	// MinLifetime is the floor expirations are raised to (default 45 minutes, spec
	// Microsoft's "subscription resource type").
	MinLifetime time.Duration
	// ClockSkew is how far past its maximum an expiration may be and still pass,
	// for clients whose clocks run ahead (default 1 minute; negative means none).
	ClockSkew time.Duration
	// TeamsLifecycleAfter is the lifetime above which Teams subscriptions need a
	// lifecycleNotificationUrl (default 1 hour).
	TeamsLifecycleAfter time.Duration
	// Authorization is how long a create, renewal or reauthorization authorizes a
	// subscription for (default 60 minutes, Microsoft's "Reduce missing subscriptions and change notifications").
	Authorization time.Duration
	// ReminderLead is how long before the authorization (or the subscription) lapses
	// the reauthorization scheduler is first due (default 15 minutes).
	ReminderLead time.Duration
	// Quotas are the limits of Microsoft's "Create subscription".
	Quotas Quotas
	// PageSize is the number of subscriptions per list page (default 100).
	PageSize int

	// SweepInterval is how often the expiry sweeper looks for expired subscriptions
	// (default 30 s).
	SweepInterval time.Duration
	// SweepBatch is how many expired subscriptions one sweep transaction deletes at
	// most (default 500).
	SweepBatch int

	// OnSweep, when set, is called after each pass of an expiry sweeper (reported as
	// service "subscription expiry sweep", N the subscriptions deleted). It is a
	// hook for tests.
	OnSweep func(service.Report)
	// OnDelete, when set, runs in every transaction that deletes a subscription.
	OnDelete DeleteHook
}

func (c Config) withDefaults() Config {
	c.Profile = cmp.Or(c.Profile, ProfileDev)
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	c.HandshakeTimeout = cmp.Or(c.HandshakeTimeout, 10*time.Second)
	c.HandshakeMaxBody = cmp.Or(c.HandshakeMaxBody, 1<<20)
	c.MinLifetime = cmp.Or(c.MinLifetime, 45*time.Minute)
	if c.ClockSkew == 0 {
		c.ClockSkew = time.Minute
	} else if c.ClockSkew < 0 {
		c.ClockSkew = 0
	}
	c.TeamsLifecycleAfter = cmp.Or(c.TeamsLifecycleAfter, time.Hour)
	c.Authorization = cmp.Or(c.Authorization, 60*time.Minute)
	c.ReminderLead = cmp.Or(c.ReminderLead, 15*time.Minute)
	c.Quotas = c.Quotas.WithDefaults()
	c.PageSize = cmp.Or(c.PageSize, 100)
	c.SweepInterval = cmp.Or(c.SweepInterval, 30*time.Second)
	c.SweepBatch = cmp.Or(c.SweepBatch, 500)
	return c
}

// lifetime is the maximum lifetime of subscriptions on d's resource (zero for an
// unknown resource, so that nothing passes).
func (c Config) lifetime(d *resource.Descriptor) time.Duration {
	if d == nil {
		return 0
	}
	if l, ok := c.Lifetimes[d.Type]; ok {
		return l
	}
	return d.MaxLifetime
}

func (c Config) validate(catalog *resource.Catalog) error {
	var errs []error
	if c.Profile != ProfileDev && c.Profile != ProfileStrict {
		errs = append(errs, fmt.Errorf("subscription: profile must be %q or %q, not %q", ProfileDev, ProfileStrict, c.Profile))
	}
	for _, d := range catalog.Descriptors() {
		if l := c.lifetime(d); l < c.MinLifetime {
			errs = append(errs, fmt.Errorf("subscription: the maximum lifetime of %s (%v) is below the minimum lifetime (%v)", d.Type, l, c.MinLifetime))
		}
	}
	if c.HandshakeTimeout < 0 || c.HandshakeMaxBody < 0 || c.PageSize < 0 || c.SweepInterval < 0 || c.SweepBatch < 0 {
		errs = append(errs, errors.New("subscription: timeouts, sizes and intervals must not be negative"))
	}
	return errors.Join(errs...)
}
