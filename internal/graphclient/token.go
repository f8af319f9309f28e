// Package graphclient is a small client of a Graph API server such as graphhook: it
// gets an access token from the server's token endpoint (client credentials for an
// app, the password grant for a user), keeps it until it nears expiry, and makes JSON
// calls whose Graph error envelopes come back as *Error. `graphhook listen`, `graphhook
// bench` and the end-to-end tests use it instead of each posting token forms by hand.
package graphclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GraphScope is the scope of a token for every permission the app was granted.
const GraphScope = "https://graph.microsoft.com/.default"

// Token is a token endpoint's successful answer.
type Token struct {
	AccessToken string
	// ExpiresIn is the token's lifetime as the endpoint stated it.
	ExpiresIn time.Duration
}

// TokenEndpoint is the OAuth 2.0 token endpoint of tenant (an id, a domain,
// "common" or "consumers") on the server at base.
func TokenEndpoint(base, tenant string) string {
	return strings.TrimRight(base, "/") + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/token"
}

// FetchToken posts form to the token endpoint and returns the token it answers. A
// refusal is an error naming the endpoint, the status and the OAuth error code and
// description, as a user needs them to fix their credentials.
func FetchToken(ctx context.Context, hc *http.Client, endpoint string, form url.Values) (*Token, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get a token: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("get a token from %s: %d, unreadable answer: %w", endpoint, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		return nil, fmt.Errorf("get a token from %s: %d %s: %s", endpoint, resp.StatusCode, body.Error, body.Description)
	}
	return &Token{AccessToken: body.AccessToken, ExpiresIn: time.Duration(body.ExpiresIn) * time.Second}, nil
}

// ClientCredentials is the form of an application token request.
func ClientCredentials(clientID, secret string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {GraphScope}}
}

// Password is the form of a delegated token request signing username in through
// the app clientID; a public client has no secret.
func Password(clientID, secret, username, password string) url.Values {
	form := url.Values{"grant_type": {"password"}, "client_id": {clientID}, "client_secret": {secret},
		"username": {username}, "password": {password}, "scope": {GraphScope}}
	if secret == "" {
		form.Del("client_secret")
	}
	return form
}
