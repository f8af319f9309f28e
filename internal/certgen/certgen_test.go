package certgen

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/richdata"
)

func TestNewDefaults(t *testing.T) {
	before := time.Now()
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if bits := c.Key.N.BitLen(); bits != 2048 {
		t.Errorf("New(Options{}) key = %d bits, want 2048", bits)
	}
	if !c.Cert.PublicKey.(*rsa.PublicKey).Equal(&c.Key.PublicKey) {
		t.Error("New(Options{}) certificate does not hold the generated key")
	}
	if c.Cert.Subject.CommonName != "graphhook" || c.Cert.KeyUsage != x509.KeyUsageKeyEncipherment {
		t.Errorf("New(Options{}) subject %q, key usage %v; want graphhook and key encipherment", c.Cert.Subject.CommonName, c.Cert.KeyUsage)
	}
	if !c.Cert.NotBefore.Before(before) || !c.Cert.NotAfter.After(before.Add(23*time.Hour)) {
		t.Errorf("New(Options{}) valid %v to %v, want it to cover the next day from %v", c.Cert.NotBefore, c.Cert.NotAfter, before)
	}
	if err := c.Cert.CheckSignature(c.Cert.SignatureAlgorithm, c.Cert.RawTBSCertificate, c.Cert.Signature); err != nil {
		t.Errorf("New(Options{}) is not self-signed: %v", err)
	}
	// What a subscription is given must be what the server parses.
	der, err := base64.StdEncoding.DecodeString(c.Base64())
	if err != nil {
		t.Fatalf("Base64() is not standard base64: %v", err)
	}
	if parsed, err := richdata.ParseCertificate(c.Base64()); err != nil || string(der) != string(c.DER) || !parsed.Equal(c.Cert) {
		t.Errorf("richdata.ParseCertificate(Base64()) = %v, want the certificate", err)
	}
}

func TestNewOptions(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := New(Options{CommonName: "app", Key: key, NotBefore: from, NotAfter: from.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, Serial: big.NewInt(42)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Key != key || !c.Cert.PublicKey.(*rsa.PublicKey).Equal(&key.PublicKey) {
		t.Error("New(Key) did not certify the given key")
	}
	if c.Cert.Subject.CommonName != "app" || c.Cert.SerialNumber.Int64() != 42 || c.Cert.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("New() = CN %q serial %v usage %v, want app, 42, digital signature", c.Cert.Subject.CommonName, c.Cert.SerialNumber, c.Cert.KeyUsage)
	}
	if !c.Cert.NotBefore.Equal(from) || !c.Cert.NotAfter.Equal(from.Add(time.Hour)) {
		t.Errorf("New() valid %v to %v, want %v to %v", c.Cert.NotBefore, c.Cert.NotAfter, from, from.Add(time.Hour))
	}
	small, err := New(Options{Bits: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if bits := small.Key.N.BitLen(); bits != 1024 {
		t.Errorf("New(Bits: 1024) key = %d bits", bits)
	}
}
