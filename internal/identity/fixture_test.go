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

func TestPermissionTable(t *testing.T) {
	// The seed's permission-type table, row by row.
	seed := map[identity.PermissionType][]identity.ResourceType{
		identity.DelegatedWork:     {identity.Alert, identity.Contact, identity.Conversation, identity.DriveItem, identity.List, identity.Event, identity.Group, identity.Message, identity.User},
		identity.DelegatedPersonal: {identity.Contact, identity.DriveItem, identity.List, identity.Event, identity.Message},
		identity.Application:       {identity.Alert, identity.Contact, identity.List, identity.DriveItem, identity.Event, identity.Group, identity.Message, identity.User, identity.CallRecord, identity.ChatMessage},
	}
	all := []identity.ResourceType{identity.Message, identity.Event, identity.Contact, identity.User, identity.Group, identity.Conversation, identity.DriveItem, identity.List, identity.Alert, identity.CallRecord, identity.ChatMessage}
	variants := func(r identity.ResourceType) []string {
		switch r {
		case identity.ChatMessage:
			return []string{identity.VariantChannel, identity.VariantAllChannels, identity.VariantChat, identity.VariantAllChats, identity.VariantUserChats}
		case identity.DriveItem:
			return []string{identity.VariantNone, identity.VariantPersonalDrive}
		}
		return []string{identity.VariantNone}
	}
	for pt, allowed := range seed {
		for _, r := range all {
			want := false
			for _, a := range allowed {
				want = want || a == r
			}
			got := false
			for _, v := range variants(r) {
				_, ok := identity.SubscriptionPermissions(r, v, pt)
				got = got || ok
			}
			if got != want {
				t.Errorf("SubscriptionPermissions(%s, %s) allowed = %v, want %v (seed)", r, pt, got, want)
			}
		}
	}
	p := &identity.Principal{Type: identity.Application, Permissions: []string{"mail.read"}}
	if !identity.CanSubscribe(p, identity.Message, "") {
		t.Error("CanSubscribe(app with mail.read, message) = false; permission names compare case-insensitively")
	}
	if identity.CanSubscribe(p, identity.Event, "") {
		t.Error("CanSubscribe(app with Mail.Read only, event) = true")
	}
}

// Real app registrations name permissions beyond those graphhook's workloads check;
// a fixture mirrors them whole.
func TestFixtureGrantsAnyCatalogPermission(t *testing.T) {
	src := strings.Replace(goodFixture, "applicationPermissions: [User.Read.All, Mail.Read]\n        delegatedPermissions: [Mail.Read, User.Read]",
		"applicationPermissions: [TeamMember.ReadWrite.All, Teamwork.Migrate.All, user.read.all]\n        delegatedPermissions: [Chat.ReadBasic, mail.read]", 1)
	fx, err := identity.ParseFixture(strings.NewReader(src), "tenants.yaml")
	if err != nil {
		t.Fatalf("ParseFixture = %v", err)
	}
	app := fx.Tenants[0].Apps[0]
	if got := strings.Join(app.ApplicationPermissions, " "); got != "TeamMember.ReadWrite.All Teamwork.Migrate.All User.Read.All" {
		t.Errorf("application permissions = %s, want Entra's casing", got)
	}
	if got := strings.Join(app.DelegatedPermissions, " "); got != "Chat.ReadBasic Mail.Read" {
		t.Errorf("delegated permissions = %s, want Entra's casing", got)
	}
	if n := identity.Permissions().Len(); n < 917 {
		t.Errorf("catalog has %d names, want Microsoft's 917 and more", n)
	}
}

func TestFixturePermissionSuggestions(t *testing.T) {
	tests := []struct {
		app, delegated string
		line           int
		key, msg       string
	}{
		{"Mail.Reed", "Mail.Read", 9, "applicationPermissions", `unknown Graph permission "Mail.Reed" (did you mean "Mail.Read"?)`},
		{"TeamMember.ReadWrite.Al", "Mail.Read", 9, "applicationPermissions", `(did you mean "TeamMember.ReadWrite.All"?)`},
		{"Chat.ReadBasic", "Mail.Read", 9, "applicationPermissions", `permission "Chat.ReadBasic" exists only as a delegated permission, not as an application permission`},
		{"Mail.Read", "CallRecords.Read.All", 10, "delegatedPermissions", `permission "CallRecords.Read.All" exists only as an application permission, not as a delegated permission`},
		{"Mail.Read", "Frobnicate.Everything.Now", 10, "delegatedPermissions", `unknown Graph permission "Frobnicate.Everything.Now"`},
	}
	for _, tt := range tests {
		src := strings.Replace(goodFixture, "applicationPermissions: [User.Read.All, Mail.Read]\n        delegatedPermissions: [Mail.Read, User.Read]",
			"applicationPermissions: ["+tt.app+"]\n        delegatedPermissions: ["+tt.delegated+"]", 1)
		_, err := identity.ParseFixture(strings.NewReader(src), "tenants.yaml")
		var fe *identity.FixtureError
		if !errors.As(err, &fe) || fe.Line != tt.line || fe.Key != tt.key || !strings.Contains(fe.Msg, tt.msg) {
			t.Errorf("ParseFixture(%s / %s) = %v, want tenants.yaml:%d: %s: …%s…", tt.app, tt.delegated, err, tt.line, tt.key, tt.msg)
		}
	}
}

func TestFixtureAppsAndConsent(t *testing.T) {
	tests := []struct {
		name, old, new string
		line           int
		key, msg       string
	}{
		{"no secret, not public", "        clientSecret: s3cret-app\n", "", 6, "clientSecret", "publicClient: true"},
		{"bad redirect URI", "        displayName: Notifier\n", "        displayName: Notifier\n        redirectUris: [/relative]\n", 9, "redirectUris", "not an absolute URI"},
		{"consented app not a GUID", "    displayName: Contoso\n", "    displayName: Contoso\n    consentedApps: [my-app]\n", 5, "consentedApps", "not a client id"},
	}
	for _, tt := range tests {
		src := strings.Replace(goodFixture, tt.old, tt.new, 1)
		_, err := identity.ParseFixture(strings.NewReader(src), "tenants.yaml")
		var fe *identity.FixtureError
		if !errors.As(err, &fe) || fe.Line != tt.line || fe.Key != tt.key || !strings.Contains(fe.Msg, tt.msg) {
			t.Errorf("%s: ParseFixture = %v, want tenants.yaml:%d: %s: …%s…", tt.name, err, tt.line, tt.key, tt.msg)
		}
	}
	public := strings.Replace(goodFixture, "        clientSecret: s3cret-app\n", "        publicClient: true\n        redirectUris: [http://localhost]\n", 1)
	if _, err := identity.ParseFixture(strings.NewReader(public), "tenants.yaml"); err != nil {
		t.Errorf("ParseFixture(public client without secret) = %v", err)
	}
}
