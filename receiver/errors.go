package receiver

import "errors"

// Errors a refused batch or notification wraps; check them with errors.Is.
var (
	// ErrMalformed: the body is not a notification collection.
	ErrMalformed = errors.New("receiver: malformed notification collection")
	// ErrTooLarge: the body exceeds Config.MaxBodyBytes.
	ErrTooLarge = errors.New("receiver: notification body too large")
	// ErrClientState: a notification's clientState is not the subscription's.
	ErrClientState = errors.New("receiver: clientState mismatch")

	// ErrUnknownCertificate: no decryption key is configured for the notification's
	// encryptionCertificateId.
	ErrUnknownCertificate = errors.New("receiver: unknown encryptionCertificateId")
	// ErrWrongKey: the content key does not decrypt with the configured private key,
	// so it was encrypted for another certificate.
	ErrWrongKey = errors.New("receiver: dataKey does not decrypt with this private key")
	// ErrTamperedData: dataSignature does not match data; nothing was decrypted.
	ErrTamperedData = errors.New("receiver: dataSignature mismatch, data was tampered with")
	// ErrBadCiphertext: data passed its signature check yet does not decrypt to padded
	// plaintext, which only a faulty sender produces.
	ErrBadCiphertext = errors.New("receiver: data is not valid AES-CBC ciphertext")

	// ErrNoValidationTokens: the batch has encrypted content but no validation token.
	ErrNoValidationTokens = errors.New("receiver: encrypted content without validationTokens")
	// ErrTokenMalformed: a validation token is not a JWT.
	ErrTokenMalformed = errors.New("receiver: validation token is malformed")
	// ErrTokenSignature: a validation token's signature does not verify (forged).
	ErrTokenSignature = errors.New("receiver: validation token signature is invalid")
	// ErrTokenUnknownKey: the token's kid is in no key of the JWKS, even after a refresh.
	ErrTokenUnknownKey = errors.New("receiver: validation token signed with an unknown key")
	// ErrTokenExpired: a validation token's exp has passed.
	ErrTokenExpired = errors.New("receiver: validation token expired")
	// ErrTokenNotYetValid: a validation token's nbf or iat lies in the future.
	ErrTokenNotYetValid = errors.New("receiver: validation token not valid yet")
	// ErrTokenAudience: a validation token is for another app.
	ErrTokenAudience = errors.New("receiver: validation token audience is not this app")
	// ErrTokenPublisher: a validation token was not issued to the publisher id.
	ErrTokenPublisher = errors.New("receiver: validation token is not from the notification publisher")
	// ErrTokenIssuer: a validation token's issuer failed Config.CheckIssuer.
	ErrTokenIssuer = errors.New("receiver: validation token issuer rejected")
	// ErrTokenTenant: an encrypted notification's tenant has no validation token.
	ErrTokenTenant = errors.New("receiver: no validation token for the notification's tenant")
	// ErrKeysUnavailable: the JWKS could not be fetched; worth retrying later.
	ErrKeysUnavailable = errors.New("receiver: signing keys unavailable")
)
