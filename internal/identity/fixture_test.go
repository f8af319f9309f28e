package identity_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/identity"
)

func TestExampleFixtureParses(t *testing.T) {
	f, err := os.Open("../../examples/fixture.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fx, err := identity.ParseFixture(f, "examples/fixture.yaml")
	if err != nil {
		t.Fatalf("ParseFixture(examples/fixture.yaml) = %v", err)
	}
	if len(fx.Tenants) != 1 || len(fx.Tenants[0].Users) < 5 || len(fx.Tenants[0].Groups) != 2 || len(fx.PersonalAccounts) != 1 || len(fx.Tenants[0].Apps) != 3 {
		t.Fatalf("example fixture: %d tenants, users/groups/apps not as documented", len(fx.Tenants))
	}
	demo := identity.DemoFixture()
	if len(demo.Tenants[0].Users) != len(fx.Tenants[0].Users) {
		t.Errorf("the example and the demo fixture differ")
	}
}

const goodFixture = `tenants:
  - id: 6f1c2d3e-0000-4000-8000-000000000001
    domain: contoso.onmicrosoft.com
    displayName: Contoso
    apps:
      - clientId: 11111111-0000-4000-8000-000000000001
        clientSecret: s3cret-app
        displayName: Notifier
        applicationPermissions: [User.Read.All, Mail.Read]
        delegatedPermissions: [Mail.Read, User.Read]
    users:
      - id: 22222222-0000-4000-8000-000000000001
        userPrincipalName: adele@contoso.onmicrosoft.com
        password: Passw0rd!
        displayName: Adele Vance
        mail: adele@contoso.onmicrosoft.com
    groups:
      - id: 33333333-0000-4000-8000-000000000001
        displayName: Sales
        groupTypes: [Unified]
        members: [22222222-0000-4000-8000-000000000001]
        owners: [22222222-0000-4000-8000-000000000001]
personalAccounts:
  - id: 44444444-0000-4000-8000-000000000001
    userPrincipalName: sam@outlook.com
    password: Passw0rd!
    displayName: Sam
`

func TestParseFixtureErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		line     int
		key      string
		msg      string
	}{
		{"unknown key", "    displayName: Contoso\n", "    displayName: Contoso\n    region: eu\n", 5, "region", "unknown key"},
		{"misspelt user key", "        mail: adele", "        email: adele", 16, "email", "unknown key"},
		{"bad tenant id", "6f1c2d3e-0000-4000-8000-000000000001", "contoso", 2, "id", "not a GUID"},
		{"unknown permission", "[User.Read.All, Mail.Read]", "[User.Read.All, Mail.Reed]", 9, "applicationPermissions", "unknown Graph permission \"Mail.Reed\""},
		{"member is no user", "members: [22222222-0000-4000-8000-000000000001]", "members: [22222222-0000-4000-8000-000000000009]", 21, "members", "is not a user"},
		{"missing password", "    password: Passw0rd!\n    displayName: Sam\n", "    displayName: Sam\n", 24, "password", "required"},
		{"duplicate upn", "userPrincipalName: sam@outlook.com", "userPrincipalName: adele@contoso.onmicrosoft.com", 25, "userPrincipalName", "used twice"},
		{"personal accounts not a list", "personalAccounts:\n  - id: 44444444-0000-4000-8000-000000000001\n    userPrincipalName: sam@outlook.com\n    password: Passw0rd!\n    displayName: Sam\n", "personalAccounts: sam\n", 23, "personalAccounts", "expected a list"},
		{"bad domain", "domain: contoso.onmicrosoft.com", "domain: contoso", 3, "domain", "not a domain name"},
		{"unknown directory role", "        mail: adele@contoso.onmicrosoft.com\n", "        mail: adele@contoso.onmicrosoft.com\n        directoryRoles: [Global Admin]\n", 17, "directoryRoles", "unknown directory role \"Global Admin\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(goodFixture, tt.old, tt.new, 1)
			if src == goodFixture {
				t.Fatalf("test edit %q did not apply", tt.old)
			}
			_, err := identity.ParseFixture(strings.NewReader(src), "tenants.yaml")
			var fe *identity.FixtureError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFixture = %v, want a *FixtureError", err)
			}
			if fe.File != "tenants.yaml" || fe.Line != tt.line || fe.Key != tt.key || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("ParseFixture = %q, want tenants.yaml:%d: %s: …%s…", err, tt.line, tt.key, tt.msg)
			}
		})
	}
	if _, err := identity.ParseFixture(strings.NewReader(goodFixture), "tenants.yaml"); err != nil {
		t.Fatalf("ParseFixture(good) = %v", err)
	}
	if _, err := identity.ParseFixture(strings.NewReader("tenants: [\n"), "broken.yaml"); err == nil || !strings.Contains(err.Error(), "broken.yaml") {
		t.Errorf("ParseFixture(invalid YAML) = %v, want an error naming the file", err)
	}
}
