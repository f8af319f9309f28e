package richdata_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/richdata"
)

// referenceDecrypt is the receiver side of the scheme of Microsoft's "Set up change notifications that include resource data" written out by hand, sharing no
// code with richdata or receiver, as an app following the documentation would.
func referenceDecrypt(ec graph.EncryptedContent, priv *rsa.PrivateKey) ([]byte, error) {
	ek, _ := base64.StdEncoding.DecodeString(ec.DataKey)
	data, _ := base64.StdEncoding.DecodeString(ec.Data)
	sig, _ := base64.StdEncoding.DecodeString(ec.DataSignature)
	key, err := rsa.DecryptOAEP(sha1.New(), nil, priv, ek, nil)
	if err != nil {
		return nil, fmt.Errorf("unwrapping key: %w", err)
	}
	h := hmac.New(sha256.New, key)
	h.Write(data)
	if !bytes.Equal(h.Sum(nil), sig) {
		return nil, fmt.Errorf("signature mismatch")
	}
	c, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(data)%16 != 0 || len(data) == 0 {
		return nil, fmt.Errorf("ciphertext length %d", len(data))
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(c, key[:16]).CryptBlocks(out, data)
	n := int(out[len(out)-1])
	if n < 1 || n > 16 || !bytes.Equal(out[len(out)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, fmt.Errorf("bad padding")
	}
	return out[:len(out)-n], nil
}

// chatMessage is about 1 KB, the size of a typical rich chatMessage payload.
var chatMessage = []byte(`{"id":"1612289765949","replyToId":null,"etag":"1612289765949","messageType":"message",` +
	`"createdDateTime":"2021-02-02T18:16:05.949Z","lastModifiedDateTime":"2021-02-02T18:16:05.949Z",` +
	`"lastEditedDateTime":null,"deletedDateTime":null,"subject":null,"summary":null,` +
	`"chatId":"19:8ea0e38b-efb3-4757-924a-5f94061cf8c2_97f62344-57dc-409c-88ad-c4af14158ff5@unq.gbl.spaces",` +
	`"importance":"normal","locale":"en-us","webUrl":null,"channelIdentity":null,"policyViolation":null,` +
	`"eventDetail":null,"from":{"application":null,"device":null,"user":{"@odata.type":"#microsoft.graph.teamworkUserIdentity",` +
	`"id":"8ea0e38b-efb3-4757-924a-5f94061cf8c2","displayName":"Adele Vance","userIdentityType":"aadUser",` +
	`"tenantId":"9f4ebab6-520d-49c0-85cc-7b25c78d4a93"}},"body":{"contentType":"html",` +
	`"content":"<p>Hello team, the quarterly numbers are in. Please review the attached deck before Thursday's ` +
	`meeting and add your comments inline. Thanks!</p>"},"attachments":[],"mentions":[],"reactions":[],` +
	`"messageHistory":[],"replies":[],"hostedContents":[],` +
	`"onBehalfOf":null,"padding":"` + strings.Repeat("x", 120) + `"}`)

func TestEncryptInterop(t *testing.T) {
	priv, cert := setup(t)
	for _, size := range []int{0, 1, 15, 16, 17, 32, len(chatMessage)} {
		plain := chatMessage[:size]
		ec, err := richdata.Encrypt(plain, cert, "my-cert")
		if err != nil {
			t.Fatalf("Encrypt(%d bytes) error: %v", size, err)
		}
		got, err := referenceDecrypt(ec, priv)
		if err != nil {
			t.Fatalf("referenceDecrypt(Encrypt(%d bytes)) error: %v", size, err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("referenceDecrypt(Encrypt(%q)) = %q", plain, got)
		}
	}
}

func TestEncryptFields(t *testing.T) {
	priv, cert := setup(t)
	ec, err := richdata.Encrypt(chatMessage, cert, "my-cert")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(cert.Raw)
	if want := strings.ToUpper(hex.EncodeToString(sum[:])); ec.EncryptionCertificateThumbprint != want {
		t.Errorf("EncryptionCertificateThumbprint = %q, want %q", ec.EncryptionCertificateThumbprint, want)
	}
	if ec.EncryptionCertificateID != "my-cert" {
		t.Errorf("EncryptionCertificateID = %q, want my-cert", ec.EncryptionCertificateID)
	}
	// Standard base64 with padding, and the sizes the algorithm fixes.
	for name, tt := range map[string]struct {
		b64  string
		size int
	}{
		"data":          {ec.Data, (len(chatMessage)/16 + 1) * 16},
		"dataSignature": {ec.DataSignature, sha256.Size},
		"dataKey":       {ec.DataKey, priv.Size()},
	} {
		b, err := base64.StdEncoding.Strict().DecodeString(tt.b64)
		if err != nil {
			t.Errorf("%s = %q: not standard padded base64: %v", name, tt.b64, err)
		}
		if len(b) != tt.size {
			t.Errorf("%s is %d bytes, want %d", name, len(b), tt.size)
		}
	}

	// Each call draws a fresh key, so the same plaintext never encrypts the same way.
	again, err := richdata.Encrypt(chatMessage, cert, "my-cert")
	if err != nil {
		t.Fatal(err)
	}
	if again.Data == ec.Data || again.DataKey == ec.DataKey {
		t.Errorf("two Encrypt calls produced the same data or key; the key must be fresh per call")
	}
}

func TestEncryptRejectsNonRSA(t *testing.T) {
	k := ecKey(t)
	cert := mustParse(t, selfSigned(t, &k.PublicKey, k))
	if _, err := richdata.Encrypt(chatMessage, cert, "x"); err == nil {
		t.Errorf("Encrypt(ECDSA certificate) = nil error, want one")
	}
}

// BenchmarkEncrypt measures what a rich notification costs over a basic one: the
// encryption of a ~1 KB chatMessage for a 2048-bit certificate.
func BenchmarkEncrypt(b *testing.B) {
	_, cert := setup(b)
	b.SetBytes(int64(len(chatMessage)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := richdata.Encrypt(chatMessage, cert, "my-cert"); err != nil {
			b.Fatal(err)
		}
	}
}
