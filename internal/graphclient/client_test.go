package graphclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tokenServer answers token requests with t1 and records their forms and paths.
type tokenServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	forms []url.Values
	paths []string
}

func newTokenServer(t *testing.T, graph http.HandlerFunc) *tokenServer {
	t.Helper()
	ts := &tokenServer{}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
			graph(w, r)
			return
		}
		r.ParseForm()
		ts.mu.Lock()
		ts.forms, ts.paths = append(ts.forms, r.PostForm), append(ts.paths, r.URL.Path)
		ts.mu.Unlock()
		if r.PostForm.Get("client_secret") == "wrong" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)
			return
		}
		io.WriteString(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"t1"}`)
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func TestAccessTokenGrants(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want url.Values
	}{
		{"application", Config{ClientID: "app", ClientSecret: "s"},
			url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"s"}, "scope": {GraphScope}}},
		{"delegated", Config{ClientID: "app", ClientSecret: "s", Username: "adele@contoso.onmicrosoft.com", Password: "Passw0rd!"},
			url.Values{"grant_type": {"password"}, "client_id": {"app"}, "client_secret": {"s"}, "username": {"adele@contoso.onmicrosoft.com"},
				"password": {"Passw0rd!"}, "scope": {GraphScope}}},
		{"public client", Config{ClientID: "app", Username: "u", Password: "p"},
			url.Values{"grant_type": {"password"}, "client_id": {"app"}, "username": {"u"}, "password": {"p"}, "scope": {GraphScope}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, nil)
			tt.cfg.Server, tt.cfg.Tenant = ts.srv.URL+"/", "contoso.onmicrosoft.com"
			c := New(tt.cfg)
			for range 2 {
				if tok, err := c.AccessToken(context.Background()); err != nil || tok != "t1" {
					t.Fatalf("AccessToken() = %q, %v; want t1", tok, err)
				}
			}
			if len(ts.forms) != 1 {
				t.Fatalf("%d token requests for two calls, want 1 (cached)", len(ts.forms))
			}
			if ts.paths[0] != "/contoso.onmicrosoft.com/oauth2/v2.0/token" {
				t.Errorf("token endpoint = %s, want /contoso.onmicrosoft.com/oauth2/v2.0/token", ts.paths[0])
			}
			if diff := cmp.Diff(tt.want, ts.forms[0]); diff != "" {
				t.Errorf("token form (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFetchTokenRefused(t *testing.T) {
	ts := newTokenServer(t, nil)
	endpoint := TokenEndpoint(ts.srv.URL, "contoso.onmicrosoft.com")
	_, err := FetchToken(context.Background(), nil, endpoint, ClientCredentials("app", "wrong"))
	want := "get a token from " + endpoint + ": 401 invalid_client: AADSTS7000215: Invalid client secret provided."
	if err == nil || err.Error() != want {
		t.Errorf("FetchToken(wrong secret) = %v, want %q", err, want)
	}
	tok, err := FetchToken(context.Background(), nil, endpoint, ClientCredentials("app", "s"))
	if err != nil || tok.AccessToken != "t1" || tok.ExpiresIn.Seconds() != 3600 {
		t.Errorf("FetchToken() = %+v, %v; want t1 for an hour", tok, err)
	}
}

func TestDo(t *testing.T) {
	var gotBody, gotAuth, gotType string
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody, gotAuth, gotType = string(b), r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		switch r.URL.Path {
		case "/v1.0/ok":
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":"x1"}`)
		case "/v1.0/envelope":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"ResourceNotFound","message":"The object was not found."}}`)
		default:
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "upstream down\n")
		}
	})
	c := New(Config{Server: ts.srv.URL, Tenant: "t", ClientID: "app", ClientSecret: "s"})
	ctx := context.Background()

	var out struct {
		ID string `json:"id"`
	}
	if err := c.Do(ctx, http.MethodPost, "/v1.0/ok", map[string]string{"a": "b"}, &out); err != nil || out.ID != "x1" {
		t.Fatalf("Do(ok) = %v, id %q; want nil, x1", err, out.ID)
	}
	if gotBody != `{"a":"b"}` || gotAuth != "Bearer t1" || gotType != "application/json" {
		t.Errorf("request body %q, Authorization %q, Content-Type %q", gotBody, gotAuth, gotType)
	}
	if err := c.Do(ctx, http.MethodPost, "/v1.0/ok", json.RawMessage(`{ "raw": 1 }`), nil); err != nil || gotBody != `{ "raw": 1 }` {
		t.Errorf("Do(raw) = %v, sent %q; want the raw body unchanged", err, gotBody)
	}
	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodPost, "/v1.0/ok", nil, &raw); err != nil || string(raw) != `{"id":"x1"}` {
		t.Errorf("Do(ok) into a RawMessage = %v, %q; want nil and the answer as it came", err, raw)
	}

	for _, tt := range []struct {
		path string
		want Error
	}{
		{"/v1.0/envelope", Error{Method: "DELETE", Path: "/v1.0/envelope", Status: 404, Code: "ResourceNotFound", Message: "The object was not found."}},
		{"/v1.0/plain", Error{Method: "DELETE", Path: "/v1.0/plain", Status: 502, Code: "Bad Gateway", Message: "upstream down"}},
	} {
		err := c.Do(ctx, http.MethodDelete, tt.path, nil, nil)
		var ge *Error
		if !errors.As(err, &ge) || *ge != tt.want {
			t.Errorf("Do(%s) = %#v, want %#v", tt.path, err, tt.want)
		}
	}
}
