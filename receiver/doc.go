// Package receiver is the part of graphhook that apps import: an http.Handler that
// receives change notifications from graphhook or from Microsoft Graph itself, which
// send the same wire format.
//
// A Handler does, for each POST to the notification URL:
//
//   - the validation handshake: a POST with a validationToken query parameter is
//     answered 200 with the decoded token as text/plain, as the sender requires
//     before it creates a subscription;
//   - parsing: the body {"value":[...],"validationTokens":[...]} becomes a Collection
//     of ChangeNotification values; lifecycle notifications are those with a
//     LifecycleEvent instead of a ChangeType;
//   - authentication: every clientState must match the subscription's; when the batch
//     holds encrypted content, every validation token must be an RS256 JWT signed by a
//     key of the sender's JWKS, unexpired, for one of the app's ids, from the
//     publisher id and the expected issuer;
//   - decryption: each encryptedContent's HMAC is checked before the content key is
//     used to decrypt, with the RSA key named by encryptionCertificateId;
//   - delivery: the batch goes to the app's callback, and the sender is answered 202
//     only once the callback returns nil. Any other answer makes the sender retry, so
//     an app that cannot store a batch returns an error instead of losing it.
//
// A refused batch is answered 400 (malformed), 403 (failed authentication or
// decryption), 413 (too large) or 503 (signing keys unreachable); the reason is logged
// and never echoed to the sender. Decrypt and ParseCollection are exported for apps
// that receive notifications some other way.
package receiver
