package richdata_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/richdata"
)

func mustParse(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseCertificate(t *testing.T) {
	k := rsaKey(t, 2048)
	der := selfSigned(t, &k.PublicKey, k)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	b64 := base64.StdEncoding.EncodeToString(der)

	small := rsaKey(t, 1024)
	ec := ecKey(t)

	tests := []struct {
		name    string
		in      string
		wantErr string // substring of the client message; "" for success
	}{
		{"base64 DER", b64, ""},
		{"base64 DER with line breaks", b64[:64] + "\r\n" + b64[64:128] + "\n" + b64[128:] + "\n", ""},
		{"PEM", pemText, ""},
		{"PEM with a key block first", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" + pemText, ""},
		{"base64 of PEM", base64.StdEncoding.EncodeToString([]byte(pemText)), ""},
		{"empty", "", "could not be parsed"},
		{"not base64", "not a certificate!", "must be a base64-encoded X.509 certificate"},
		{"base64 of junk", base64.StdEncoding.EncodeToString([]byte("junk")), "could not be parsed"},
		{"PEM without certificate", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "must be a base64-encoded"},
		{"ECDSA key", base64.StdEncoding.EncodeToString(selfSigned(t, &ec.PublicKey, ec)), "must hold an RSA public key; found ECDSA"},
		{"1024-bit key", base64.StdEncoding.EncodeToString(selfSigned(t, &small.PublicKey, small)), "is 1024 bits; it must be 2048 to 4096 bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := richdata.ParseCertificate(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseCertificate() error: %v", err)
				}
				if !strings.EqualFold(richdata.Thumbprint(cert), richdata.Thumbprint(mustParse(t, der))) {
					t.Errorf("ParseCertificate() returned another certificate")
				}
				return
			}
			var ge *graph.Error
			if !errors.As(err, &ge) {
				t.Fatalf("ParseCertificate() = %v, %v; want a *graph.Error", cert, err)
			}
			if ge.Status != http.StatusBadRequest || !strings.Contains(ge.Message, tt.wantErr) {
				t.Errorf("ParseCertificate() = %d %q, want 400 containing %q", ge.Status, ge.Message, tt.wantErr)
			}
		})
	}
}
