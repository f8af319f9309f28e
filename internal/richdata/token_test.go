package richdata_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/graphhook/graphhook/internal/richdata"
)

func TestValidationToken(t *testing.T) {
	k := rsaKey(t, 2048)
	signer := richdata.RSASigner{Key: k, KeyID: "kid-1"}
	now := time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC)
	const (
		app    = "925bff9f-f6e2-4a69-b858-f71ea2b9b6d0"
		tenant = "9f4ebab6-520d-49c0-85cc-7b25c78d4a93"
	)
	tests := []struct {
		name                string
		publisher, issuer   string
		wantPub, wantIssuer string
	}{
		{"defaults", "", "", richdata.DefaultPublisherID, "https://sts.windows.net/" + tenant + "/"},
		{"configured", "11111111-2222-3333-4444-555555555555", "https://graphhook.example/" + tenant + "/v2.0",
			"11111111-2222-3333-4444-555555555555", "https://graphhook.example/" + tenant + "/v2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := richdata.ValidationToken(signer, app, tenant, tt.publisher, tt.issuer, now)
			if err != nil {
				t.Fatal(err)
			}
			claims := jwt.MapClaims{}
			tok, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now })).
				ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &k.PublicKey, nil })
			if err != nil {
				t.Fatalf("parsing ValidationToken(): %v", err)
			}
			if kid := tok.Header["kid"]; kid != "kid-1" {
				t.Errorf("kid = %v, want kid-1", kid)
			}
			sec := float64(now.Unix())
			want := jwt.MapClaims{
				"aud": app, "iss": tt.wantIssuer,
				"iat": sec, "nbf": sec, "exp": sec + 24*3600,
				"appid": tt.wantPub, "azp": tt.wantPub, "appidacr": "2", "azpacr": "2", "idtyp": "app",
				"oid": tt.wantPub, "sub": tt.wantPub, "tid": tenant, "ver": "1.0",
			}
			if diff := cmp.Diff(want, claims); diff != "" {
				t.Errorf("ValidationToken() claims mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidationTokenNeedsIDs(t *testing.T) {
	signer := richdata.RSASigner{Key: rsaKey(t, 2048), KeyID: "k"}
	if _, err := richdata.ValidationToken(signer, "", "tenant", "", "", time.Now()); err == nil {
		t.Errorf("ValidationToken(no app id) = nil error, want one")
	}
	if _, err := richdata.ValidationToken(signer, "app", "", "", "", time.Now()); err == nil {
		t.Errorf("ValidationToken(no tenant id) = nil error, want one")
	}
}

// BenchmarkValidationToken measures minting one token: an RSA-2048 signature, paid
// once per (app, tenant) pair of a batch with rich notifications.
func BenchmarkValidationToken(b *testing.B) {
	signer := richdata.RSASigner{Key: rsaKey(b, 2048), KeyID: "k"}
	now := time.Now()
	for b.Loop() {
		if _, err := richdata.ValidationToken(signer, "app", "tenant", "", "", now); err != nil {
			b.Fatal(err)
		}
	}
}
