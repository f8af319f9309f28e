package identity

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AuthError says why a bearer token was refused; its Message is shown to the client.
type AuthError struct{ Message string }

func (e *AuthError) Error() string { return e.Message }

// Authenticate validates an Authorization header value and returns the caller. It
// accepts Graph access tokens in their v1 form (issuer https://sts.windows.net/{tid}/),
// which do not name graphhook's URL: a token stays valid when the server moves.
func (s *Service) Authenticate(ctx context.Context, header string) (*Principal, error) {
	if header == "" {
		return nil, &AuthError{"Access token is empty."}
	}
	scheme, raw, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return nil, &AuthError{"Access token is empty."}
	}
	raw = strings.TrimSpace(raw)
	claims, err := s.parse(raw)
	if err != nil {
		switch {
		case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
			return nil, &AuthError{"Lifetime validation failed, the token has no expiration time."}
		case errors.Is(err, jwt.ErrTokenExpired):
			return nil, &AuthError{"Lifetime validation failed, the token is expired."}
		case errors.Is(err, jwt.ErrTokenNotValidYet):
			return nil, &AuthError{"Lifetime validation failed, the token is not yet valid."}
		case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return nil, &AuthError{"Lifetime validation failed, the token was issued in the future."}
		case errors.Is(err, jwt.ErrTokenMalformed):
			return nil, &AuthError{"IDX14100: JWT is not well formed."}
		case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
			return nil, &AuthError{"Invalid signature."}
		default:
			return nil, &AuthError{"Access token validation failure. Invalid audience or signature."}
		}
	}
	if claims["typ"] == "refresh" {
		return nil, &AuthError{"Access token validation failure: a refresh token is not an access token."}
	}
	aud := str(claims["aud"])
	if aud != GraphAudience && aud != GraphAppID && aud != GraphAudience+"/" {
		return nil, &AuthError{"Access token validation failure. Invalid audience."}
	}
	tid := str(claims["tid"])
	if _, ok := s.Tenant(tid); !ok {
		return nil, &AuthError{"Access token validation failure: unknown tenant."}
	}
	if str(claims["iss"]) != v1Issuer(tid) || str(claims["ver"]) != "1.0" {
		return nil, &AuthError{"Access token validation failure. Invalid issuer."}
	}
	if lifetime(claims) > MaxAccessTokenLifetime {
		return nil, &AuthError{"Lifetime validation failed, the token's lifetime is over 24 hours."}
	}
	if !s.knownApp(str(claims["appid"])) {
		return nil, &AuthError{"Access token validation failure: the application is not registered."}
	}
	p := &Principal{TenantID: tid, AppID: str(claims["appid"])}
	p.ServicePrincipalID = ServicePrincipalID(tid, p.AppID)
	switch str(claims["idtyp"]) {
	case "app":
		p.Type = Application
		p.ServicePrincipalID = str(claims["oid"])
		if roles, ok := claims["roles"].([]any); ok {
			p.Permissions = make([]string, 0, len(roles))
			for _, r := range roles {
				p.Permissions = append(p.Permissions, str(r))
			}
		}
	case "user":
		p.Type = DelegatedWork
		if tid == ConsumersTenant {
			p.Type = DelegatedPersonal
		}
		p.UserID = str(claims["oid"])
		if wids, ok := claims["wids"].([]any); ok {
			for _, w := range wids {
				p.RoleTemplateIDs = append(p.RoleTemplateIDs, str(w))
			}
		}
		p.UPN = cmp.Or(str(claims["upn"]), str(claims["unique_name"]))
		p.Permissions = strings.Fields(str(claims["scp"]))
	default:
		return nil, &AuthError{"Access token validation failure: unknown token type."}
	}
	return p, nil
}

// lifetime is how long a token lives: exp - iat, or exp - nbf without iat; a token
// with neither is taken to live forever.
func lifetime(claims jwt.MapClaims) time.Duration {
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return time.Duration(1<<63 - 1)
	}
	from, err := claims.GetIssuedAt()
	if err != nil || from == nil {
		if from, err = claims.GetNotBefore(); err != nil || from == nil {
			return time.Duration(1<<63 - 1)
		}
	}
	return exp.Sub(from.Time)
}
