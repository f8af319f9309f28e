package identity

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/store"
)

// Store kinds identity owns. Users and groups are directory objects shared with the
// directory workload.
const (
	KindTenant     = "tenant"
	KindApp        = "app"
	KindCredential = "credential"
	KindUser       = "user"
	KindGroup      = "group"
	KindMember     = "member"
	KindOwner      = "owner"
)

// Config configures the identity service.
type Config struct {
	// PublicURL is the base URL graphhook names itself by where no request says which
	// (issuers and links follow the host of each request). Required.
	PublicURL string
	// TokenLifetime is how long access tokens live (default 1 hour, as Entra's).
	TokenLifetime time.Duration
	// RefreshLifetime is how long refresh tokens live (default 90 days).
	RefreshLifetime time.Duration
	// Clock tells the time (default the system clock).
	Clock clock.Clock
}

// Service issues and validates tokens and knows tenants, apps and users.
type Service struct {
	st   store.Store
	cfg  Config
	keys []signingKey // newest first; keys[0] signs

	mu      sync.RWMutex
	tenants map[string]Tenant // by lower-case id and lower-case domain
	appIDs  map[string]bool   // registered apps' lower-case client ids

	// verified remembers tokens whose signature was checked (see parse).
	verified verifiedTokens
}

// Tenant is a tenant as identity knows it.
type Tenant struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Domain      string `json:"domain"`
	// ConsentedApps are other tenants' apps this tenant consented to (client ids).
	ConsentedApps []string `json:"consentedApps,omitempty"`
}

// Consented reports whether the tenant's users may sign in to app, and app may act in
// the tenant: the tenant registered it or consented to it.
func (t Tenant) Consented(app App) bool {
	return t.ID == app.TenantID || slices.ContainsFunc(t.ConsentedApps, func(id string) bool { return strings.EqualFold(id, app.ClientID) })
}

// App is an app registration.
type App struct {
	ClientID               string   `json:"clientId"`
	TenantID               string   `json:"tenantId"`
	DisplayName            string   `json:"displayName"`
	SecretSalt             []byte   `json:"secretSalt"`
	SecretHash             []byte   `json:"secretHash"`
	ApplicationPermissions []string `json:"applicationPermissions"`
	DelegatedPermissions   []string `json:"delegatedPermissions"`
	ServicePrincipalID     string   `json:"servicePrincipalId"`
	// PublicClient apps have no secret to present (see FixtureApp.PublicClient).
	PublicClient bool     `json:"publicClient,omitempty"`
	RedirectURIs []string `json:"redirectUris,omitempty"`
}

// HasSecret reports whether the app has a client secret (confidential client).
func (a App) HasSecret() bool { return len(a.SecretHash) > 0 }

type credential struct {
	Salt []byte `json:"salt"`
	Hash []byte `json:"hash"`
	// Roles are the user's directory role template ids (the token's "wids").
	Roles []string `json:"roles,omitempty"`
	// ChangedAt is when the password last changed after the user was created:
	// refresh tokens issued before it are revoked, as Entra revokes them on a
	// password change or reset.
	ChangedAt time.Time `json:"changedAt,omitzero"`
}

// New loads (or creates) the signing keys and the tenant cache.
func New(ctx context.Context, st store.Store, cfg Config) (*Service, error) {
	if cfg.PublicURL == "" {
		return nil, errors.New("identity: PublicURL is required")
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = time.Hour
	}
	if cfg.RefreshLifetime <= 0 {
		cfg.RefreshLifetime = 90 * 24 * time.Hour
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	keys, err := loadKeys(ctx, st, cfg.Clock.Now())
	if err != nil {
		return nil, fmt.Errorf("identity: signing keys: %w", err)
	}
	s := &Service{st: st, cfg: cfg, keys: keys}
	if err := s.reloadTenants(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) reloadTenants(ctx context.Context) error {
	tenants := map[string]Tenant{}
	apps := map[string]bool{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		// Apps come and go only with a fixture, which reloads this cache.
		appObjs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "", Kind: KindApp})
		if err != nil {
			return err
		}
		for _, o := range appObjs {
			apps[strings.ToLower(o.Alt)] = true
		}
		// Tenants are objects whose tenant column is their own id; list them by kind
		// across tenants with the empty-tenant index entry kept for them.
		objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: "", Kind: KindTenant})
		if err != nil {
			return err
		}
		for _, o := range objs {
			var t Tenant
			if err := json.Unmarshal(o.Data, &t); err != nil {
				return err
			}
			tenants[strings.ToLower(t.ID)] = t
			tenants[strings.ToLower(t.Domain)] = t
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("identity: tenants: %w", err)
	}
	s.mu.Lock()
	s.tenants = tenants
	s.appIDs = apps
	s.mu.Unlock()
	return nil
}

// knownApp reports whether clientID is a registered app (from the cache).
func (s *Service) knownApp(clientID string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.appIDs[strings.ToLower(clientID)]
}

// Clock returns the service's clock.
func (s *Service) Clock() clock.Clock { return s.cfg.Clock }

// PublicURL returns the base URL the server names itself by.
func (s *Service) PublicURL() string { return s.cfg.PublicURL }

// Tenant resolves a tenant id or domain. The consumers tenant is always known.
func (s *Service) Tenant(idOrDomain string) (Tenant, bool) {
	key := strings.ToLower(idOrDomain)
	if key == ConsumersTenant || key == "consumers" {
		return Tenant{ID: ConsumersTenant, DisplayName: "Microsoft Accounts", Domain: "live.com"}, true
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tenants[key]
	return t, ok
}

// Tenants returns every work or school tenant.
func (s *Service) Tenants() []Tenant {
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{}
	var out []Tenant
	for _, t := range s.tenants {
		if !seen[t.ID] {
			seen[t.ID] = true
			out = append(out, t)
		}
	}
	return out
}

// HasTenants reports whether any tenant is stored (the demo fixture loads only into an
// empty store).
func (s *Service) HasTenants() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.tenants) > 0
}

// App returns an app registration by client id.
func (s *Service) App(ctx context.Context, clientID string) (App, error) {
	var app App
	err := s.st.View(ctx, func(tx store.Tx) error {
		o, err := tx.GetObjectByAlt(ctx, "", KindApp, strings.ToLower(clientID))
		if err != nil {
			return err
		}
		return json.Unmarshal(o.Data, &app)
	})
	return app, err
}

// ServicePrincipalID derives the object id of an app's service principal in its
// tenant: stable, so creatorId of app-only subscriptions stays the same across runs.
func ServicePrincipalID(tenantID, clientID string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("sp:"+strings.ToLower(tenantID)+":"+strings.ToLower(clientID))).String()
}

func hashSecret(salt []byte, secret string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(secret))
	sum := h.Sum(nil)
	// A few thousand rounds: fixture secrets are not meant to be strong, but a stolen
	// database should not hand them out for free.
	for i := 0; i < 4096; i++ {
		h.Reset()
		h.Write(sum)
		h.Write(salt)
		sum = h.Sum(sum[:0])
	}
	return sum
}

func secretMatches(salt, hash []byte, secret string) bool {
	return subtle.ConstantTimeCompare(hashSecret(salt, secret), hash) == 1
}

// signer returns the current signing key.
func (s *Service) signer() signingKey { return s.keys[0] }

// Sign signs claims with graphhook's current key (RS256, kid in the header). The
// delivery pipeline uses it for validation tokens.
func (s *Service) Sign(claims jwt.MapClaims) (string, error) {
	k := s.signer()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = k.ID
	tok.Header["x5t"] = k.ID
	return tok.SignedString(k.Private)
}

// JWKS returns the public signing keys.
func (s *Service) JWKS() JWKSet {
	set := JWKSet{Keys: []JWK{}}
	for _, k := range s.keys {
		set.Keys = append(set.Keys, publicJWK(k))
	}
	return set
}

func (s *Service) publicKey(kid string) (*rsa.PublicKey, bool) {
	for _, k := range s.keys {
		if k.ID == kid {
			return &k.Private.PublicKey, true
		}
	}
	return nil, false
}
