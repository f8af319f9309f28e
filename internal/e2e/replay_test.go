package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	poll "github.com/graphhook/graphhook/internal/wait"
	"github.com/graphhook/graphhook/receiver"
)

// TestReplayRichReencrypts replays a rich notification through the admin API after
// the subscription's certificate was rotated by PATCH: the replay arrives encrypted
// for the new certificate, under validation tokens the receiver package accepts,
// and decrypts to what the original carried.
func TestReplayRichReencrypts(t *testing.T) {
	const adminKey = "e2e-admin-key"
	s := startServer(t, "--admin-key", adminKey)
	app := s.appToken(t)
	adeleTok := s.userToken(t, adeleUPN)
	chat := s.mustCall(t, app, "POST", "/v1.0/chats", map[string]any{
		"chatType": "group", "topic": "Replay chat", "members": []any{member(adele), member(bruno)},
	}, http.StatusCreated).object(t)
	chatID, _ := chat["id"].(string)

	certA, certB := newCertificate(t, "replay-cert-a"), newCertificate(t, "replay-cert-b")
	const clientState = "e2e-replay-secret"
	in := newInbox(t, s, clientState, certA, certB)
	sub := s.mustCall(t, app, "POST", "/v1.0/subscriptions", map[string]any{
		"changeType": "created", "notificationUrl": in.URL, "resource": "/chats/" + chatID + "/messages",
		"expirationDateTime": expiry(55 * time.Minute), "clientState": clientState,
		"includeResourceData": true, "encryptionCertificate": certA.Base64, "encryptionCertificateId": certA.ID,
	}, http.StatusCreated).object(t)
	subID, _ := sub["id"].(string)
	msg := s.mustCall(t, adeleTok, "POST", "/v1.0/chats/"+chatID+"/messages",
		map[string]any{"body": map[string]any{"contentType": "text", "content": "replay me"}}, http.StatusCreated).object(t)
	msgID, _ := msg["id"].(string)
	encryptedFor := func(c certificate) func(receiver.Notification) bool {
		return func(n receiver.Notification) bool {
			return aboutMessage(subID, msgID)(n) && n.EncryptedContent != nil && n.EncryptedContent.EncryptionCertificateID == c.ID
		}
	}
	original := in.waitFor(t, "the original notification", encryptedFor(certA))

	s.mustCall(t, app, "PATCH", "/v1.0/subscriptions/"+subID, map[string]any{
		"expirationDateTime": expiry(55 * time.Minute), "encryptionCertificate": certB.Base64, "encryptionCertificateId": certB.ID,
	}, http.StatusOK)
	var log struct {
		Value []struct {
			ID      string         `json:"id"`
			State   string         `json:"state"`
			Payload map[string]any `json:"payload"`
		} `json:"value"`
	}
	// The acker records the outcome just after the receiver answered; nothing in
	// another process signals it, so the log is polled.
	poll.Poll(wait, func() bool {
		r := s.mustCall(t, adminKey, "GET", "/_graphhook/deliveries?state=delivered&subscriptionId="+subID, nil, http.StatusOK)
		return json.Unmarshal(r.Body, &log) == nil && len(log.Value) == 1
	})
	if len(log.Value) != 1 || log.Value[0].Payload["rich"] != true || log.Value[0].Payload["encryptedContent"] != nil {
		t.Fatalf("delivery log of the subscription = %+v, want one delivered rich row without its encrypted content", log.Value)
	}
	s.mustCall(t, adminKey, "POST", "/_graphhook/deliveries/"+log.Value[0].ID+"/replay", nil, http.StatusAccepted)
	replayed := in.waitFor(t, "the replay, encrypted for the new certificate", encryptedFor(certB))
	if ec := replayed.EncryptedContent; ec.EncryptionCertificateThumbprint != thumbprint(certB) {
		t.Errorf("replay encrypted for thumbprint %s, want %s", ec.EncryptionCertificateThumbprint, thumbprint(certB))
	}
	var a, b map[string]any
	if err := json.Unmarshal(original.Data, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(replayed.Data, &b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("replayed data differs from the original (-original +replay):\n%s", diff)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	last := in.batches[len(in.batches)-1]
	if len(last.ValidationTokens) != 1 {
		t.Errorf("replay batch carries %d validation tokens, want 1", len(last.ValidationTokens))
	}
}
