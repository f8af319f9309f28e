package receiver

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// keyset caches the sender's token-signing keys from a JWKS URL. Keys rotate, so an
// unknown kid triggers a refetch, but at most once per minRefresh: otherwise a stream
// of tokens with made-up kids would make the receiver hammer the key endpoint.
type keyset struct {
	url        string
	client     *http.Client
	minRefresh time.Duration
	maxAge     time.Duration
	now        func() time.Time

	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey
	fetchedAt time.Time // last successful fetch
	triedAt   time.Time // last attempt, successful or not
}

// key returns the public key for kid, fetching the JWKS when the cache is empty,
// older than maxAge, or lacks kid and minRefresh has passed since the last attempt.
// Errors wrap ErrTokenUnknownKey or ErrKeysUnavailable.
func (ks *keyset) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	now := ks.now()
	k, ok := ks.keys[kid]
	stale := ks.keys == nil || now.Sub(ks.fetchedAt) >= ks.maxAge
	if ok && !stale {
		return k, nil
	}
	if !ks.triedAt.IsZero() && now.Sub(ks.triedAt) < ks.minRefresh {
		switch {
		case ok:
			return k, nil // stale, but the last refresh failed moments ago
		case ks.keys == nil:
			return nil, fmt.Errorf("%w: last fetch failed less than %v ago", ErrKeysUnavailable, ks.minRefresh)
		}
		return nil, fmt.Errorf("%w: kid %q", ErrTokenUnknownKey, kid)
	}
	ks.triedAt = now
	keys, err := ks.fetch(ctx)
	if err != nil {
		if ok {
			// A stale key still verifies while the endpoint is down.
			return k, nil
		}
		return nil, err
	}
	ks.keys, ks.fetchedAt = keys, now
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: kid %q", ErrTokenUnknownKey, kid)
}

// jwks is the subset of RFC 7517 the sender's key set uses.
type jwks struct {
	Keys []struct {
		Kty string   `json:"kty"`
		Kid string   `json:"kid"`
		Use string   `json:"use"`
		N   string   `json:"n"`
		E   string   `json:"e"`
		X5c []string `json:"x5c"`
	} `json:"keys"`
}

func (ks *keyset) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := ks.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s", ErrKeysUnavailable, ks.url, resp.Status)
	}
	var set jwks
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("%w: GET %s: %w", ErrKeysUnavailable, ks.url, err)
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pub, err := rsaKey(k.N, k.E, k.X5c)
		if err != nil {
			// One bad entry must not hide the good ones.
			continue
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: GET %s: no usable RSA signing key", ErrKeysUnavailable, ks.url)
	}
	return keys, nil
}

// rsaKey builds a public key from the JWK modulus and exponent, or from the first
// certificate of x5c when they are absent.
func rsaKey(n, e string, x5c []string) (*rsa.PublicKey, error) {
	if n == "" && len(x5c) > 0 {
		der, err := base64.StdEncoding.DecodeString(x5c[0])
		if err != nil {
			return nil, err
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("x5c key is %T", cert.PublicKey)
		}
		return pub, nil
	}
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		return nil, err
	}
	eb, err := base64.RawURLEncoding.DecodeString(e)
	if err != nil {
		return nil, err
	}
	exp := new(big.Int).SetBytes(eb)
	if len(nb) == 0 || !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 {
		return nil, fmt.Errorf("bad RSA key")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(exp.Int64())}, nil
}
