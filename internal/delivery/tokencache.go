package delivery

import (
	"errors"
	"sync"
	"time"

	"github.com/graphhook/graphhook/internal/richdata"
)

// tokenCache keeps validation tokens per (audience, tenant): minting one is an RSA
// signature (about 0.7 ms), too dear for every POST. A token is reused for most of
// its 24-hour life and replaced tokenRenewBefore its expiry, so that the one a
// receiver gets always has that long left, whatever delays lie between our send and
// its check.
type tokenCache struct {
	mu sync.Mutex
	m  map[[2]string]cachedToken
}

type cachedToken struct {
	token   string
	issued  time.Time // nbf and iat
	expires time.Time // exp
}

const (
	// tokenRenewBefore is how long before its expiry a cached token is replaced.
	tokenRenewBefore = time.Hour
	// tokenCacheMax bounds the cache (one entry per app and tenant with rich
	// subscriptions); past it, it starts again empty.
	tokenCacheMax = 10000
)

func (c *tokenCache) get(p *Pipeline, aud, tenant string) (string, error) {
	if p.signer == nil {
		return "", errors.New("no signer configured")
	}
	now := p.clock.Now()
	key := [2]string{aud, tenant}
	c.mu.Lock()
	t, ok := c.m[key]
	c.mu.Unlock()
	// A clock set back before the token's nbf makes it not yet valid: mint anew.
	if ok && !now.Before(t.issued) && now.Before(t.expires.Add(-tokenRenewBefore)) {
		return t.token, nil
	}
	iss := ""
	if p.cfg.Issuer != nil {
		iss = p.cfg.Issuer(tenant)
	}
	tok, err := richdata.ValidationToken(p.signer, aud, tenant, p.cfg.PublisherID, iss, now)
	if err != nil {
		return "", err
	}
	// ValidationToken counts nbf and exp from now in whole seconds.
	issued := now.Truncate(time.Second)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= tokenCacheMax {
		c.m = map[[2]string]cachedToken{}
	}
	c.m[key] = cachedToken{token: tok, issued: issued, expires: issued.Add(richdata.TokenLifetime)}
	c.mu.Unlock()
	return tok, nil
}
