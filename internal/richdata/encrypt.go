package richdata

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
)

// keySize is the AES-256 key length; the first aes.BlockSize bytes double as the IV.
const keySize = 32

// Encrypt encrypts plaintext, the JSON of the changed resource, for the holder of
// cert's private key, and labels the result with certID, the subscription's
// encryptionCertificateId. Each call draws a fresh key from crypto/rand.
//
// It fails only if cert does not hold an RSA public key or the random source fails.
func Encrypt(plaintext []byte, cert *x509.Certificate, certID string) (graph.EncryptedContent, error) {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return graph.EncryptedContent{}, fmt.Errorf("richdata: certificate key is %T, not RSA", cert.PublicKey)
	}
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return graph.EncryptedContent{}, fmt.Errorf("richdata: drawing content key: %w", err)
	}

	block, err := aes.NewCipher(key)
	if err != nil {
		return graph.EncryptedContent{}, err
	}
	ct := pad(plaintext, aes.BlockSize)
	cipher.NewCBCEncrypter(block, key[:aes.BlockSize]).CryptBlocks(ct, ct)

	mac := hmac.New(sha256.New, key)
	mac.Write(ct)

	wrapped, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, key, nil)
	if err != nil {
		return graph.EncryptedContent{}, fmt.Errorf("richdata: wrapping content key: %w", err)
	}

	return graph.EncryptedContent{
		Data:                            base64.StdEncoding.EncodeToString(ct),
		DataSignature:                   base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		DataKey:                         base64.StdEncoding.EncodeToString(wrapped),
		EncryptionCertificateID:         certID,
		EncryptionCertificateThumbprint: Thumbprint(cert),
	}, nil
}

// Thumbprint is the certificate's SHA-1 thumbprint as Graph writes it: 40 upper-case
// hex digits over the DER bytes.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha1.Sum(cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// pad returns a new slice holding b followed by PKCS#7 padding to a multiple of size.
// A full block of padding is added when b is already aligned, so unpadding is never
// ambiguous.
func pad(b []byte, size int) []byte {
	n := size - len(b)%size
	out := make([]byte, len(b), len(b)+n)
	copy(out, b)
	return append(out, bytes.Repeat([]byte{byte(n)}, n)...)
}
