// Package certgen makes the self-signed certificates that apps give Graph as a
// subscription's encryptionCertificate, so that rich notifications arrive encrypted
// for a key the app holds. `graphhook listen`, `graphhook bench` and the tests make
// theirs here rather than each spelling out an x509 template.
package certgen

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"time"
)

// Options describe the certificate to make. The zero value gives an RSA-2048 key and
// a certificate valid from an hour ago for a day, which is what Graph expects of an
// encryptionCertificate.
type Options struct {
	// CommonName is the subject's common name (default "graphhook").
	CommonName string
	// Bits is the size of the RSA key generated (default 2048); ignored with Key.
	Bits int
	// Key, when set, is certified instead of a new key: tests reuse one key across
	// runs because generating it takes longer than what they measure.
	Key *rsa.PrivateKey
	// NotBefore is the start of validity (default an hour before now, so that a
	// server whose clock runs a little behind accepts it).
	NotBefore time.Time
	// NotAfter is the end of validity (default a day after now).
	NotAfter time.Time
	// KeyUsage is the certificate's key usage (default key encipherment, the use
	// Graph puts it to).
	KeyUsage x509.KeyUsage
	// Serial is the serial number (default a random 62-bit number).
	Serial *big.Int
}

// Certificate is a generated key and its self-signed certificate.
type Certificate struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
	// DER is the certificate's ASN.1 DER encoding.
	DER []byte
}

// Base64 is the certificate as a subscription's encryptionCertificate takes it:
// standard base64 of the DER encoding.
func (c *Certificate) Base64() string {
	return base64.StdEncoding.EncodeToString(c.DER)
}

// New makes a key (unless o.Key is set) and a certificate for it, signed by itself.
func New(o Options) (*Certificate, error) {
	now := time.Now()
	key := o.Key
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, cmp.Or(o.Bits, 2048)); err != nil {
			return nil, fmt.Errorf("generate key: %w", err)
		}
	}
	serial := o.Serial
	if serial == nil {
		var err error
		if serial, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62)); err != nil {
			return nil, err
		}
	}
	notBefore, notAfter := o.NotBefore, o.NotAfter
	if notBefore.IsZero() {
		notBefore = now.Add(-time.Hour)
	}
	if notAfter.IsZero() {
		notAfter = now.Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cmp.Or(o.CommonName, "graphhook")},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     cmp.Or(o.KeyUsage, x509.KeyUsageKeyEncipherment),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("self-sign certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Certificate{Key: key, Cert: cert, DER: der}, nil
}
