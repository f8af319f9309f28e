// Command receiver is a minimal app that receives graphhook (or Microsoft Graph)
// change notifications and prints them, one JSON line each.
//
// # Usage
//
//	go run ./examples/receiver -client-state secretClientValue
//
// then create a subscription whose notificationUrl (and lifecycleNotificationUrl) is
// http://127.0.0.1:8080/notifications. It listens on loopback only by default; pass
// -addr :8080 to take notifications from other machines. The program answers the
// validation handshake, refuses batches whose clientState differs, and prints the
// rest.
//
// For rich notifications (includeResourceData: true) also pass the private key of the
// certificate given as encryptionCertificate, the encryptionCertificateId, the app id
// the tokens are issued to, and graphhook's JWKS URL:
//
//	go run ./examples/receiver -client-state secretClientValue \
//	    -key app_key.pem -cert-id my-cert \
//	    -app-id 925bff9f-f6e2-4a69-b858-f71ea2b9b6d0 \
//	    -jwks-url https://127.0.0.1:8443/common/discovery/v2.0/keys
//
// Leave -jwks-url out to receive from Microsoft Graph. A key and certificate can be
// made with
//
//	openssl req -x509 -newkey rsa:2048 -nodes -keyout app_key.pem -out cert.pem -days 365 -subj /CN=app
//
// and the certificate sent as encryptionCertificate is the base64 body of cert.pem.
//
// The program answers 202 only after a batch is printed; a real app would store it
// first, and return an error from its callback when it cannot, so that the sender
// retries.
package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/graphhook/graphhook/receiver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (:8080 for every interface)")
	path := flag.String("path", "/notifications", "URL path notifications are posted to")
	clientState := flag.String("client-state", "", "clientState the subscriptions were created with (empty: not checked)")
	keyFile := flag.String("key", "", "PEM private key of the encryption certificate (rich notifications)")
	certID := flag.String("cert-id", "", "encryptionCertificateId the key belongs to")
	appID := flag.String("app-id", "", "app id validation tokens are issued to")
	jwksURL := flag.String("jwks-url", "", "JWKS URL of the sender's token-signing keys (default: Microsoft's)")
	flag.Parse()

	cfg := receiver.Config{
		ClientState:     *clientState,
		JWKSURL:         *jwksURL,
		OnNotifications: printBatch,
	}
	if *keyFile != "" {
		key, err := loadKey(*keyFile)
		if err != nil {
			log.Fatal(err)
		}
		cfg.DecryptionKeys = map[string]*rsa.PrivateKey{*certID: key}
		cfg.AppIDs = []string{*appID}
	}
	h, err := receiver.NewHandler(cfg)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle(*path, h)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Printf("receiving notifications on %s%s", *addr, *path)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// printBatch writes each notification as a JSON line, with the decrypted resource
// of rich notifications under "data".
func printBatch(_ context.Context, batch []receiver.Notification) error {
	enc := json.NewEncoder(os.Stdout)
	for _, n := range batch {
		line := struct {
			receiver.ChangeNotification
			Data json.RawMessage `json:"data,omitempty"`
		}{n.ChangeNotification, n.Data}
		line.EncryptedContent = nil // printed decrypted, as data
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return nil
}

func loadKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: key is %T, not RSA", path, k)
	}
	return rk, nil
}
