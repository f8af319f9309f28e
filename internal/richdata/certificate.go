package richdata

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
)

// RSA modulus sizes a subscription's encryptionCertificate may carry ("Set up change notifications that include resource data").
const (
	MinKeyBits = 2048
	MaxKeyBits = 4096
)

// ParseCertificate reads a subscription's encryptionCertificate. Graph documents base64
// DER, but apps also send the PEM file itself or the PEM file base64-encoded, so all
// three are accepted. The certificate must hold an RSA key of MinKeyBits to MaxKeyBits;
// its issuer and validity dates are not checked, as Graph accepts self-signed ones.
//
// Every error is a *graph.Error with status 400 whose message names the problem, for
// the server to show to the client as is.
func ParseCertificate(b64 string) (*x509.Certificate, error) {
	der, err := certificateDER(b64)
	if err != nil {
		return nil, invalid(err, "encryptionCertificate must be a base64-encoded X.509 certificate (DER or PEM).")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, invalid(err, "encryptionCertificate could not be parsed as an X.509 certificate.")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, invalid(nil, "encryptionCertificate must hold an RSA public key; found %s.", cert.PublicKeyAlgorithm)
	}
	if bits := pub.N.BitLen(); bits < MinKeyBits || bits > MaxKeyBits {
		return nil, invalid(nil, "encryptionCertificate RSA key is %d bits; it must be %d to %d bits.", bits, MinKeyBits, MaxKeyBits)
	}
	return cert, nil
}

// certificateDER finds the DER bytes in any of the accepted encodings.
func certificateDER(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if der, ok := pemCertificate([]byte(s)); ok {
		return der, nil
	}
	// Base64 copied from a PEM body keeps its line breaks; they carry no data.
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, err
	}
	if der, ok := pemCertificate(raw); ok {
		return der, nil
	}
	return raw, nil
}

// pemCertificate returns the first CERTIFICATE block of b, if b is PEM.
func pemCertificate(b []byte) ([]byte, bool) {
	if !bytes.Contains(b, []byte("-----BEGIN")) {
		return nil, false
	}
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, false
		}
		if block.Type == "CERTIFICATE" {
			return block.Bytes, true
		}
	}
}

func invalid(err error, format string, args ...any) *graph.Error {
	e := graph.Errorf(http.StatusBadRequest, graph.CodeInvalidRequest, format, args...)
	e.Err = err
	return e
}
