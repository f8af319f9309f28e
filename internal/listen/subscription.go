package listen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/graphhook/graphhook/internal/graphclient"
	"github.com/graphhook/graphhook/receiver"
)

// subscription is the part of a subscription listen reads and writes.
type subscription struct {
	ID                       string `json:"id,omitempty"`
	Resource                 string `json:"resource,omitempty"`
	ChangeType               string `json:"changeType,omitempty"`
	NotificationURL          string `json:"notificationUrl,omitempty"`
	LifecycleNotificationURL string `json:"lifecycleNotificationUrl,omitempty"`
	ExpirationDateTime       string `json:"expirationDateTime,omitempty"`
	ClientState              string `json:"clientState,omitempty"`
	IncludeResourceData      bool   `json:"includeResourceData,omitempty"`
	EncryptionCertificate    string `json:"encryptionCertificate,omitempty"`
	EncryptionCertificateID  string `json:"encryptionCertificateId,omitempty"`
}

func (s subscription) expiry() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s.ExpirationDateTime)
	return t
}

func (l *listener) create(ctx context.Context) (subscription, error) {
	req := subscription{
		Resource:            l.cfg.Resource,
		ChangeType:          l.cfg.ChangeType,
		NotificationURL:     l.url,
		ExpirationDateTime:  l.expiration(),
		ClientState:         l.cfg.ClientState,
		IncludeResourceData: l.cfg.IncludeResourceData,
	}
	if l.cfg.Lifecycle {
		req.LifecycleNotificationURL = l.url
	}
	if l.cfg.IncludeResourceData {
		req.EncryptionCertificate, req.EncryptionCertificateID = l.cert, l.certID
	}
	var sub subscription
	if err := l.client.Do(ctx, http.MethodPost, "/v1.0/subscriptions", req, &sub); err != nil {
		return sub, fmt.Errorf("create subscription: %w", err)
	}
	l.out.linef("subscription %s created for %s", sub.ID, cmp.Or(sub.Resource, l.cfg.Resource))
	l.out.linef("  expires %s; renewed automatically, deleted on Ctrl-C", sub.ExpirationDateTime)
	return sub, nil
}

// expiration is the expirationDateTime to ask for: Config.Expiration from now in
// the server's time, which graphhook's admin API may have moved ahead of this
// machine's.
func (l *listener) expiration() string {
	return l.client.ServerNow().Add(l.cfg.Expiration).UTC().Format("2006-01-02T15:04:05.0000000Z")
}

// renewDelay is how long to wait before renewing a subscription expiring at expiry:
// a quarter of the time left, kept between one and fifteen minutes before expiry, so
// that a failed renewal still has time for a few retries.
func renewDelay(now, expiry time.Time) time.Duration {
	left := expiry.Sub(now)
	margin := min(max(left/4, time.Minute), 15*time.Minute)
	return max(left-margin, 0)
}

// retryDelay is the wait after a failed renewal.
const retryDelay = time.Minute

// defaultCheckEvery is how often listen looks at its subscription on the server
// between renewals: the server's clock may jump forward (the admin API's clock
// advance), expiring the subscription long before this machine's timers say, and a
// look both finds that out and reads the server's new time (the Date header).
const defaultCheckEvery = 30 * time.Second

// keepAlive renews the subscription before it expires and when the server asks for
// reauthorization, and replaces it when the server removed it or it expired. When
// ctx is done it returns the subscription current then, for the caller to delete.
func (l *listener) keepAlive(ctx context.Context, sub subscription) subscription {
	// look tells whether the timer is set for a look at the server (check) rather
	// than for the renewal itself.
	var look bool
	due := func() time.Duration {
		d := renewDelay(l.client.ServerNow(), sub.expiry())
		look = d > l.checkEvery
		return min(d, l.checkEvery)
	}
	timer := time.NewTimer(due())
	defer timer.Stop()
	for {
		var event string
		select {
		case <-ctx.Done():
			return sub
		case <-timer.C:
		case n := <-l.lifecycle:
			// Events about a subscription this one replaced are stale.
			if n.SubscriptionID != sub.ID {
				continue
			}
			event = n.LifecycleEvent
		}
		var next subscription
		var err error
		if event == "" && look {
			next, err = l.check(ctx, sub)
		} else {
			next, err = l.renew(ctx, sub, event)
		}
		if err != nil {
			if ctx.Err() != nil {
				return sub
			}
			wait := min(retryDelay, l.checkEvery)
			fmt.Fprintf(l.stderr, "graphhook listen: %v; trying again in %v\n", err, wait)
			look = true
			timer.Reset(wait)
			continue
		}
		sub = next
		timer.Reset(due())
	}
}

// check reads the subscription from the server and renews it when it is due in the
// server's time; one the server no longer has is created anew.
func (l *listener) check(ctx context.Context, sub subscription) (subscription, error) {
	var got subscription
	err := l.client.Do(ctx, http.MethodGet, "/v1.0/subscriptions/"+url.PathEscape(sub.ID), nil, &got)
	var ge *graphclient.Error
	switch {
	case errors.As(err, &ge) && ge.Status == http.StatusNotFound:
		return l.recreate(ctx, sub)
	case err != nil:
		return sub, fmt.Errorf("read subscription %s: %w", sub.ID, err)
	}
	sub.ExpirationDateTime = cmp.Or(got.ExpirationDateTime, sub.ExpirationDateTime)
	if renewDelay(l.client.ServerNow(), sub.expiry()) > 0 {
		return sub, nil
	}
	return l.renew(ctx, sub, "")
}

// renew extends the subscription with a PATCH of expirationDateTime, which also
// reauthorizes it (Graph: never combine with /reauthorize within ten minutes, so
// one call does both). A subscription the server no longer has is created anew.
func (l *listener) renew(ctx context.Context, sub subscription, event string) (subscription, error) {
	if event != receiver.LifecycleSubscriptionRemoved {
		var out subscription
		err := l.client.Do(ctx, http.MethodPatch, "/v1.0/subscriptions/"+url.PathEscape(sub.ID), map[string]string{"expirationDateTime": l.expiration()}, &out)
		var ge *graphclient.Error
		switch {
		case err == nil:
			l.out.linef("subscription %s renewed until %s", sub.ID, out.ExpirationDateTime)
			out.ID = cmp.Or(out.ID, sub.ID)
			return out, nil
		case !errors.As(err, &ge) || ge.Status != http.StatusNotFound:
			return sub, fmt.Errorf("renew subscription %s: %w", sub.ID, err)
		}
	}
	return l.recreate(ctx, sub)
}

// recreate replaces a subscription the server no longer has, saying so: the
// notifications in between are lost, which the user should know.
func (l *listener) recreate(ctx context.Context, sub subscription) (subscription, error) {
	why := "removed by the server"
	if exp := sub.expiry(); !exp.IsZero() && !l.client.ServerNow().Before(exp) {
		why = "expired at " + sub.ExpirationDateTime + " in the server's time (its clock moved forward?)"
	}
	l.out.linef("subscription %s is gone from the server (%s); creating a new one", sub.ID, why)
	return l.create(ctx)
}
