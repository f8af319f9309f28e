package e2e

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/receiver"
)

// inbox is an app's notification endpoint: the receiver package behind a loopback
// HTTP server, keeping every accepted notification and every raw batch.
type inbox struct {
	URL  string
	logs *syncBuffer

	mu      sync.Mutex
	got     []receiver.Notification
	batches []receiver.Collection
	arrived chan struct{}
}

func newInbox(t *testing.T, s *server, clientState string, certs ...certificate) *inbox {
	t.Helper()
	in := &inbox{logs: &syncBuffer{}, arrived: make(chan struct{}, 1)}
	keys := map[string]*rsa.PrivateKey{}
	for _, c := range certs {
		keys[c.ID] = c.Key
	}
	h, err := receiver.NewHandler(receiver.Config{
		OnNotifications: in.accept,
		ClientState:     clientState,
		DecryptionKeys:  keys,
		AppIDs:          []string{appID},
		JWKSURL:         s.URL + "/" + tenant + "/discovery/v2.0/keys",
		Logger:          slog.New(slog.NewTextHandler(in.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("validationToken") {
			h.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if c, err := receiver.ParseCollection(bytes.NewReader(body)); err == nil {
			in.mu.Lock()
			in.batches = append(in.batches, *c)
			in.mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	in.URL = srv.URL + "/notifications"
	return in
}

func (in *inbox) accept(ctx context.Context, batch []receiver.Notification) error {
	in.mu.Lock()
	in.got = append(in.got, batch...)
	in.mu.Unlock()
	select {
	case in.arrived <- struct{}{}:
	default:
	}
	return nil
}

// waitFor returns the first accepted notification that matches, failing after wait
// with what in the message.
func (in *inbox) waitFor(t *testing.T, what string, match func(receiver.Notification) bool) receiver.Notification {
	t.Helper()
	deadline := time.After(wait)
	for {
		in.mu.Lock()
		for _, n := range in.got {
			if match(n) {
				in.mu.Unlock()
				return n
			}
		}
		in.mu.Unlock()
		select {
		case <-in.arrived:
		case <-deadline:
			in.mu.Lock()
			n := len(in.got)
			in.mu.Unlock()
			t.Fatalf("no notification for %s within %v (%d others arrived); receiver log:\n%s", what, wait, n, in.logs)
		}
	}
}

// aboutMessage matches the notification of a message by its id at the end of the
// resource path, …/messages('{id}'), compared without case as Graph's paths vary in it.
func aboutMessage(subID, msgID string) func(receiver.Notification) bool {
	return func(n receiver.Notification) bool {
		return n.SubscriptionID == subID && strings.HasSuffix(strings.ToLower(n.Resource), "/messages('"+strings.ToLower(msgID)+"')")
	}
}

func thumbprint(c certificate) string {
	sum := sha1.Sum(c.Cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// TestRichChatMessageNotifications is issue 7's proof: chat and channel messages
// posted through the Teams API arrive at an app's receiver as rich notifications,
// with validation tokens that verify against graphhook's JWKS, decrypted to exactly
// what GET returns; and a certificate PATCHed onto a subscription encrypts the next
// notification.
func TestRichChatMessageNotifications(t *testing.T) {
	s := startServer(t)
	app := s.appToken(t)
	adeleTok := s.userToken(t, adeleUPN)

	// A team on the Sales group (Adele and Bruno), a channel in it, and a chat.
	team := createTeam(t, s, app)
	channel := s.mustCall(t, app, "POST", "/v1.0/teams/"+team+"/channels", map[string]any{
		"displayName": "Launch", "description": "rich notifications end to end", "membershipType": "standard"}, http.StatusCreated).object(t)
	channelID, _ := channel["id"].(string)
	chat := s.mustCall(t, app, "POST", "/v1.0/chats", map[string]any{
		"chatType": "group", "topic": "Launch chat",
		"members": []any{member(adele), member(bruno)},
	}, http.StatusCreated).object(t)
	chatID, _ := chat["id"].(string)
	if channelID == "" || chatID == "" {
		t.Fatalf("channel %v, chat %v: want ids", channel, chat)
	}

	certA, certB := newCertificate(t, "e2e-cert-a"), newCertificate(t, "e2e-cert-b")
	const clientState = "e2e-rich-secret"
	// The app holds both keys, as during a rotation: which one decrypts is decided by
	// encryptionCertificateId alone.
	in := newInbox(t, s, clientState, certA, certB)
	subscribe := func(resource string) string {
		t.Helper()
		sub := s.mustCall(t, app, "POST", "/v1.0/subscriptions", map[string]any{
			"changeType": "created,updated", "notificationUrl": in.URL, "resource": resource,
			"expirationDateTime": expiry(55 * time.Minute), "clientState": clientState,
			"includeResourceData": true, "encryptionCertificate": certA.Base64, "encryptionCertificateId": certA.ID,
		}, http.StatusCreated).object(t)
		if sub["includeResourceData"] != true || sub["encryptionCertificateId"] != certA.ID {
			t.Errorf("POST subscription on %s = %v, want includeResourceData true and encryptionCertificateId %s", resource, sub, certA.ID)
		}
		id, _ := sub["id"].(string)
		return id
	}
	channelSub := subscribe("/teams/" + team + "/channels/" + channelID + "/messages")
	chatSub := subscribe("/chats/" + chatID + "/messages")

	post := func(path, text string) string {
		t.Helper()
		msg := s.mustCall(t, adeleTok, "POST", path, map[string]any{"body": map[string]any{"contentType": "text", "content": text}}, http.StatusCreated).object(t)
		id, _ := msg["id"].(string)
		return id
	}
	// check asserts one notification: its envelope, its certificate, and that its
	// decrypted resource is what GET returns.
	check := func(name string, n receiver.Notification, subID, getPath string, cert certificate) {
		t.Helper()
		if n.ChangeType != "created" || n.ClientState != clientState || n.TenantID != tenant || n.SubscriptionID != subID {
			t.Errorf("%s: notification %+v, want created for subscription %s in tenant %s with the clientState", name, n.ChangeNotification, subID, tenant)
		}
		ec := n.EncryptedContent
		if ec == nil || n.Data == nil {
			t.Fatalf("%s: notification without decrypted content: %+v", name, n.ChangeNotification)
		}
		if ec.EncryptionCertificateID != cert.ID || ec.EncryptionCertificateThumbprint != thumbprint(cert) {
			t.Errorf("%s: encrypted for %s (%s), want %s (%s)", name, ec.EncryptionCertificateID, ec.EncryptionCertificateThumbprint, cert.ID, thumbprint(cert))
		}
		var data map[string]any
		if err := json.Unmarshal(n.Data, &data); err != nil {
			t.Fatalf("%s: decrypted data %q is not a JSON object: %v", name, n.Data, err)
		}
		got := s.mustCall(t, app, "GET", getPath, nil, http.StatusOK).object(t)
		// Equal to the byte, @odata.context included: Graph's decrypted chatMessage
		// carries it too.
		if diff := cmp.Diff(got, data); diff != "" {
			t.Errorf("%s: decrypted data differs from GET %s (-GET +decrypted):\n%s", name, getPath, diff)
		}
	}

	chatMsg := post("/v1.0/chats/"+chatID+"/messages", "hello chat")
	channelMsg := post("/v1.0/teams/"+team+"/channels/"+channelID+"/messages", "hello channel")
	check("chat message", in.waitFor(t, "chat message "+chatMsg, aboutMessage(chatSub, chatMsg)), chatSub,
		"/v1.0/chats/"+chatID+"/messages/"+chatMsg, certA)
	check("channel message", in.waitFor(t, "channel message "+channelMsg, aboutMessage(channelSub, channelMsg)), channelSub,
		"/v1.0/teams/"+team+"/channels/"+channelID+"/messages/"+channelMsg, certA)

	// Rotation: the next notification is encrypted for the new certificate.
	rotated := s.mustCall(t, app, "PATCH", "/v1.0/subscriptions/"+chatSub, map[string]any{
		"expirationDateTime": expiry(55 * time.Minute), "encryptionCertificate": certB.Base64, "encryptionCertificateId": certB.ID,
	}, http.StatusOK).object(t)
	if rotated["encryptionCertificateId"] != certB.ID {
		t.Errorf("PATCH certificate: encryptionCertificateId = %v, want %s", rotated["encryptionCertificateId"], certB.ID)
	}
	afterMsg := post("/v1.0/chats/"+chatID+"/messages", "after rotation")
	check("chat message after rotation", in.waitFor(t, "chat message "+afterMsg, aboutMessage(chatSub, afterMsg)), chatSub,
		"/v1.0/chats/"+chatID+"/messages/"+afterMsg, certB)

	// Every batch carried one validation token (one app, one tenant), and none was
	// refused: a refusal would have been retried and logged.
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, b := range in.batches {
		if len(b.ValidationTokens) != 1 {
			t.Errorf("batch %d carries %d validation tokens, want 1 (one app in one tenant)", i, len(b.ValidationTokens))
		}
	}
	if logs := in.logs.String(); strings.Contains(logs, "refused") {
		t.Errorf("the receiver refused batches:\n%s", logs)
	}
}

// member is a chat member binding for a user, as Graph's create-chat body has it.
func member(userID string) map[string]any {
	return map[string]any{
		"@odata.type":     "#microsoft.graph.aadUserConversationMember",
		"roles":           []string{"owner"},
		"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + userID + "')",
	}
}

// createTeam makes a team of the Sales group and returns its id.
func createTeam(t *testing.T, s *server, token string) string {
	t.Helper()
	r := s.mustCall(t, token, "PUT", "/v1.0/groups/"+salesGroup+"/team", map[string]any{}, http.StatusCreated)
	id, _ := r.object(t)["id"].(string)
	if id == "" {
		t.Fatalf("PUT team = %s, want an id", r.Body)
	}
	return id
}
