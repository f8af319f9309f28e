// Package tlsca is graphhook's local certificate authority. Microsoft's sign-in
// libraries refuse an authority that is not https, and the proxy mode has to answer for
// graph.microsoft.com and login.microsoftonline.com with certificates the app trusts;
// both need certificates from a CA the developer trusts once, on their own machine.
//
// On first use Open creates an ECDSA P-256 CA (ten years) and keeps it either in a folder
// (ca.pem and ca-key.pem) or in the store, where every node of a PostgreSQL deployment
// finds the same one. The CA then issues short-lived leaf certificates (30 days by
// default) on demand and re-issues them before they run out, so a long-running server
// never serves an expired certificate and nothing has to be renewed by hand.
//
// The CA signs whatever names it is asked for: the trust a developer gives it is as wide
// as a public CA's, which is why its key stays in the data folder (0600) or the database
// and nowhere else. Production deployments bring their own certificate (LoadKeyPair).
package tlsca

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/store"
)

// Config says where the CA lives.
type Config struct {
	// Dir is the folder of the CA's files; graphhook uses <data>/tls. Without Store it
	// holds ca.pem (the certificate, 0644) and ca-key.pem (the key, 0600). With Store
	// only ca.pem is written there, as an exported copy to point trust stores at. Empty
	// with Store set: nothing is written to disk.
	Dir string
	// Store, when set, holds the CA as one object (tenant "", kind KindCA), created in a
	// single transaction so nodes starting together agree on one CA.
	Store store.Store
	// Clock dates certificates (default clock.Real). Give it wall time, not the server's
	// offset clock: TLS clients check certificates against their own clocks, so a leaf
	// dated in the server's advanced future would be "not yet valid" to them.
	Clock clock.Clock
	// LeafLifetime is how long a leaf certificate is valid (default 30 days); a leaf is
	// re-issued once two thirds of it have passed.
	LeafLifetime time.Duration
}

// Defaults of Config.
const (
	DefaultLeafLifetime = 30 * 24 * time.Hour
	caLifetime          = 10 * 365 * 24 * time.Hour
	// backdate covers clients whose clocks run a little behind the server's.
	backdate = time.Hour
)

// CA is a loaded certificate authority. Its methods are safe for concurrent use.
type CA struct {
	cert     *x509.Certificate
	certPEM  []byte
	key      crypto.Signer
	path     string
	clock    clock.Clock
	lifetime time.Duration

	mu     sync.Mutex
	leaves map[string]*tls.Certificate // by canonical name list
}

// Open loads the CA from the store or the folder, creating it there on first use.
func Open(ctx context.Context, cfg Config) (*CA, error) {
	if cfg.Dir == "" && cfg.Store == nil {
		return nil, errors.New("tlsca: neither a folder nor a store to keep the CA in")
	}
	if cfg.LeafLifetime < 0 {
		return nil, fmt.Errorf("tlsca: leaf lifetime %v is negative", cfg.LeafLifetime)
	}
	ca := &CA{
		clock:    cmp.Or[clock.Clock](cfg.Clock, clock.Real{}),
		lifetime: cmp.Or(cfg.LeafLifetime, DefaultLeafLifetime),
		leaves:   map[string]*tls.Certificate{},
	}
	var (
		p   pair
		err error
	)
	if cfg.Store != nil {
		p, err = loadFromStore(ctx, cfg.Store, ca.clock.Now())
	} else {
		p, err = loadFromDir(cfg.Dir, ca.clock.Now())
	}
	if err != nil {
		return nil, err
	}
	if err := ca.set(p); err != nil {
		return nil, err
	}
	if cfg.Dir != "" {
		ca.path, err = writeCert(cfg.Dir, ca.certPEM)
		if err != nil {
			return nil, err
		}
	}
	return ca, nil
}

// set parses and checks a stored pair.
func (ca *CA) set(p pair) error {
	cert, key, err := p.parse()
	if err != nil {
		return err
	}
	ca.cert, ca.key, ca.certPEM = cert, key, p.CertPEM
	return nil
}

// CertPEM returns the CA certificate, PEM-encoded: what clients must trust.
func (ca *CA) CertPEM() []byte { return append([]byte(nil), ca.certPEM...) }

// Certificate returns the parsed CA certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// Pool returns a certificate pool holding only the CA, for clients (and tests) that
// should trust graphhook's certificates.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// Path returns the file holding the CA certificate (Dir/ca.pem), or "" when the CA
// lives in the store and no folder was given.
func (ca *CA) Path() string { return ca.path }

// newPair creates a CA certificate and key.
func newPair(now time.Time) (pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return pair{}, fmt.Errorf("tlsca: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return pair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization: []string{"graphhook"},
			// The serial's start tells one developer's CAs apart in a trust store.
			CommonName: "graphhook local CA " + hex.EncodeToString(serial.Bytes()[:4]),
		},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return pair{}, fmt.Errorf("tlsca: %w", err)
	}
	return encodePair(der, key)
}

// randomSerial returns a positive 128-bit serial number whose first byte is not zero
// (so the common name's prefix always has four bytes to show).
func randomSerial() (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	b[0] = b[0]&0x7f | 0x40
	return new(big.Int).SetBytes(b), nil
}
