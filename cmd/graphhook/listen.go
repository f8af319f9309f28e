package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/graphhook/graphhook/receiver"
)

// The demo fixture's apps, the default identity of `graphhook listen`.
const (
	demoTenant          = "6f1c2d3e-0000-4000-8000-000000000001"
	demoAppID           = "11111111-0000-4000-8000-000000000001"
	demoAppSecret       = "demo-app-secret"
	demoDelegatedAppID  = "11111111-0000-4000-8000-000000000002"
	demoDelegatedSecret = "demo-delegated-secret"
)

// listenNotificationPath is where the loopback receiver takes notifications.
const listenNotificationPath = "/notifications"

// ListenConfig is everything `graphhook listen` can be told.
type ListenConfig struct {
	Server       string // graphhook's base URL (default http://127.0.0.1:8787)
	Tenant       string // tenant id or domain tokens are asked from (default the demo tenant)
	ClientID     string // app to sign in as (default the demo app matching the grant)
	ClientSecret string // its secret (default the demo app's)
	Username     string // with Password: a delegated token by the password grant
	Password     string
	ListenAddr   string // receiver address (default 127.0.0.1:0)

	Resource            string        // subscription resource, e.g. /users/{id}/messages; required
	ChangeType          string        // comma-separated created, updated, deleted; required
	ForwardTo           string        // URL every accepted notification request is replayed to
	IncludeResourceData bool          // rich notifications, with a throwaway certificate
	KeyOut              string        // with IncludeResourceData: write the throwaway key here (PEM), for --forward-to targets
	Expiration          time.Duration // lifetime asked for on create and renew (default 60m)
	ClientState         string        // clientState (default random)
	Lifecycle           bool          // lifecycleNotificationUrl = the receiver too
}

func (c *ListenConfig) validate() error {
	if !absoluteHTTP(c.Server) {
		return fmt.Errorf("--server must be an absolute http(s) URL, not %q", c.Server)
	}
	if c.ForwardTo != "" && !absoluteHTTP(c.ForwardTo) {
		return fmt.Errorf("--forward-to must be an absolute http(s) URL, not %q", c.ForwardTo)
	}
	switch {
	case c.Resource == "":
		return errors.New("--resource is required, e.g. --resource \"/me/mailFolders('inbox')/messages\"")
	case c.ChangeType == "":
		return errors.New("--change-type is required: a comma-separated list of created, updated, deleted")
	case c.Tenant == "":
		return errors.New("--tenant must not be empty")
	case c.Expiration <= 0:
		return fmt.Errorf("--expiration must be positive, not %v", c.Expiration)
	case len(c.ClientState) > 128:
		return fmt.Errorf("--client-state is %d characters; Graph allows at most 128", len(c.ClientState))
	case (c.Username == "") != (c.Password == ""):
		return errors.New("--username and --password go together")
	case c.KeyOut != "" && !c.IncludeResourceData:
		return errors.New("--key-out writes the key of --include-resource-data's throwaway certificate; add --include-resource-data")
	case c.Username == "" && c.ClientID != "" && c.ClientSecret == "":
		return errors.New("--client-secret is required with --client-id for an application token")
	}
	for _, t := range strings.Split(c.ChangeType, ",") {
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "created", "updated", "deleted":
		default:
			return fmt.Errorf("--change-type %q: each value must be created, updated or deleted", t)
		}
	}
	return nil
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// fillDefaults picks the demo app matching the grant when no app is named, and a
// random clientState.
func (c *ListenConfig) fillDefaults() {
	if c.ClientID == "" {
		c.ClientID, c.ClientSecret = demoAppID, demoAppSecret
		if c.Username != "" {
			c.ClientID, c.ClientSecret = demoDelegatedAppID, demoDelegatedSecret
		}
	}
	if c.ClientState == "" {
		b := make([]byte, 16)
		rand.Read(b)
		c.ClientState = hex.EncodeToString(b)
	}
	c.Server = strings.TrimRight(c.Server, "/")
}

func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("listen", stderr)
	var cfg ListenConfig
	fs.StringVar(&cfg.Server, "server", "http://127.0.0.1:8787", "graphhook's base URL")
	fs.StringVar(&cfg.Tenant, "tenant", demoTenant, "tenant id or domain to get the token from")
	fs.StringVar(&cfg.ClientID, "client-id", "", "client id of the app to sign in as (default: the demo app, or the delegated demo app with --username)")
	fs.StringVar(&cfg.ClientSecret, "client-secret", "", "the app's client secret")
	fs.StringVar(&cfg.Username, "username", "", "sign a user in (password grant) for a delegated token instead of an application token")
	fs.StringVar(&cfg.Password, "password", "", "the user's password")
	fs.StringVar(&cfg.ListenAddr, "listen-addr", "127.0.0.1:0", "address of the loopback receiver (port 0 picks a free one)")
	fs.StringVar(&cfg.Resource, "resource", "", "resource to subscribe to, e.g. \"/me/mailFolders('inbox')/messages\"")
	fs.StringVar(&cfg.ChangeType, "change-type", "", "comma-separated change types: created, updated, deleted")
	fs.StringVar(&cfg.ForwardTo, "forward-to", "", "replay every accepted notification request to this URL and answer with its status")
	fs.BoolVar(&cfg.IncludeResourceData, "include-resource-data", false, "ask for rich notifications (a throwaway certificate is generated) and print them decrypted")
	fs.StringVar(&cfg.KeyOut, "key-out", "", "with --include-resource-data: write the throwaway private key (PEM) to this file, so a --forward-to app can decrypt")
	fs.DurationVar(&cfg.Expiration, "expiration", 60*time.Minute, "subscription lifetime asked for on creation and on each renewal")
	fs.StringVar(&cfg.ClientState, "client-state", "", "clientState of the subscription (default: random)")
	fs.BoolVar(&cfg.Lifecycle, "lifecycle", false, "also receive lifecycle notifications (reauthorizationRequired, subscriptionRemoved, missed)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	cfg.fillDefaults()
	l, err := newListener(cfg, stdout, stderr)
	if err != nil {
		return err
	}
	return l.run(ctx)
}

// listener is one running `graphhook listen`: a loopback receiver and the one
// subscription it keeps alive.
type listener struct {
	cfg    ListenConfig
	client *graphClient
	out    *printer
	stderr io.Writer
	now    func() time.Time

	handler *receiver.Handler
	forward *http.Client
	// cert and certID are the throwaway certificate of a rich subscription.
	cert   string
	certID string

	// lifecycle passes the lifecycle notifications that call for action from the
	// receiver to the renewal loop.
	lifecycle chan receiver.ChangeNotification
	url       string // the receiver's notification URL
}

func newListener(cfg ListenConfig, stdout, stderr io.Writer) (*listener, error) {
	l := &listener{
		cfg:       cfg,
		client:    newGraphClient(cfg),
		out:       &printer{w: stdout},
		stderr:    stderr,
		now:       time.Now,
		forward:   &http.Client{Timeout: 30 * time.Second},
		lifecycle: make(chan receiver.ChangeNotification, 16),
	}
	rcfg := receiver.Config{
		OnNotifications: l.onNotifications,
		ClientState:     cfg.ClientState,
		JWKSURL:         cfg.Server + "/" + url.PathEscape(cfg.Tenant) + "/discovery/v2.0/keys",
		// The delivery pipeline mints validation tokens with the v1 issuer
		// https://sts.windows.net/{tenant}/ (delivery.Config.Issuer's default), the
		// form Graph's own receivers accept; listen holds graphhook to it.
		CheckIssuer: receiver.IssuerV1,
		Logger:      slog.New(slog.NewTextHandler(stderr, nil)),
	}
	if cfg.IncludeResourceData {
		key, cert, err := throwawayCertificate(time.Now(), cfg.Expiration)
		if err != nil {
			return nil, err
		}
		b := make([]byte, 8)
		rand.Read(b)
		l.cert, l.certID = cert, "graphhook-listen-"+hex.EncodeToString(b)
		rcfg.DecryptionKeys = map[string]*rsa.PrivateKey{l.certID: key}
		if cfg.KeyOut != "" {
			if err := writeKey(cfg.KeyOut, key); err != nil {
				return nil, err
			}
			fmt.Fprintf(stdout, "decryption key of certificate %s written to %s\n", l.certID, cfg.KeyOut)
		}
		rcfg.AppIDs = []string{cfg.ClientID}
	}
	h, err := receiver.NewHandler(rcfg)
	if err != nil {
		return nil, err
	}
	l.handler = h
	return l, nil
}

// run serves the receiver, creates the subscription, keeps it alive until ctx ends
// and then deletes it.
func (l *listener) run(ctx context.Context) error {
	ln, err := net.Listen("tcp", l.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(listenNotificationPath, l)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(slog.NewTextHandler(l.stderr, nil), slog.LevelWarn)}
	go srv.Serve(ln)
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	l.url = "http://" + ln.Addr().String() + listenNotificationPath
	l.out.linef("listening for notifications on %s", l.url)

	sub, err := l.create(ctx)
	if err != nil {
		return err
	}
	sub = l.keepAlive(ctx, sub)
	// The subscription is deleted even though ctx is done: that is what Ctrl-C asks.
	del, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if derr := l.client.do(del, http.MethodDelete, "/v1.0/subscriptions/"+url.PathEscape(sub.ID), nil, nil); derr != nil {
		var ge *graphError
		if !errors.As(derr, &ge) || ge.Status != http.StatusNotFound {
			return fmt.Errorf("delete subscription %s: %w", sub.ID, derr)
		}
	}
	l.out.linef("subscription %s deleted", sub.ID)
	return nil
}

// listenSubscription is the part of a subscription listen reads and writes.
type listenSubscription struct {
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

func (s listenSubscription) expiry() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s.ExpirationDateTime)
	return t
}

func (l *listener) create(ctx context.Context) (listenSubscription, error) {
	req := listenSubscription{
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
	var sub listenSubscription
	if err := l.client.do(ctx, http.MethodPost, "/v1.0/subscriptions", req, &sub); err != nil {
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
func (l *listener) keepAlive(ctx context.Context, sub listenSubscription) listenSubscription {
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
func (l *listener) renew(ctx context.Context, sub listenSubscription, event string) (listenSubscription, error) {
	if event != receiver.LifecycleSubscriptionRemoved {
		var out listenSubscription
		err := l.client.do(ctx, http.MethodPatch, "/v1.0/subscriptions/"+url.PathEscape(sub.ID), map[string]string{"expirationDateTime": l.expiration()}, &out)
		var ge *graphError
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

type exchangeKey struct{}

// exchange is one notification request on its way through ServeHTTP: the original
// request, and the forward target's answer once onNotifications replayed it.
type exchange struct {
	r    *http.Request
	body []byte

	forwarded bool
	status    int
	header    http.Header
	answer    []byte
	err       error
}

// ServeHTTP hands the request to the receiver, which verifies and decrypts it and
// calls onNotifications; with --forward-to the target's answer replaces the
// receiver's, so that the sender sees what the app under development said.
func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("validationToken") {
		// Printed first: the server creates the subscription once it has the answer.
		if r.Method == http.MethodPost {
			l.out.linef("validation request answered")
		}
		l.handler.ServeHTTP(w, r)
		return
	}
	// One byte over the receiver's limit is enough for it to refuse the body.
	body, err := io.ReadAll(io.LimitReader(r.Body, receiver.DefaultMaxBodyBytes+1))
	if err != nil {
		http.Error(w, "cannot read the request", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	x := &exchange{r: r, body: body}
	r = r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x))
	rec := &bufferedResponse{header: http.Header{}}
	l.handler.ServeHTTP(rec, r)
	switch {
	case x.err != nil:
		fmt.Fprintf(l.stderr, "graphhook listen: forward to %s: %v; answered 502\n", l.cfg.ForwardTo, x.err)
		http.Error(w, "forward target unreachable", http.StatusBadGateway)
	case x.forwarded:
		for _, k := range []string{"Content-Type", "Retry-After"} {
			if v := x.header.Get(k); v != "" {
				w.Header().Set(k, v)
			}
		}
		w.WriteHeader(x.status)
		w.Write(x.answer)
	default:
		rec.copyTo(w)
	}
}

// onNotifications prints an accepted batch and, with --forward-to, replays the
// request it came in.
func (l *listener) onNotifications(ctx context.Context, batch []receiver.Notification) error {
	at := l.now()
	for _, n := range batch {
		l.out.notification(at, n)
		switch n.LifecycleEvent {
		case receiver.LifecycleReauthorizationRequired, receiver.LifecycleSubscriptionRemoved:
			select {
			case l.lifecycle <- n.ChangeNotification:
			default: // the loop is far behind; the events queued already renew
			}
		}
	}
	if x, ok := ctx.Value(exchangeKey{}).(*exchange); ok && l.cfg.ForwardTo != "" {
		l.forwardRequest(ctx, x)
	}
	return nil
}

// hopHeaders are connection-level headers a proxy does not pass on (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length"}

func (l *listener) forwardRequest(ctx context.Context, x *exchange) {
	req, err := http.NewRequestWithContext(ctx, x.r.Method, l.cfg.ForwardTo, bytes.NewReader(x.body))
	if err != nil {
		x.err = err
		return
	}
	req.Header = x.r.Header.Clone()
	for _, h := range hopHeaders {
		req.Header.Del(h)
	}
	resp, err := l.forward.Do(req)
	if err != nil {
		x.err = err
		return
	}
	defer resp.Body.Close()
	x.answer, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	x.forwarded, x.status, x.header = true, resp.StatusCode, resp.Header
	l.out.linef("  forwarded: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
}

// bufferedResponse keeps the receiver's answer until ServeHTTP knows whether the
// forward target's replaces it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(cmp.Or(b.status, http.StatusOK))
	w.Write(b.body.Bytes())
}

// printer writes whole lines and blocks, so that concurrent batches do not interleave.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) linef(format string, args ...any) {
	p.write(fmt.Sprintf(format+"\n", args...))
}

func (p *printer) write(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	io.WriteString(p.w, s)
}

// notification prints one block: when it arrived, what happened to what, through
// which subscription, and the resource itself when it came decrypted.
func (p *printer) notification(at time.Time, n receiver.Notification) {
	var b strings.Builder
	what := n.ChangeType
	if n.IsLifecycle() {
		what = "lifecycle " + n.LifecycleEvent
	}
	fmt.Fprintf(&b, "\n[%s] %s", at.UTC().Format(time.RFC3339), what)
	if n.Resource != "" {
		fmt.Fprintf(&b, " %s", n.Resource)
	}
	fmt.Fprintf(&b, "\n  subscriptionId: %s\n", n.SubscriptionID)
	if !n.SubscriptionExpirationDateTime.IsZero() {
		fmt.Fprintf(&b, "  subscriptionExpirationDateTime: %s\n", n.SubscriptionExpirationDateTime.UTC().Format(time.RFC3339))
	}
	if n.TenantID != "" {
		fmt.Fprintf(&b, "  tenantId: %s\n", n.TenantID)
	}
	if n.ResourceData != nil {
		raw, _ := json.Marshal(n.ResourceData)
		fmt.Fprintf(&b, "  resourceData: %s\n", raw)
	}
	if n.Data != nil {
		var indented bytes.Buffer
		if err := json.Indent(&indented, n.Data, "    ", "  "); err != nil {
			indented.Reset()
			indented.Write(n.Data)
		}
		fmt.Fprintf(&b, "  data (decrypted):\n    %s\n", indented.Bytes())
	}
	switch n.LifecycleEvent {
	case receiver.LifecycleReauthorizationRequired:
		b.WriteString("  (renewing the subscription, which reauthorizes it)\n")
	case receiver.LifecycleSubscriptionRemoved:
		b.WriteString("  (creating a new subscription)\n")
	case receiver.LifecycleMissed:
		b.WriteString("  (some notifications were not delivered: resynchronise with a delta query)\n")
	}
	p.write(b.String())
}

// throwawayCertificate makes the RSA-2048 key and self-signed certificate of a rich
// subscription, which live as long as the process: base64 DER, as Graph expects in
// encryptionCertificate.
// writeKey saves a private key as PKCS#8 PEM, readable by its owner only.
func writeKey(path string, key *rsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("--key-out: %w", err)
	}
	return nil
}

func throwawayCertificate(now time.Time, lifetime time.Duration) (*rsa.PrivateKey, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "graphhook listen"},
		NotBefore:    now.Add(-time.Hour),
		// Renewals keep the subscription past --expiration, so the certificate
		// outlives any plausible listening session.
		NotAfter: now.Add(max(lifetime, 0) + 30*24*time.Hour),
		KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", fmt.Errorf("self-sign certificate: %w", err)
	}
	return key, base64.StdEncoding.EncodeToString(der), nil
}

// graphClient calls graphhook's Graph API with a token it gets and refreshes itself.
type graphClient struct {
	cfg  ListenConfig
	http *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

func newGraphClient(cfg ListenConfig) *graphClient {
	return &graphClient{cfg: cfg, http: &http.Client{Timeout: 60 * time.Second}}
}

// graphError is a Graph error envelope answered by the server.
type graphError struct {
	Method, Path string
	Status       int
	Code         string
	Message      string
}

func (e *graphError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, e.Code, e.Message)
}

// do sends body as JSON and decodes a 2xx answer into out (when not nil).
func (c *graphClient) do(ctx context.Context, method, path string, body, out any) error {
	tok, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.Server+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &env) != nil || env.Error.Code == "" {
			env.Error.Code, env.Error.Message = http.StatusText(resp.StatusCode), strings.TrimSpace(string(data))
		}
		return &graphError{Method: method, Path: path, Status: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: unreadable answer: %w", method, path, err)
		}
	}
	return nil
}

// accessToken returns a cached token, or a new one when it expires within five
// minutes: client credentials for an app, the password grant for a user.
func (c *graphClient) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Until(c.expires) > 5*time.Minute {
		return c.token, nil
	}
	form := url.Values{
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
		"scope":         {"https://graph.microsoft.com/.default"},
		"grant_type":    {"client_credentials"},
	}
	if c.cfg.ClientSecret == "" {
		form.Del("client_secret")
	}
	if c.cfg.Username != "" {
		form.Set("grant_type", "password")
		form.Set("username", c.cfg.Username)
		form.Set("password", c.cfg.Password)
	}
	endpoint := c.cfg.Server + "/" + url.PathEscape(c.cfg.Tenant) + "/oauth2/v2.0/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("get a token: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", fmt.Errorf("get a token from %s: %d, unreadable answer: %w", endpoint, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		return "", fmt.Errorf("get a token from %s: %d %s: %s", endpoint, resp.StatusCode, body.Error, body.Description)
	}
	c.token, c.expires = body.AccessToken, time.Now().Add(time.Duration(body.ExpiresIn)*time.Second)
	return c.token, nil
}
