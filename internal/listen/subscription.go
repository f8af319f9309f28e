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

func (l *listener) expiration() string {
	return l.now().Add(l.cfg.Expiration).UTC().Format("2006-01-02T15:04:05.0000000Z")
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

// keepAlive renews the subscription before it expires and when the server asks for
// reauthorization, and replaces it when the server removed it. When ctx is done it
// returns the subscription current then, for the caller to delete.
func (l *listener) keepAlive(ctx context.Context, sub subscription) subscription {
	timer := time.NewTimer(renewDelay(l.now(), sub.expiry()))
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
		next, err := l.renew(ctx, sub, event)
		if err != nil {
			if ctx.Err() != nil {
				return sub
			}
			fmt.Fprintf(l.stderr, "graphhook listen: %v; trying again in %v\n", err, retryDelay)
			timer.Reset(retryDelay)
			continue
		}
		sub = next
		timer.Reset(renewDelay(l.now(), sub.expiry()))
	}
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
	l.out.linef("subscription %s is gone from the server; creating a new one", sub.ID)
	return l.create(ctx)
}
