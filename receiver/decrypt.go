package receiver

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// Decrypt opens a rich notification's content with the private key of the
// certificate the subscription named, and returns the resource's JSON.
//
// The order is fixed so that tampered data is never decrypted: the content key is
// unwrapped with RSA-OAEP (SHA-1), the HMAC-SHA256 of the ciphertext is checked with
// it, and only then is data decrypted with AES-256-CBC (IV = key[:16]) and unpadded.
// Errors wrap ErrWrongKey, ErrTamperedData, ErrBadCiphertext or ErrMalformed.
func Decrypt(ec EncryptedContent, key *rsa.PrivateKey) ([]byte, error) {
	wrapped, err := base64.StdEncoding.DecodeString(ec.DataKey)
	if err != nil {
		return nil, fmt.Errorf("%w: dataKey is not base64: %v", ErrMalformed, err)
	}
	ct, err := base64.StdEncoding.DecodeString(ec.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: data is not base64: %v", ErrMalformed, err)
	}
	sig, err := base64.StdEncoding.DecodeString(ec.DataSignature)
	if err != nil {
		return nil, fmt.Errorf("%w: dataSignature is not base64: %v", ErrMalformed, err)
	}

	contentKey, err := rsa.DecryptOAEP(sha1.New(), nil, key, wrapped, nil)
	if err != nil {
		return nil, fmt.Errorf("%w (certificate id %q)", ErrWrongKey, ec.EncryptionCertificateID)
	}
	if len(contentKey) != 32 {
		return nil, fmt.Errorf("%w: content key is %d bytes, want 32", ErrBadCiphertext, len(contentKey))
	}

	mac := hmac.New(sha256.New, contentKey)
	mac.Write(ct)
	if !hmac.Equal(mac.Sum(nil), sig) {
		return nil, ErrTamperedData
	}

	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of blocks", ErrBadCiphertext, len(ct))
	}
	block, err := aes.NewCipher(contentKey)
	if err != nil {
		return nil, err
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, contentKey[:aes.BlockSize]).CryptBlocks(pt, ct)
	return unpad(pt)
}

// unpad strips PKCS#7 padding. The HMAC has already authenticated the ciphertext, so
// a padding error here means a faulty sender, not an oracle to guard.
func unpad(b []byte) ([]byte, error) {
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize || n > len(b) {
		return nil, fmt.Errorf("%w: bad padding", ErrBadCiphertext)
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, fmt.Errorf("%w: bad padding", ErrBadCiphertext)
		}
	}
	return b[:len(b)-n], nil
}
