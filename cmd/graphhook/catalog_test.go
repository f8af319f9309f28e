package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/graphclient"
)

// realApps is a fixture whose apps hold permissions real app registrations use,
// beyond what graphhook's own resources need.
const realApps = `tenants:
  - id: 7a1c2d3e-0000-4000-8000-000000000001
    domain: fabrikam.onmicrosoft.com
    displayName: Fabrikam
    apps:
      - clientId: 71111111-0000-4000-8000-000000000001
        clientSecret: migrate-secret
        displayName: Migration tool
        applicationPermissions: [TeamMember.ReadWrite.All, Teamwork.Migrate.All, User.Read.All]
      - clientId: 71111111-0000-4000-8000-000000000002
        displayName: Chat CLI
        publicClient: true
        delegatedPermissions: [Chat.ReadBasic, User.Read]
    users:
      - id: 72222222-0000-4000-8000-000000000001
        userPrincipalName: lee@fabrikam.onmicrosoft.com
        password: Passw0rd!
        displayName: Lee
`

// TestServeRealPermissionNames starts the binary with a fixture naming permissions
// from Microsoft's whole catalog; the app's token carries them in Entra's casing. A
// misspelt name, or one that does not exist for its permission type, stops the start
// with a suggestion.
func TestServeRealPermissionNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fixture := filepath.Join(dir, "fabrikam.yaml")
	os.WriteFile(fixture, []byte(realApps), 0o644)
	p := start(t, nil, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--fixture", fixture)
	m := listeningRE.FindStringSubmatch(p.line(t))
	if m == nil {
		t.Fatal("no listening line")
	}
	tok := tokenFrom(t, graphclient.TokenEndpoint(m[1], "fabrikam.onmicrosoft.com"),
		graphclient.ClientCredentials("71111111-0000-4000-8000-000000000001", "migrate-secret"))
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Roles []string `json:"roles"`
	}
	json.Unmarshal(payload, &claims)
	slices.Sort(claims.Roles)
	if want := []string{"TeamMember.ReadWrite.All", "Teamwork.Migrate.All", "User.Read.All"}; !slices.Equal(claims.Roles, want) {
		t.Errorf("token roles = %v, want %v", claims.Roles, want)
	}

	for _, tt := range []struct{ from, to, want string }{
		{"Teamwork.Migrate.All", "Teamwork.Migrat.All", `unknown Graph permission "Teamwork.Migrat.All" (did you mean "Teamwork.Migrate.All"?)`},
		{"Teamwork.Migrate.All, User.Read.All", "Teamwork.Migrate.All, User.Read.All, Chat.ReadBasic", `permission "Chat.ReadBasic" exists only as a delegated`},
	} {
		bad := filepath.Join(dir, "bad.yaml")
		os.WriteFile(bad, []byte(strings.Replace(realApps, tt.from, tt.to, 1)), 0o644)
		// A fixture that loads would serve for ever: a minute is the bound.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, binary(t), "serve", "--addr", "127.0.0.1:0", "--https-addr", "off", "--data", t.TempDir(), "--fixture", bad).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.want) {
			t.Errorf("serve with %s: err %v, output %q, want a failure saying %q", tt.to, err, out, tt.want)
		}
	}
}
