package richdata

import (
	"cmp"
	"crypto/rsa"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultPublisherID is the application id of Microsoft's Change Tracking service
// principal, which Graph's validation tokens name in appid and azp; receivers written
// against Graph check for it.
const DefaultPublisherID = "0bf30f3b-4a52-48df-9a82-234910c4a086"

// TokenLifetime is how long a validation token stays valid.
const TokenLifetime = 24 * time.Hour

// Signer signs validation tokens. The identity package supplies the server's, so
// tokens verify against the keys it publishes.
type Signer interface {
	// Sign returns claims as a compact JWS signed with RS256, whose header names the
	// signing key in "kid". It fails only if the key cannot sign.
	Sign(claims jwt.MapClaims) (string, error)
}

// RSASigner signs with an RSA key under a fixed key id. It is enough for tests and
// for a server with one static key.
type RSASigner struct {
	Key   *rsa.PrivateKey
	KeyID string
}

// Sign implements Signer.
func (s RSASigner) Sign(claims jwt.MapClaims) (string, error) {
	if s.Key == nil {
		return "", errors.New("richdata: RSASigner has no key")
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = s.KeyID
	return t.SignedString(s.Key)
}

// DefaultIssuer is the v1 Entra ID issuer for tenantID, the only form Microsoft's own
// sample receiver accepts ("Set up change notifications that include resource data", validation tokens).
func DefaultIssuer(tenantID string) string {
	return "https://sts.windows.net/" + tenantID + "/"
}

// ValidationToken mints the token a collection carries for one (app, tenant) pair of
// its rich notifications ("Set up change notifications that include resource data", validation tokens), valid from now for TokenLifetime.
//
// appID is the audience: the subscription's notificationUrlAppId if set, else its
// application id. publisherID defaults to DefaultPublisherID and issuer to
// DefaultIssuer(tenantID). The claims are the v1 set, with azp as well as appid
// because receivers check one or the other.
func ValidationToken(s Signer, appID, tenantID, publisherID, issuer string, now time.Time) (string, error) {
	if appID == "" || tenantID == "" {
		return "", errors.New("richdata: validation token needs an app id and a tenant id")
	}
	publisherID = cmp.Or(publisherID, DefaultPublisherID)
	now = now.Truncate(time.Second)
	return s.Sign(jwt.MapClaims{
		"aud":      appID,
		"iss":      cmp.Or(issuer, DefaultIssuer(tenantID)),
		"iat":      now.Unix(),
		"nbf":      now.Unix(),
		"exp":      now.Add(TokenLifetime).Unix(),
		"appid":    publisherID,
		"azp":      publisherID,
		"appidacr": "2",
		"azpacr":   "2",
		"idtyp":    "app",
		// Graph puts the Change Tracking principal's object id here; graphhook has no
		// per-tenant principal, so the publisher id stands in for it.
		"oid": publisherID,
		"sub": publisherID,
		"tid": tenantID,
		"ver": "1.0",
	})
}
