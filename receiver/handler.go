package receiver

import (
	"cmp"
	"context"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultPublisherID   = "0bf30f3b-4a52-48df-9a82-234910c4a086"
	DefaultJWKSURL       = "https://login.microsoftonline.com/common/discovery/keys"
	DefaultMaxBodyBytes  = 4 << 20
	DefaultKeysMinFetch  = time.Minute
	DefaultKeysMaxAge    = 24 * time.Hour
	DefaultTokenLeeway   = 5 * time.Minute
	defaultFetchTimeout  = 10 * time.Second
	validationTokenParam = "validationToken"
)

// Config configures a Handler. Only OnNotifications is required; an app that
// subscribes with includeResourceData also sets DecryptionKeys and AppIDs.
type Config struct {
	// OnNotifications receives every accepted batch, rich notifications already
	// decrypted, with the request's context. The sender is answered 202 only after it
	// returns nil, and 500 otherwise, so that the batch is sent again. Required.
	OnNotifications func(ctx context.Context, batch []Notification) error

	// ClientState, if set, is the clientState every notification must carry.
	ClientState string
	// ClientStateFor, if set, returns the clientState of a subscription, and false for
	// a subscription the app does not know, whose notifications are then refused. It
	// takes precedence over ClientState. With neither set clientState is not checked,
	// and anyone who learns the URL can post notifications.
	ClientStateFor func(subscriptionID string) (state string, ok bool)

	// DecryptionKeys maps an encryptionCertificateId to the private key of that
	// certificate. A rich notification for an id not in the map is refused.
	DecryptionKeys map[string]*rsa.PrivateKey
	// AppIDs are the ids a validation token's aud may hold: the app's id and its
	// notificationUrlAppId if it uses one. Required with DecryptionKeys.
	AppIDs []string
	// PublisherID is the id a validation token must carry in appid or azp.
	// Default DefaultPublisherID.
	PublisherID string
	// JWKSURL is where the sender publishes its token-signing keys: graphhook's
	// /discovery/keys, or Microsoft's. Default DefaultJWKSURL.
	JWKSURL string
	// CheckIssuer vets a token's iss given its tid. Default IssuerV1.
	CheckIssuer func(iss, tenantID string) error
	// KeysMinFetch is the least time between two JWKS fetches caused by unknown key
	// ids. Default DefaultKeysMinFetch.
	KeysMinFetch time.Duration
	// KeysMaxAge is how long fetched keys are used before they are fetched again.
	// Default DefaultKeysMaxAge.
	KeysMaxAge time.Duration
	// TokenLeeway is the clock skew allowed on exp, nbf and iat. Default
	// DefaultTokenLeeway.
	TokenLeeway time.Duration
	// HTTPClient fetches the JWKS. Default: a client with a 10 s timeout.
	HTTPClient *http.Client

	// MaxBodyBytes caps a notification body; larger ones are refused with 413.
	// Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives the reason for every refused batch, which the sender is never
	// told. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock for token checks. Default time.Now.
	Now func() time.Time
}

func (c *Config) validate() error {
	switch {
	case c.OnNotifications == nil:
		return errors.New("receiver: Config.OnNotifications is required")
	case len(c.DecryptionKeys) > 0 && len(c.AppIDs) == 0:
		return errors.New("receiver: Config.AppIDs is required to verify validation tokens of rich notifications")
	case c.MaxBodyBytes < 0:
		return errors.New("receiver: Config.MaxBodyBytes must not be negative")
	}
	for id, k := range c.DecryptionKeys {
		if k == nil {
			return fmt.Errorf("receiver: Config.DecryptionKeys[%q] is nil", id)
		}
	}
	return nil
}

// Handler receives notifications for one app; see the package documentation. It is
// safe for concurrent use.
type Handler struct {
	cfg    Config
	tokens *tokenVerifier
}

// NewHandler checks cfg and fills its defaults.
func NewHandler(cfg Config) (*Handler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.PublisherID = cmp.Or(cfg.PublisherID, DefaultPublisherID)
	cfg.JWKSURL = cmp.Or(cfg.JWKSURL, DefaultJWKSURL)
	cfg.KeysMinFetch = cmp.Or(cfg.KeysMinFetch, DefaultKeysMinFetch)
	cfg.KeysMaxAge = cmp.Or(cfg.KeysMaxAge, DefaultKeysMaxAge)
	cfg.TokenLeeway = cmp.Or(cfg.TokenLeeway, DefaultTokenLeeway)
	cfg.MaxBodyBytes = cmp.Or(cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultFetchTimeout}
	}
	if cfg.CheckIssuer == nil {
		cfg.CheckIssuer = IssuerV1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.AppIDs = slices.Clone(cfg.AppIDs)
	return &Handler{
		cfg: cfg,
		tokens: &tokenVerifier{
			keys: &keyset{
				url:        cfg.JWKSURL,
				client:     cfg.HTTPClient,
				minRefresh: cfg.KeysMinFetch,
				maxAge:     cfg.KeysMaxAge,
				now:        cfg.Now,
			},
			appIDs:      cfg.AppIDs,
			publisherID: cfg.PublisherID,
			checkIssuer: cfg.CheckIssuer,
			leeway:      cfg.TokenLeeway,
			now:         cfg.Now,
		},
	}, nil
}

// ServeHTTP answers the validation handshake and receives notification batches.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// The handshake is recognised by the parameter alone: Graph sends it with an
	// empty body, and the echo must be byte-for-byte the decoded token.
	if q := r.URL.Query(); q.Has(validationTokenParam) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, q.Get(validationTokenParam))
		return
	}

	c, err := ParseCollection(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			err = fmt.Errorf("%w: over %d bytes", ErrTooLarge, tooLarge.Limit)
		}
		h.refuse(w, r, err)
		return
	}
	batch, err := h.Verify(r.Context(), c)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	if err := h.cfg.OnNotifications(r.Context(), batch); err != nil {
		h.cfg.Logger.ErrorContext(r.Context(), "receiver: callback failed; the sender will retry", "err", err, "notifications", len(batch))
		http.Error(w, "notifications not processed", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// refuse answers a refused batch. The sender learns only the class of failure; the
// reason goes to the log, since telling a forger which check failed helps it.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	h.cfg.Logger.WarnContext(r.Context(), "receiver: batch refused", "status", status, "err", err)
	http.Error(w, http.StatusText(status), status)
}

// statusOf maps a refusal to its HTTP status; this is the only place that does.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest
	case errors.Is(err, ErrKeysUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusForbidden
}

// Verify authenticates a parsed batch and decrypts its rich notifications, as
// ServeHTTP does before calling OnNotifications. Apps that receive collections some
// other way call it directly. It fails on the first notification or token that does
// not pass, since one forged item makes the whole batch suspect; errors wrap the
// package's Err values.
func (h *Handler) Verify(ctx context.Context, c *Collection) ([]Notification, error) {
	for i, n := range c.Value {
		if err := h.checkClientState(n); err != nil {
			return nil, fmt.Errorf("value[%d] (subscription %s): %w", i, n.SubscriptionID, err)
		}
	}
	tenants, err := h.verifyTokens(ctx, c)
	if err != nil {
		return nil, err
	}
	batch := make([]Notification, len(c.Value))
	for i, n := range c.Value {
		batch[i].ChangeNotification = n
		if n.EncryptedContent == nil {
			continue
		}
		if !slices.Contains(tenants, n.TenantID) {
			return nil, fmt.Errorf("value[%d]: %w %q", i, ErrTokenTenant, n.TenantID)
		}
		key, ok := h.cfg.DecryptionKeys[n.EncryptedContent.EncryptionCertificateID]
		if !ok {
			return nil, fmt.Errorf("value[%d]: %w %q", i, ErrUnknownCertificate, n.EncryptedContent.EncryptionCertificateID)
		}
		data, err := Decrypt(*n.EncryptedContent, key)
		if err != nil {
			return nil, fmt.Errorf("value[%d]: %w", i, err)
		}
		batch[i].Data = data
	}
	return batch, nil
}

func (h *Handler) checkClientState(n ChangeNotification) error {
	want, check := h.cfg.ClientState, h.cfg.ClientState != ""
	if h.cfg.ClientStateFor != nil {
		var known bool
		want, known = h.cfg.ClientStateFor(n.SubscriptionID)
		if !known {
			return fmt.Errorf("%w: unknown subscription", ErrClientState)
		}
		check = true
	}
	if check && subtle.ConstantTimeCompare([]byte(n.ClientState), []byte(want)) != 1 {
		return ErrClientState
	}
	return nil
}

// verifyTokens checks every validation token when the batch holds encrypted content,
// and returns the tenants they vouch for. Tokens on a batch without encrypted content
// vouch for nothing the app uses, so their keys are not fetched.
func (h *Handler) verifyTokens(ctx context.Context, c *Collection) ([]string, error) {
	if !slices.ContainsFunc(c.Value, func(n ChangeNotification) bool { return n.EncryptedContent != nil }) {
		return nil, nil
	}
	if len(c.ValidationTokens) == 0 {
		return nil, ErrNoValidationTokens
	}
	if len(h.cfg.AppIDs) == 0 {
		return nil, fmt.Errorf("%w: Config.AppIDs is empty", ErrTokenAudience)
	}
	tenants := make([]string, 0, len(c.ValidationTokens))
	for i, raw := range c.ValidationTokens {
		claims, err := h.tokens.verify(ctx, raw)
		if err != nil {
			return nil, fmt.Errorf("validationTokens[%d]: %w", i, err)
		}
		tenants = append(tenants, claims.tenantID)
	}
	return tenants, nil
}
