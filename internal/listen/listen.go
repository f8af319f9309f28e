// Package listen is `graphhook listen`: a loopback receiver and the one subscription
// it keeps alive, for developing an app against graphhook. It creates the
// subscription, prints (and with Config.ForwardTo replays) every notification the
// public receiver package accepts, renews the subscription before it expires or when
// a lifecycle notification asks, replaces it when the server removed it, and deletes
// it when its context ends.
package listen

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/graphhook/graphhook/internal/certgen"
	"github.com/graphhook/graphhook/internal/graphclient"
	"github.com/graphhook/graphhook/receiver"
)

// notificationPath is where the loopback receiver takes notifications.
const notificationPath = "/notifications"

// Run listens as cfg says until ctx ends, printing to stdout and logging to stderr,
// then deletes the subscription. cfg should have passed Validate.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	l, err := newListener(cfg, stdout, stderr)
	if err != nil {
		return err
	}
	return l.run(ctx)
}

// listener is one running `graphhook listen`: a loopback receiver and the one
// subscription it keeps alive.
type listener struct {
	cfg    Config
	client *graphclient.Client
	out    *printer
	stderr io.Writer
	now    func() time.Time
	// checkEvery is how often the subscription is looked at between renewals
	// (defaultCheckEvery; tests shorten it).
	checkEvery time.Duration

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

func newListener(cfg Config, stdout, stderr io.Writer) (*listener, error) {
	cfg.fillDefaults()
	l := &listener{
		cfg: cfg,
		client: graphclient.New(graphclient.Config{Server: cfg.Server, Tenant: cfg.Tenant, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			Username: cfg.Username, Password: cfg.Password}),
		out:        &printer{w: stdout},
		stderr:     stderr,
		now:        time.Now,
		checkEvery: defaultCheckEvery,
		forward:    &http.Client{Timeout: 30 * time.Second},
		lifecycle:  make(chan receiver.ChangeNotification, 16),
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

// throwawayCertificate makes the RSA-2048 key and self-signed certificate of a rich
// subscription, which live as long as the process: base64 DER, as Graph expects in
// encryptionCertificate.
func throwawayCertificate(now time.Time, lifetime time.Duration) (*rsa.PrivateKey, string, error) {
	c, err := certgen.New(certgen.Options{
		CommonName: "graphhook listen",
		NotBefore:  now.Add(-time.Hour),
		// Renewals keep the subscription past --expiration, so the certificate
		// outlives any plausible listening session.
		NotAfter: now.Add(max(lifetime, 0) + 30*24*time.Hour),
		KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
	})
	if err != nil {
		return nil, "", err
	}
	return c.Key, c.Base64(), nil
}

// run serves the receiver, creates the subscription, keeps it alive until ctx ends
// and then deletes it.
func (l *listener) run(ctx context.Context) error {
	ln, err := net.Listen("tcp", l.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(notificationPath, l)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(slog.NewTextHandler(l.stderr, nil), slog.LevelWarn)}
	go srv.Serve(ln)
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	l.url = "http://" + ln.Addr().String() + notificationPath
	l.out.linef("listening for notifications on %s", l.url)

	sub, err := l.create(ctx)
	if err != nil {
		return err
	}
	sub = l.keepAlive(ctx, sub)
	// The subscription is deleted even though ctx is done: that is what Ctrl-C asks.
	del, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if derr := l.client.Do(del, http.MethodDelete, "/v1.0/subscriptions/"+url.PathEscape(sub.ID), nil, nil); derr != nil {
		var ge *graphclient.Error
		if !errors.As(derr, &ge) || ge.Status != http.StatusNotFound {
			return fmt.Errorf("delete subscription %s: %w", sub.ID, derr)
		}
	}
	l.out.linef("subscription %s deleted", sub.ID)
	return nil
}
