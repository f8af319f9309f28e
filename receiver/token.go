package receiver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenVerifier checks validation tokens ("Set up change notifications that include resource data", validation tokens).
type tokenVerifier struct {
	keys        *keyset
	appIDs      []string
	publisherID string
	checkIssuer func(iss, tenantID string) error
	leeway      time.Duration
	now         func() time.Time
}

// tokenClaims is what a verified token vouches for.
type tokenClaims struct {
	tenantID string
}

// verify checks one token and returns its tenant. Errors wrap one of the ErrToken
// errors, or ErrKeysUnavailable when the verdict could not be reached.
func (v *tokenVerifier) verify(ctx context.Context, raw string) (tokenClaims, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(v.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	claims := jwt.MapClaims{}
	var keyErr error
	_, err := p.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, err := v.keys.key(ctx, kid)
		keyErr = err
		return k, err
	})
	switch {
	case keyErr != nil:
		return tokenClaims{}, keyErr
	case err != nil:
		return tokenClaims{}, tokenError(err)
	}

	aud, err := claims.GetAudience()
	if err != nil || !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(v.appIDs, a) }) {
		return tokenClaims{}, fmt.Errorf("%w: aud %v, want one of %v", ErrTokenAudience, aud, v.appIDs)
	}
	// v1 tokens name the caller in appid, v2 tokens in azp; graphhook sends both.
	appid, _ := claims["appid"].(string)
	azp, _ := claims["azp"].(string)
	if appid != v.publisherID && azp != v.publisherID {
		return tokenClaims{}, fmt.Errorf("%w: appid %q, azp %q, want %q", ErrTokenPublisher, appid, azp, v.publisherID)
	}
	tid, _ := claims["tid"].(string)
	iss, _ := claims["iss"].(string)
	if err := v.checkIssuer(iss, tid); err != nil {
		return tokenClaims{}, fmt.Errorf("%w: %w", ErrTokenIssuer, err)
	}
	return tokenClaims{tenantID: tid}, nil
}

// tokenError maps the jwt library's verdict onto the package's errors.
func tokenError(err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fmt.Errorf("%w: %w", ErrTokenSignature, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return fmt.Errorf("%w: %w", ErrTokenExpired, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fmt.Errorf("%w: %w", ErrTokenNotYetValid, err)
	}
	return fmt.Errorf("%w: %w", ErrTokenMalformed, err)
}

// IssuerV1 is the default issuer check: the v1 Entra ID form
// https://sts.windows.net/{tid}/, which graphhook emits by default.
func IssuerV1(iss, tenantID string) error {
	if tenantID == "" || iss != "https://sts.windows.net/"+tenantID+"/" {
		return fmt.Errorf("issuer %q is not https://sts.windows.net/%s/", iss, tenantID)
	}
	return nil
}

// IssuerV1OrV2 also accepts the v2 form https://login.microsoftonline.com/{tid}/v2.0,
// for apps that receive from Microsoft Graph with v2 tokens.
func IssuerV1OrV2(iss, tenantID string) error {
	if tenantID != "" && iss == "https://login.microsoftonline.com/"+tenantID+"/v2.0" {
		return nil
	}
	return IssuerV1(iss, tenantID)
}
