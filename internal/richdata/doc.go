// Package richdata produces what a rich notification carries beyond a basic one
// (Microsoft's "Set up change notifications that include resource data"): the resource encrypted for the subscriber's certificate, and the
// validationTokens that let the receiver check who sent the batch.
//
// The encryption is fixed by what receivers already implement against Graph, so
// nothing here is a free choice: a fresh 32-byte key per notification, AES-256-CBC
// with PKCS#7 padding and IV = key[:16], an HMAC-SHA256 over the raw ciphertext keyed
// with the same key, and the key wrapped with RSA-OAEP (SHA-1, MGF1-SHA-1, empty
// label). Reusing the key as IV is safe only because a key encrypts one message.
//
// The package does no I/O: signing keys come in through Signer, certificates as the
// base64 text the subscription carried.
package richdata
