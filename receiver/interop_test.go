package receiver_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/receiver"
)

// chatMessage is a rich notification's plaintext, shaped like the resource Graph
// encrypts (the samples of Microsoft's per-resource change-notification pages).
const chatMessage = `{"id":"1612289765949","replyToId":null,"etag":"1612289765949",` +
	`"messageType":"message","createdDateTime":"2021-02-02T18:16:05.949Z",` +
	`"chatId":"19:8ea0e38b-efb3-4757-924a-5f94061cf8c2_97f62344-57dc-409c-88ad-c4af14158ff5@unq.gbl.spaces",` +
	`"importance":"normal","locale":"en-us","from":{"user":{"id":"8ea0e38b-efb3-4757-924a-5f94061cf8c2",` +
	`"displayName":"Adele Vance","userIdentityType":"aadUser"}},"body":{"contentType":"text","content":"Hello"}}`

// referenceEncrypt is the sender algorithm of the scheme of Microsoft's "Set up change notifications that include resource data" written out by hand, sharing
// no code with graphhook, so that the receiver is shown to read what any sender
// following the documentation produces.
func referenceEncrypt(plaintext []byte, cert *x509.Certificate, certID string) (receiver.EncryptedContent, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return receiver.EncryptedContent{}, err
	}
	n := 16 - len(plaintext)%16
	padded := append([]byte(string(plaintext)), []byte(strings.Repeat(string(rune(n)), n))...)
	block, err := aes.NewCipher(key)
	if err != nil {
		return receiver.EncryptedContent{}, err
	}
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(ct, padded)
	m := hmac.New(sha256.New, key)
	m.Write(ct)
	ek, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, cert.PublicKey.(*rsa.PublicKey), key, nil)
	if err != nil {
		return receiver.EncryptedContent{}, err
	}
	return receiver.EncryptedContent{
		Data:                            base64.StdEncoding.EncodeToString(ct),
		DataSignature:                   base64.StdEncoding.EncodeToString(m.Sum(nil)),
		DataKey:                         base64.StdEncoding.EncodeToString(ek),
		EncryptionCertificateID:         certID,
		EncryptionCertificateThumbprint: fmt.Sprintf("%X", sha1.Sum(cert.Raw)),
	}, nil
}

func TestDecryptReferencePayload(t *testing.T) {
	f := setup(t)
	// Lengths around the block size exercise every padding length, including a full
	// block of padding for aligned input.
	for _, size := range []int{0, 1, 15, 16, 17, 31, 32, len(chatMessage)} {
		plain := []byte(strings.Repeat("x", size))
		if size == len(chatMessage) {
			plain = []byte(chatMessage)
		}
		ec, err := referenceEncrypt(plain, f.appCert, testCertID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := receiver.Decrypt(ec, f.appKey)
		if err != nil {
			t.Fatalf("Decrypt(%d-byte reference payload) error: %v", size, err)
		}
		if string(got) != string(plain) {
			t.Errorf("Decrypt(%d-byte reference payload) = %q, want %q", size, got, plain)
		}
	}
}

func TestDecryptRefuses(t *testing.T) {
	f := setup(t)
	other := readKey(t, "other_key.pem")
	tests := []struct {
		name string
		edit func(*receiver.EncryptedContent)
		key  *rsa.PrivateKey
		want error
	}{
		{"tampered data", func(ec *receiver.EncryptedContent) { ec.Data = flipByte(t, ec.Data) }, f.appKey, receiver.ErrTamperedData},
		{"tampered signature", func(ec *receiver.EncryptedContent) { ec.DataSignature = flipByte(t, ec.DataSignature) }, f.appKey, receiver.ErrTamperedData},
		{"wrong key", nil, other, receiver.ErrWrongKey},
		{"tampered data key", func(ec *receiver.EncryptedContent) { ec.DataKey = flipByte(t, ec.DataKey) }, f.appKey, receiver.ErrWrongKey},
		{"data not base64", func(ec *receiver.EncryptedContent) { ec.Data = "not base64!" }, f.appKey, receiver.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ec, err := referenceEncrypt([]byte(chatMessage), f.appCert, testCertID)
			if err != nil {
				t.Fatal(err)
			}
			if tt.edit != nil {
				tt.edit(&ec)
			}
			got, err := receiver.Decrypt(ec, tt.key)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decrypt() = %q, %v; want error %v", got, err, tt.want)
			}
			if got != nil {
				t.Errorf("Decrypt() returned %d bytes with its error", len(got))
			}
		})
	}
}

// flipByte flips one bit in the middle of a base64 value.
func flipByte(t testing.TB, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}
