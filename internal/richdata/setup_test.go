package richdata_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"
)

// keyCache keeps generated keys across tests: RSA generation dominates their run time.
var keyCache sync.Map // bits -> *rsa.PrivateKey

func rsaKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	if k, ok := keyCache.Load(bits); ok {
		return k.(*rsa.PrivateKey)
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	keyCache.Store(bits, k)
	return k
}

// selfSigned returns a DER certificate for pub, signed by signer, as apps make them.
func selfSigned(t testing.TB, pub any, signer any) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "richdata test"},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// setup returns a 2048-bit key and its certificate.
func setup(t testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	k := rsaKey(t, 2048)
	cert, err := x509.ParseCertificate(selfSigned(t, &k.PublicKey, k))
	if err != nil {
		t.Fatal(err)
	}
	return k, cert
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
