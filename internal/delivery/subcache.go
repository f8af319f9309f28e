package delivery

import (
	"cmp"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"sync"

	"github.com/graphhook/graphhook/internal/richdata"
	"github.com/graphhook/graphhook/internal/store"
)

// subInfo is what the dispatcher needs of a subscription at send time, cached by
// (id, version).
type subInfo struct {
	sub    store.Subscription
	head   subHead
	tls    string // latestSupportedTlsVersion
	aud    string // validation token audience
	cert   *x509.Certificate
	certID string
	err    error // why resource data cannot be encrypted
}

func (i *subInfo) encrypt(data []byte) ([]byte, error) {
	if i.err != nil {
		return nil, i.err
	}
	ec, err := richdata.Encrypt(data, i.cert, i.certID)
	if err != nil {
		return nil, err
	}
	return json.Marshal(ec)
}

// subCache holds subInfos; it is bounded so that many subscriptions do not pin
// memory (a miss costs one row read inside the claim transaction anyway).
type subCache struct {
	mu sync.Mutex
	m  map[string]*subInfo
}

const subCacheMax = 20000

func (c *subCache) init() { c.m = map[string]*subInfo{} }

// lookup returns the current info of each subscription among ids (their expiry,
// clientState and certificate may have changed since they were cached); a
// subscription that is gone maps to nil. It reads every version in one statement
// and re-reads only the subscriptions whose version moved.
func (c *subCache) lookup(ctx context.Context, tx store.Tx, ids []string) (map[string]*subInfo, error) {
	versions, err := tx.SubscriptionVersions(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*subInfo, len(ids))
	var stale []string
	c.mu.Lock()
	for _, id := range ids {
		v, ok := versions[id]
		if !ok {
			delete(c.m, id)
			out[id] = nil
			continue
		}
		if info, ok := c.m[id]; ok && info.sub.Version == v {
			out[id] = info
			continue
		}
		stale = append(stale, id)
	}
	c.mu.Unlock()
	for _, id := range stale {
		info, err := c.get(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		out[id] = info
	}
	return out, nil
}

// get re-reads the subscription (its expiry, clientState and certificate may have
// changed) and returns its info; nil when it is gone.
func (c *subCache) get(ctx context.Context, tx store.Tx, id string) (*subInfo, error) {
	s, err := tx.GetSubscription(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		c.mu.Lock()
		delete(c.m, id)
		c.mu.Unlock()
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	info, ok := c.m[id]
	c.mu.Unlock()
	if ok && info.sub.Version == s.Version {
		return info, nil
	}
	info = newSubInfo(s)
	c.mu.Lock()
	if len(c.m) >= subCacheMax {
		clear(c.m)
	}
	c.m[id] = info
	c.mu.Unlock()
	return info, nil
}

func newSubInfo(s store.Subscription) *subInfo {
	info := &subInfo{head: renderHead(&s), aud: s.AppID}
	var d struct {
		TLS    string `json:"latestSupportedTlsVersion"`
		Cert   string `json:"encryptionCertificate"`
		CertID string `json:"encryptionCertificateId"`
		AppID  string `json:"notificationUrlAppId"`
	}
	err := json.Unmarshal(s.Data, &d)
	info.tls = d.TLS
	if s.IncludeResourceData {
		if err != nil {
			info.err = err
		} else {
			info.certID = d.CertID
			info.aud = cmp.Or(d.AppID, s.AppID)
			info.cert, info.err = richdata.ParseCertificate(d.Cert)
		}
	}
	s.Data = nil // not needed after this; keeps the cache small
	info.sub = s
	return info
}
