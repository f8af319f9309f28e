package receiver_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/graphhook/graphhook/receiver"
)

const (
	testAppID    = "925bff9f-f6e2-4a69-b858-f71ea2b9b6d0"
	testTenantID = "9f4ebab6-520d-49c0-85cc-7b25c78d4a93"
	testCertID   = "graphhook-test-cert"
	testKid      = "test-signing-key"
	testState    = "secretClientValue"
)

// testNow is the fixed instant tokens are minted and checked at.
var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func readKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("testdata/%s: no PEM block", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
	return k.(*rsa.PrivateKey)
}

func readCert(t testing.TB) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile("testdata/app_cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// jwksServer publishes signing keys on loopback, as graphhook's /discovery/keys does,
// and counts the fetches.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int32

	mu   sync.Mutex
	keys map[string]*rsa.PublicKey
}

func newJWKSServer(t testing.TB, keys map[string]*rsa.PublicKey) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		type jwk struct {
			Kty string `json:"kty"`
			Use string `json:"use"`
			Alg string `json:"alg"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		}
		var set struct {
			Keys []jwk `json:"keys"`
		}
		for kid, k := range s.keys {
			set.Keys = append(set.Keys, jwk{
				Kty: "RSA", Use: "sig", Alg: "RS256", Kid: kid,
				N: base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
			})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(keys map[string]*rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

// fixture is a receiving app and the sender's signing key it trusts.
type fixture struct {
	appKey     *rsa.PrivateKey
	appCert    *x509.Certificate
	signingKey *rsa.PrivateKey
	jwks       *jwksServer
	now        time.Time

	mu       sync.Mutex
	received [][]receiver.Notification
}

func setup(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		appKey:     readKey(t, "app_key.pem"),
		appCert:    readCert(t),
		signingKey: readKey(t, "signing_key.pem"),
		now:        testNow.Add(time.Minute),
	}
	f.jwks = newJWKSServer(t, map[string]*rsa.PublicKey{testKid: &f.signingKey.PublicKey})
	return f
}

// config is the app's receiver configuration; tests change fields before NewHandler.
func (f *fixture) config() receiver.Config {
	return receiver.Config{
		OnNotifications: func(_ context.Context, batch []receiver.Notification) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.received = append(f.received, batch)
			return nil
		},
		ClientState:    testState,
		DecryptionKeys: map[string]*rsa.PrivateKey{testCertID: f.appKey},
		AppIDs:         []string{testAppID},
		JWKSURL:        f.jwks.URL,
		HTTPClient:     f.jwks.Client(),
		Now:            func() time.Time { return f.now },
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func (f *fixture) handler(t testing.TB, cfg receiver.Config) *receiver.Handler {
	t.Helper()
	h, err := receiver.NewHandler(cfg)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return h
}

// token mints a validation token with Graph's v1 claims; edit changes them first.
func (f *fixture) token(t testing.TB, key *rsa.PrivateKey, kid string, edit func(jwt.MapClaims)) string {
	t.Helper()
	claims := jwt.MapClaims{
		"aud":      testAppID,
		"iss":      "https://sts.windows.net/" + testTenantID + "/",
		"iat":      testNow.Unix(),
		"nbf":      testNow.Unix(),
		"exp":      testNow.Add(24 * time.Hour).Unix(),
		"appid":    receiver.DefaultPublisherID,
		"appidacr": "2",
		"tid":      testTenantID,
		"ver":      "1.0",
	}
	if edit != nil {
		edit(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
