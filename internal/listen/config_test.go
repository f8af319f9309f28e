package listen

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func validConfig() Config {
	return Config{Server: "http://127.0.0.1:8787", Tenant: DemoTenant, ListenAddr: "127.0.0.1:0",
		Resource: "/users", ChangeType: "updated", Expiration: time.Hour}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // "" for a valid config
	}{
		{"valid", func(c *Config) {}, ""},
		{"all change types, any case", func(c *Config) { c.ChangeType = "Created, updated,DELETED" }, ""},
		{"delegated", func(c *Config) { c.Username, c.Password = "adele@contoso.onmicrosoft.com", "x" }, ""},
		{"delegated public client", func(c *Config) { c.Username, c.Password, c.ClientID = "a", "b", "app" }, ""},
		{"client state at the limit", func(c *Config) { c.ClientState = strings.Repeat("s", 128) }, ""},
		{"client state over the limit", func(c *Config) { c.ClientState = strings.Repeat("s", 129) }, "--client-state is 129 characters; Graph allows at most 128"},
		{"no resource", func(c *Config) { c.Resource = "" }, "--resource is required"},
		{"no change type", func(c *Config) { c.ChangeType = "" }, "--change-type is required"},
		{"bad change type", func(c *Config) { c.ChangeType = "created,moved" }, `--change-type "moved": each value must be created, updated or deleted`},
		{"empty change type item", func(c *Config) { c.ChangeType = "created," }, `--change-type "": each value`},
		{"relative server", func(c *Config) { c.Server = "localhost:8787" }, "--server must be an absolute http(s) URL"},
		{"ftp forward", func(c *Config) { c.ForwardTo = "ftp://x/y" }, "--forward-to must be an absolute http(s) URL"},
		{"zero expiration", func(c *Config) { c.Expiration = 0 }, "--expiration must be positive"},
		{"username alone", func(c *Config) { c.Username = "a" }, "--username and --password go together"},
		{"password alone", func(c *Config) { c.Password = "a" }, "--username and --password go together"},
		{"client id without secret", func(c *Config) { c.ClientID = "app" }, "--client-secret is required with --client-id"},
		{"secret without client id", func(c *Config) { c.ClientSecret = "s" }, "--client-secret needs --client-id"},
		{"delegated secret without client id", func(c *Config) { c.Username, c.Password, c.ClientSecret = "a", "b", "s" }, "--client-secret needs --client-id"},
		{"no tenant", func(c *Config) { c.Tenant = "" }, "--tenant must not be empty"},
		{"key out with rich data", func(c *Config) { c.IncludeResourceData, c.KeyOut = true, "k.pem" }, ""},
		{"key out without rich data", func(c *Config) { c.KeyOut = "k.pem" }, "--key-out writes the key of --include-resource-data's throwaway certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestListenDefaults(t *testing.T) {
	tests := []struct {
		username, clientID    string
		wantID, wantSecret    string
		explicitSecret        string
		wantStateLen          int
		explicitState, wantSt string
	}{
		{wantID: demoAppID, wantSecret: demoAppSecret, wantStateLen: 32},
		{username: "adele@contoso.onmicrosoft.com", wantID: demoDelegatedAppID, wantSecret: demoDelegatedSecret, wantStateLen: 32},
		{clientID: "mine", explicitSecret: "s", wantID: "mine", wantSecret: "s", explicitState: "st", wantSt: "st", wantStateLen: 2},
	}
	for _, tt := range tests {
		c := validConfig()
		c.Server = "http://h:1/"
		c.Username, c.ClientID, c.ClientSecret, c.ClientState = tt.username, tt.clientID, tt.explicitSecret, tt.explicitState
		c.fillDefaults()
		if c.ClientID != tt.wantID || c.ClientSecret != tt.wantSecret {
			t.Errorf("fillDefaults(username %q, client %q) app = %s/%s, want %s/%s", tt.username, tt.clientID, c.ClientID, c.ClientSecret, tt.wantID, tt.wantSecret)
		}
		if len(c.ClientState) != tt.wantStateLen || (tt.wantSt != "" && c.ClientState != tt.wantSt) {
			t.Errorf("fillDefaults() clientState = %q, want %d characters", c.ClientState, tt.wantStateLen)
		}
		if c.Server != "http://h:1" {
			t.Errorf("fillDefaults() server = %q, want the trailing slash trimmed", c.Server)
		}
	}
}

func TestRenewDelay(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		left, want time.Duration
	}{
		{60 * time.Minute, 45 * time.Minute},     // a quarter of an hour's margin
		{4320 * time.Minute, 4305 * time.Minute}, // margin capped at 15 minutes
		{2 * time.Minute, time.Minute},           // margin at least one minute
		{time.Minute, 0},
		{30 * time.Second, 0},
		{-time.Minute, 0}, // already expired: renew at once
	}
	for _, tt := range tests {
		if got := renewDelay(now, now.Add(tt.left)); got != tt.want {
			t.Errorf("renewDelay(now, now+%v) = %v, want %v", tt.left, got, tt.want)
		}
	}
}

func TestThrowawayCertificate(t *testing.T) {
	now := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	key, b64, err := throwawayCertificate(now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("encryptionCertificate is not standard base64: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.PublicKey.(*rsa.PublicKey).Equal(&key.PublicKey) {
		t.Error("certificate does not hold the generated key")
	}
	if !cert.NotBefore.Before(now) || !cert.NotAfter.After(now.Add(30*24*time.Hour)) {
		t.Errorf("certificate valid %v to %v, want it to cover a month from %v", cert.NotBefore, cert.NotAfter, now)
	}
}

// TestListenTokenGrants checks the token requests: client credentials for an app,
// the password grant for a user, each with the demo app that fits by default, and a
// token reused until it nears expiry.
func TestListenTokenGrants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		username, password string
		want               url.Values
	}{
		{"application", "", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {demoAppID}, "client_secret": {demoAppSecret},
			"scope": {"https://graph.microsoft.com/.default"}}},
		{"delegated", "adele@contoso.onmicrosoft.com", "Passw0rd!", url.Values{"grant_type": {"password"}, "client_id": {demoDelegatedAppID},
			"client_secret": {demoDelegatedSecret}, "username": {"adele@contoso.onmicrosoft.com"}, "password": {"Passw0rd!"},
			"scope": {"https://graph.microsoft.com/.default"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var forms []url.Values
			var paths []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				forms, paths = append(forms, r.PostForm), append(paths, r.URL.Path)
				io.WriteString(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"t1"}`)
			}))
			defer srv.Close()
			cfg := validConfig()
			cfg.Server, cfg.Tenant, cfg.Username, cfg.Password = srv.URL, "contoso.onmicrosoft.com", tt.username, tt.password
			cfg.fillDefaults()
			l, err := newListener(cfg, io.Discard, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if tok, err := l.client.AccessToken(context.Background()); err != nil || tok != "t1" {
					t.Fatalf("AccessToken() = %q, %v; want t1", tok, err)
				}
			}
			if len(forms) != 1 {
				t.Fatalf("%d token requests for two calls, want 1 (cached)", len(forms))
			}
			if paths[0] != "/contoso.onmicrosoft.com/oauth2/v2.0/token" {
				t.Errorf("token endpoint = %s, want /contoso.onmicrosoft.com/oauth2/v2.0/token", paths[0])
			}
			if diff := cmp.Diff(tt.want, forms[0]); diff != "" {
				t.Errorf("token form (-want +got):\n%s", diff)
			}
		})
	}
}

// TestListenKeyOut checks that --key-out writes the private key of exactly the
// certificate listen subscribes with, so a --forward-to app can decrypt.
func TestListenKeyOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "listen.pem")
	cfg := validConfig()
	cfg.IncludeResourceData, cfg.KeyOut = true, path
	cfg.fillDefaults()
	var out bytes.Buffer
	l, err := newListener(cfg, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("--key-out file: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("--key-out file mode = %v, want 0600", fi.Mode().Perm())
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("--key-out file is not a PEM private key: %q", data)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(l.cert)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if !key.(*rsa.PrivateKey).PublicKey.Equal(cert.PublicKey) {
		t.Error("the written key does not belong to the subscription's certificate")
	}
	if !strings.Contains(out.String(), "written to "+path) {
		t.Errorf("listen printed %q, want a line naming the key file", out.String())
	}
}
