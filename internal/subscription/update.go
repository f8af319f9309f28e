package subscription

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
)

// updatable are the properties a PATCH may change (Microsoft's "Update subscription").
var updatable = map[string]bool{
	propExpiration: true, propNotificationURL: true, propEncryptionCertificate: true, propEncryptionCertificateID: true,
}

// patch is a PATCH body after its checks.
type patch struct {
	exp     *time.Time
	url     *string
	cert    *string
	certID  *string
	renewal bool
}

// parsePatch checks a PATCH body against the stored subscription. Properties that
// cannot change are accepted only with their current value, so that a client that
// sends the whole object back is not refused, while one that expects a change it
// cannot get hears about it.
func (s *Service) parsePatch(c *httpapi.Ctx, sub *store.Subscription, res *Resource) (*patch, error) {
	pl, err := decodePayload(c)
	if err != nil {
		return nil, err
	}
	current, _ := json.Marshal(res)
	var cur map[string]json.RawMessage
	json.Unmarshal(current, &cur)
	for name, v := range pl {
		if updatable[name] {
			continue
		}
		if !jsonEqual(cur[name], v) {
			return nil, invalidRequest("Property '%s' cannot be updated; only expirationDateTime, notificationUrl, encryptionCertificate and encryptionCertificateId can.", name)
		}
	}
	out := &patch{}
	rawExp, hasExp, err := pl.str(propExpiration)
	if err != nil {
		return nil, err
	}
	url, hasURL, err := pl.str(propNotificationURL)
	if err != nil {
		return nil, err
	}
	if !hasExp && !hasURL {
		return nil, invalidRequest(msgPatchNeedsProperty)
	}
	d := s.catalog.Lookup(sub.ResourceType)
	if hasExp {
		exp, err := s.expiration(rawExp, d, c.Now, opUpdate)
		if err != nil {
			return nil, err
		}
		if d != nil && d.Teams && sub.LifecycleURL == "" && exp.After(c.Now.Add(s.cfg.TeamsLifecycleAfter)) {
			return nil, invalidRequest(msgTeamsLifecycle)
		}
		if d != nil && sub.IncludeResourceData && d.RichMaxLifetime > 0 && exp.After(c.Now.Add(d.RichMaxLifetime+s.cfg.ClockSkew)) {
			return nil, graph.Errorf(http.StatusBadRequest, graph.CodeExtensionError,
				"Subscription expiration can only be %d minutes in the future.", int(d.RichMaxLifetime/time.Minute))
		}
		out.exp, out.renewal = &exp, true
	}
	if hasURL {
		if err := s.checkURL(url, notificationURLKind); err != nil {
			return nil, err
		}
		out.url = &url
	} else if err := s.checkURL(sub.NotificationURL, notificationURLKind); err != nil {
		// A renewal keeps the stored URL: it must still pass the profile's rules (a
		// subscription made under the dev profile is not renewed under strict).
		return nil, err
	}
	if sub.LifecycleURL != "" {
		if err := s.checkURL(sub.LifecycleURL, lifecycleURLKind); err != nil {
			return nil, err
		}
	}
	cert, hasCert, err := pl.str(propEncryptionCertificate)
	if err != nil {
		return nil, err
	}
	certID, hasID, err := pl.str(propEncryptionCertificateID)
	if err != nil {
		return nil, err
	}
	if sub.IncludeResourceData && ((hasCert && cert == "") || (hasID && certID == "")) {
		return nil, invalidRequest("encryptionCertificate and encryptionCertificateId cannot be removed from a subscription that includes resource data.")
	}
	if err := checkCertificate(cert, hasCert, certID, hasID); err != nil {
		return nil, err
	}
	if hasCert {
		out.cert = &cert
	}
	if hasID {
		out.certID = &certID
	}
	return out, nil
}

// jsonEqual compares two JSON values; an absent value equals null.
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if len(a) == 0 {
		a = json.RawMessage("null")
	}
	if len(b) == 0 {
		b = json.RawMessage("null")
	}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// apply writes the patch into the subscription and its representation.
func (s *Service) apply(sub *store.Subscription, res *Resource, pt *patch, now time.Time) error {
	if pt.exp != nil {
		sub.Expiration = *pt.exp
		res.ExpirationDateTime = graph.FormatTime(*pt.exp)
	}
	if pt.url != nil {
		sub.NotificationURL = *pt.url
		res.NotificationURL = *pt.url
	}
	if pt.cert != nil {
		res.EncryptionCertificate = pt.cert
	}
	if pt.certID != nil {
		res.EncryptionCertificateID = pt.certID
	}
	if pt.renewal {
		// A renewal also reauthorizes (Microsoft's "Update subscription" and "Reduce missing subscriptions and change notifications").
		s.authorize(sub, now)
	}
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	sub.Data = data
	return nil
}

func (s *Service) update(c *httpapi.Ctx) error {
	ctx := c.R.Context()
	var sub store.Subscription
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		sub, err = s.load(ctx, tx, c, opUpdate)
		return err
	})
	if err != nil {
		return err
	}
	res, err := ParseResource(sub.Data)
	if err != nil {
		return err
	}
	pt, err := s.parsePatch(c, &sub, &res)
	if err != nil {
		return err
	}
	// A new notification URL must pass the handshake before it is committed.
	if pt.url != nil && *pt.url != sub.NotificationURL {
		if err := s.hs.Validate(ctx, *pt.url, res.LatestSupportedTLSVersion); err != nil {
			return err
		}
	}
	// The patch is applied to the subscription as it is at commit time, field by
	// field, so a concurrent reauthorization is not lost.
	err = s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if sub, err = s.load(ctx, tx, c, opUpdate); err != nil {
			return err
		}
		if res, err = ParseResource(sub.Data); err != nil {
			return err
		}
		if err := s.apply(&sub, &res, pt, c.Now); err != nil {
			return err
		}
		return tx.UpdateSubscription(ctx, &sub)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, entity{Context: c.ContextURL("subscriptions/$entity"), Resource: res})
}
