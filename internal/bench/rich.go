package bench

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/graphhook/graphhook/internal/certgen"
	"github.com/graphhook/graphhook/internal/graphclient"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/receiver"
)

const (
	// richCertID and richClientState are the rich scenario's encryptionCertificateId
	// and clientState.
	richCertID      = "graphhook-bench"
	richClientState = "graphhook-bench-rich"
)

// chatBody is a chat message of a few sentences, so that what is encrypted is the
// size of a typical chatMessage (about 1 KB with its properties).
var chatBody = json.RawMessage(`{"body":{"contentType":"html","content":"<p>Hello team, the quarterly numbers are in. ` +
	`Please review the attached deck before Thursday's meeting and add your comments inline. Thanks!</p>"}}`)

// setUpRich sets up the rich scenario: an RSA-2048 certificate made as an app makes
// it, a chat created through the Teams API, the receiver holding the private key,
// and len(urls) subscriptions on the chat's messages. The first subscription goes
// through the API, so that the handshake, the certificate checks and the stored form
// are the real ones; on a server bench started the others are copies of its row made
// straight in the store, since Graph allows one per app per chat. It returns the
// change: a message posted in the chat by Adele.
func setUpRich(ctx context.Context, srv *Server, base string, hc *http.Client, app *graphclient.Client, recv *loopback, urls []string) (changeFunc, error) {
	cert, err := certgen.New(certgen.Options{CommonName: richCertID})
	if err != nil {
		return nil, err
	}
	t := demoTenant()
	member := func(u identity.FixtureUser) map[string]any {
		return map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": []string{"owner"},
			"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + u.ID + "')"}
	}
	var chat struct {
		ID string `json:"id"`
	}
	if err := app.Do(ctx, http.MethodPost, "/v1.0/chats", map[string]any{"chatType": "group", "topic": "graphhook bench",
		"members": []any{member(t.Users[0]), member(t.Users[1])}}, &chat); err != nil {
		return nil, fmt.Errorf("creating the chat: %w", err)
	}
	// Chat messages are sent by users, as in Graph: Adele, through the demo
	// delegated app.
	adele := graphclient.New(graphclient.Config{Server: base, Tenant: t.ID, ClientID: t.Apps[1].ClientID, ClientSecret: t.Apps[1].ClientSecret,
		Username: t.Users[0].UserPrincipalName, Password: t.Users[0].Password, HTTP: hc})
	if _, err := adele.AccessToken(ctx); err != nil {
		return nil, err
	}
	recv.rich, err = receiver.NewHandler(receiver.Config{
		// Unused: the receiver calls Verify itself to count refusals.
		OnNotifications: func(context.Context, []receiver.Notification) error { return nil },
		ClientState:     richClientState,
		DecryptionKeys:  map[string]*rsa.PrivateKey{richCertID: cert.Key},
		AppIDs:          []string{t.Apps[0].ClientID},
		JWKSURL:         base + "/" + t.ID + "/discovery/v2.0/keys",
		Logger:          slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	var sub struct {
		ID string `json:"id"`
	}
	if err := app.Do(ctx, http.MethodPost, "/v1.0/subscriptions", map[string]any{"changeType": "created", "notificationUrl": urls[0],
		"resource": "/chats/" + chat.ID + "/messages", "expirationDateTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"clientState": richClientState, "includeResourceData": true, "encryptionCertificate": cert.Base64(), "encryptionCertificateId": richCertID}, &sub); err != nil {
		return nil, fmt.Errorf("creating the rich subscription: %w", err)
	}
	if len(urls) > 1 {
		if err := copySubscription(ctx, srv, sub.ID, urls[1:]); err != nil {
			return nil, err
		}
	}
	path := "/v1.0/chats/" + url.PathEscape(chat.ID) + "/messages"
	return func(ctx context.Context) (string, time.Time, error) {
		return post(ctx, adele, path, chatBody)
	}, nil
}
