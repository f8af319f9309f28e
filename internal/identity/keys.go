package identity

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// KindSigningKey is the store kind of signing keys (tenant "").
const KindSigningKey = "signingKey"

// signingKey is one RSA key graphhook signs tokens with.
type signingKey struct {
	ID      string
	Private *rsa.PrivateKey
	Created time.Time
}

type storedKey struct {
	Kid     string `json:"kid"`
	PKCS8   []byte `json:"pkcs8"`
	Created string `json:"created"`
}

// loadKeys returns the stored signing keys, newest first, creating one when there is
// none. Nodes that start together may both create one; the loser re-reads.
func loadKeys(ctx context.Context, st store.Store, now time.Time) ([]signingKey, error) {
	read := func() ([]signingKey, error) {
		var keys []signingKey
		err := st.View(ctx, func(tx store.Tx) error {
			objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "", Kind: KindSigningKey})
			if err != nil {
				return err
			}
			for _, o := range objs {
				var sk storedKey
				if err := json.Unmarshal(o.Data, &sk); err != nil {
					return fmt.Errorf("signing key %s: %w", o.ID, err)
				}
				k, err := x509.ParsePKCS8PrivateKey(sk.PKCS8)
				if err != nil {
					return fmt.Errorf("signing key %s: %w", o.ID, err)
				}
				rk, ok := k.(*rsa.PrivateKey)
				if !ok {
					return fmt.Errorf("signing key %s is not RSA", o.ID)
				}
				created, _ := time.Parse(time.RFC3339Nano, sk.Created)
				keys = append(keys, signingKey{ID: sk.Kid, Private: rk, Created: created})
			}
			return nil
		})
		sort.Slice(keys, func(i, j int) bool { return keys[i].Created.After(keys[j].Created) })
		return keys, err
	}
	keys, err := read()
	if err != nil || len(keys) > 0 {
		return keys, err
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	kid := keyID(&priv.PublicKey)
	data, _ := json.Marshal(storedKey{Kid: kid, PKCS8: der, Created: now.Format(time.RFC3339Nano)})
	err = st.Update(ctx, func(tx store.Tx) error {
		return tx.InsertObject(ctx, &store.Object{Kind: KindSigningKey, ID: kid, Data: data, Created: now})
	})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return nil, err
	}
	return read()
}

// keyID names a key by a hash of its public part, base64url, as Entra's kids look.
func keyID(pub *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:20])
}

// JWK is one public key of the JWKS document.
type JWK struct {
	Kty string   `json:"kty"`
	Use string   `json:"use"`
	Alg string   `json:"alg"`
	Kid string   `json:"kid"`
	X5t string   `json:"x5t"`
	N   string   `json:"n"`
	E   string   `json:"e"`
	X5c []string `json:"x5c,omitempty"`
}

// JWKSet is the document at /{tenant}/discovery/v2.0/keys.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

func publicJWK(k signingKey) JWK {
	pub := &k.Private.PublicKey
	return JWK{
		Kty: "RSA", Use: "sig", Alg: "RS256", Kid: k.ID, X5t: k.ID,
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}
