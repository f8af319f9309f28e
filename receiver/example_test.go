package receiver_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"

	"github.com/graphhook/graphhook/receiver"
)

// A basic setup: check clientState, print each notification, and let the handler
// answer the validation handshake when the subscription is created.
func ExampleNewHandler() {
	h, err := receiver.NewHandler(receiver.Config{
		ClientState: "secretClientValue",
		OnNotifications: func(ctx context.Context, batch []receiver.Notification) error {
			for _, n := range batch {
				if n.IsLifecycle() {
					fmt.Println("lifecycle:", n.LifecycleEvent, n.SubscriptionID)
					continue
				}
				fmt.Println(n.ChangeType, n.Resource)
			}
			return nil // only now is the sender answered 202
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h) // an app uses http.ListenAndServe(addr, h)
	defer srv.Close()

	// The handshake graphhook sends before it creates the subscription.
	resp, err := http.Post(srv.URL+"?validationToken="+url.QueryEscape("Validation: abc 123"), "text/plain", nil)
	if err != nil {
		log.Fatal(err)
	}
	echo, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("handshake: %d %s %q\n", resp.StatusCode, resp.Header.Get("Content-Type"), echo)

	// A batch with a change and a lifecycle notification.
	body := `{"value":[
	  {"subscriptionId":"sub-1","subscriptionExpirationDateTime":"2026-03-04T06:06:07.0000000Z",
	   "clientState":"secretClientValue","changeType":"updated","resource":"Users/6b3f4e2c",
	   "tenantId":"9f4ebab6-520d-49c0-85cc-7b25c78d4a93",
	   "resourceData":{"@odata.type":"#Microsoft.Graph.User","@odata.id":"Users/6b3f4e2c","id":"6b3f4e2c"}},
	  {"subscriptionId":"sub-1","subscriptionExpirationDateTime":"2026-03-04T06:06:07.0000000Z",
	   "clientState":"secretClientValue","lifecycleEvent":"reauthorizationRequired",
	   "tenantId":"9f4ebab6-520d-49c0-85cc-7b25c78d4a93"}]}`
	resp, err = http.Post(srv.URL, "application/json", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("batch:", resp.StatusCode)

	// A forged batch: wrong clientState.
	resp, err = http.Post(srv.URL, "application/json", strings.NewReader(strings.ReplaceAll(body, "secretClientValue", "guess")))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("forged batch:", resp.StatusCode)
	// Output:
	// handshake: 200 text/plain; charset=utf-8 "Validation: abc 123"
	// updated Users/6b3f4e2c
	// lifecycle: reauthorizationRequired sub-1
	// batch: 202
	// forged batch: 403
}

// An app that subscribes with includeResourceData configures the private key of each
// certificate it gave, its app id, and where the sender publishes its signing keys.
func ExampleNewHandler_richNotifications() {
	key := loadKey("testdata/app_key.pem")
	h, err := receiver.NewHandler(receiver.Config{
		ClientState:    "secretClientValue",
		DecryptionKeys: map[string]*rsa.PrivateKey{"graphhook-test-cert": key},
		AppIDs:         []string{"925bff9f-f6e2-4a69-b858-f71ea2b9b6d0"},
		// graphhook's keys; leave empty to receive from Microsoft Graph.
		JWKSURL: "https://graphhook.internal:8443/common/discovery/keys",
		OnNotifications: func(ctx context.Context, batch []receiver.Notification) error {
			for _, n := range batch {
				fmt.Printf("%s: %s\n", n.Resource, n.Data) // Data is the decrypted chatMessage
			}
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /notifications", h)
	fmt.Println("configured")
	// Output: configured
}

func ExampleDecrypt() {
	b, err := os.ReadFile("testdata/encrypted_content.json")
	if err != nil {
		log.Fatal(err)
	}
	var ec receiver.EncryptedContent
	if err := json.Unmarshal(b, &ec); err != nil {
		log.Fatal(err)
	}
	data, err := receiver.Decrypt(ec, loadKey("testdata/app_key.pem"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ec.EncryptionCertificateID)
	fmt.Println(string(data))
	// Output:
	// graphhook-test-cert
	// {"id":"1612289765949","body":{"contentType":"text","content":"Hello"}}
}

func ExampleParseCollection() {
	c, err := receiver.ParseCollection(strings.NewReader(`{"value":[{
	  "subscriptionId":"10493aa0-4d29-4df5-bc0c-ef742cc6cd7f",
	  "subscriptionExpirationDateTime":"2021-02-02T10:30:34.9097561-08:00",
	  "lifecycleEvent":"missed","resource":"","clientState":"s",
	  "organizationId":"9f4ebab6-520d-49c0-85cc-7b25c78d4a93"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	n := c.Value[0]
	fmt.Println(n.LifecycleEvent, n.IsLifecycle())
	fmt.Println(n.TenantID) // filled from organizationId, as Graph was seen to send
	fmt.Println(n.SubscriptionExpirationDateTime.UTC())
	// Output:
	// missed true
	// 9f4ebab6-520d-49c0-85cc-7b25c78d4a93
	// 2021-02-02 18:30:34.9097561 +0000 UTC
}

// loadKey reads a PKCS#8 PEM private key, as an app loads its certificate's key.
func loadKey(path string) *rsa.PrivateKey {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		log.Fatalf("%s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}
