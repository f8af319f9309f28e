package receiver_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/graphhook/graphhook/internal/goldenfile"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/receiver"
)

// TestWireGolden pins the wire shape graphhook sends and checks that the receiver
// reads it back. The content key comes from a seeded crypto/rand, so data and
// dataSignature are fixed; dataKey (RSA-OAEP pads with fresh randomness) is checked
// to decrypt and then replaced by a placeholder.
func TestWireGolden(t *testing.T) {
	f := setup(t)
	cryptotest.SetGlobalRandom(t, 1)
	rich := f.richNotification(t)
	rich.ID = "lsgTZMr9KwAAA"
	plain, err := receiver.Decrypt(receiver.EncryptedContent(*rich.EncryptedContent), f.appKey)
	if err != nil || string(plain) != chatMessage {
		t.Fatalf("Decrypt(rich notification) = %q, %v; want the chat message", plain, err)
	}
	if b, _ := base64.StdEncoding.DecodeString(rich.EncryptedContent.DataKey); len(b) != f.appKey.Size() {
		t.Fatalf("dataKey is %d bytes, want %d", len(b), f.appKey.Size())
	}
	rich.EncryptedContent.DataKey = "{RSA-OAEP wrapped key, 256 bytes}"

	tests := []struct {
		name string
		c    graph.ChangeNotificationCollection
	}{
		{"rich_collection", graph.ChangeNotificationCollection{
			Value:            []graph.ChangeNotification{rich},
			ValidationTokens: []string{f.serverToken(t)},
		}},
		{"lifecycle_collection", graph.ChangeNotificationCollection{Value: []graph.ChangeNotification{
			{
				SubscriptionID:                 testSubscriptionID,
				SubscriptionExpirationDateTime: graph.FormatTime(testNow.Add(time.Hour)),
				ClientState:                    testState,
				LifecycleEvent:                 graph.LifecycleReauthorizationRequired,
				TenantID:                       testTenantID,
				OrganizationID:                 testTenantID,
			},
			{
				SubscriptionID:                 testSubscriptionID,
				SubscriptionExpirationDateTime: graph.FormatTime(testNow.Add(time.Hour)),
				ClientState:                    testState,
				LifecycleEvent:                 graph.LifecycleMissed,
				TenantID:                       testTenantID,
				OrganizationID:                 testTenantID,
			},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, n := range tt.c.Value {
				if err := n.Validate(); err != nil {
					t.Fatalf("value[%d].Validate() = %v", i, err)
				}
			}
			got, err := json.MarshalIndent(tt.c, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			goldenfile.Compare(t, tt.name, got)
			want, err := os.ReadFile(filepath.Join("testdata", tt.name+".golden.json"))
			if err != nil {
				t.Fatal(err)
			}

			// A batch without rich notifications carries no validationTokens key at all.
			var keys map[string]json.RawMessage
			if err := json.Unmarshal(got, &keys); err != nil {
				t.Fatal(err)
			}
			if _, has := keys["validationTokens"]; has != (len(tt.c.ValidationTokens) > 0) {
				t.Errorf("validationTokens present = %v, want %v", has, len(tt.c.ValidationTokens) > 0)
			}

			c, err := receiver.ParseCollection(bytes.NewReader(want))
			if err != nil {
				t.Fatalf("ParseCollection(golden) error: %v", err)
			}
			if len(c.Value) != len(tt.c.Value) {
				t.Fatalf("ParseCollection(golden) has %d notifications, want %d", len(c.Value), len(tt.c.Value))
			}
			for i, n := range c.Value {
				sent := tt.c.Value[i]
				if n.SubscriptionID != sent.SubscriptionID || n.TenantID != sent.TenantID ||
					n.ChangeType != sent.ChangeType || n.LifecycleEvent != sent.LifecycleEvent ||
					graph.FormatTime(n.SubscriptionExpirationDateTime) != sent.SubscriptionExpirationDateTime {
					t.Errorf("ParseCollection(golden).Value[%d] = %+v, want the fields of %+v", i, n, sent)
				}
			}
		})
	}

}

// TestEncryptedContentFixture keeps testdata/encrypted_content.json, which
// ExampleDecrypt opens, decryptable with testdata/app_key.pem. With -update it is
// made anew by the reference sender.
func TestEncryptedContentFixture(t *testing.T) {
	f := setup(t)
	const path = "testdata/encrypted_content.json"
	const plain = `{"id":"1612289765949","body":{"contentType":"text","content":"Hello"}}`
	if goldenfile.Updating() {
		ec, err := referenceEncrypt([]byte(plain), f.appCert, testCertID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.MarshalIndent(ec, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ec receiver.EncryptedContent
	if err := json.Unmarshal(b, &ec); err != nil {
		t.Fatal(err)
	}
	got, err := receiver.Decrypt(ec, f.appKey)
	if err != nil || string(got) != plain {
		t.Errorf("Decrypt(%s) = %q, %v; want %q", path, got, err, plain)
	}
}
