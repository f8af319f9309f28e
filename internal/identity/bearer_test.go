package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/graphhook/graphhook/internal/testserver"
)

// TestBearerTimeAndAppRules signs tokens with the server's real key and checks that
// validation tells a not-yet-valid token from an expired one and refuses a token
// without exp, one living over 24 hours, one issued in the future and one of an
// unknown app, each with five minutes of skew allowed.
func TestBearerTimeAndAppRules(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	now := env.Clock.Now()
	base := func() jwt.MapClaims {
		return jwt.MapClaims{"aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/" + testserver.Tenant + "/",
			"ver": "1.0", "tid": testserver.Tenant, "appid": testserver.AppID, "idtyp": "app", "oid": "x", "roles": []string{"User.Read.All"},
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	tests := []struct {
		name string
		edit func(jwt.MapClaims)
		want string // "" accepted
	}{
		{"valid", func(jwt.MapClaims) {}, ""},
		{"expired", func(c jwt.MapClaims) {
			c["exp"] = now.Add(-6 * time.Minute).Unix()
			c["iat"], c["nbf"] = now.Add(-time.Hour).Unix(), now.Add(-time.Hour).Unix()
		}, "Lifetime validation failed, the token is expired."},
		{"expired within the skew", func(c jwt.MapClaims) {
			c["exp"] = now.Add(-4 * time.Minute).Unix()
			c["iat"], c["nbf"] = now.Add(-time.Hour).Unix(), now.Add(-time.Hour).Unix()
		}, ""},
		{"not yet valid", func(c jwt.MapClaims) { c["nbf"] = now.Add(6 * time.Minute).Unix() }, "Lifetime validation failed, the token is not yet valid."},
		{"not yet valid within the skew", func(c jwt.MapClaims) { c["nbf"] = now.Add(4 * time.Minute).Unix() }, ""},
		{"no exp", func(c jwt.MapClaims) { delete(c, "exp") }, "Lifetime validation failed, the token has no expiration time."},
		{"ten years", func(c jwt.MapClaims) { c["exp"] = now.AddDate(10, 0, 0).Unix() }, "Lifetime validation failed, the token's lifetime is over 24 hours."},
		{"24 hours", func(c jwt.MapClaims) { c["exp"] = now.Add(24 * time.Hour).Unix() }, ""},
		{"issued in the future", func(c jwt.MapClaims) { c["iat"] = now.Add(10 * time.Minute).Unix(); c["nbf"] = now.Unix() }, "Lifetime validation failed, the token was issued in the future."},
		{"unknown app", func(c jwt.MapClaims) { c["appid"] = "99999999-0000-4000-8000-00000000dead" }, "Access token validation failure: the application is not registered."},
	}
	for _, tt := range tests {
		c := base()
		tt.edit(c)
		tok, err := env.Identity.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		_, err = env.Identity.Authenticate(context.Background(), "Bearer "+tok)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: Authenticate = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestBearerCheckedAgainAfterClockMoves: a token accepted once (its signature then
// remembered) is refused as expired once the server clock has moved past its exp,
// and a token whose signature is altered is refused even after the original was
// accepted.
func TestBearerCheckedAgainAfterClockMoves(t *testing.T) {
	t.Parallel()
	env := testserver.New(t)
	now := env.Clock.Now()
	tok, err := env.Identity.Sign(jwt.MapClaims{"aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/" + testserver.Tenant + "/",
		"ver": "1.0", "tid": testserver.Tenant, "appid": testserver.AppID, "idtyp": "app", "oid": "x", "roles": []string{"User.Read.All"},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := env.Identity.Authenticate(context.Background(), "Bearer "+tok); err != nil {
			t.Fatalf("Authenticate(fresh token) = %v", err)
		}
	}
	forged := tok[:len(tok)-4] + "AAAA"
	if forged == tok {
		forged = tok[:len(tok)-4] + "BBBB"
	}
	if _, err := env.Identity.Authenticate(context.Background(), "Bearer "+forged); err == nil || err.Error() != "Invalid signature." {
		t.Errorf("Authenticate(altered signature) = %v, want Invalid signature.", err)
	}
	env.Clock.Advance(2 * time.Hour)
	if _, err := env.Identity.Authenticate(context.Background(), "Bearer "+tok); err == nil || err.Error() != "Lifetime validation failed, the token is expired." {
		t.Errorf("Authenticate after the clock passed exp = %v, want expired", err)
	}
}
