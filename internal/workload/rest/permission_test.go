package rest

import (
	"testing"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
)

func TestPermissionsCheck(t *testing.T) {
	teams := Permissions{Personal: "No Teams here.", Delegated: []string{"Chat.Read"}, Application: []string{"Chat.Read.All"}}
	appOnly := Permissions{Application: []string{"CallRecords.Read.All"}, NoDelegated: "Applications only."}
	delegatedOnly := Permissions{Delegated: []string{"Chat.ReadWrite"}}
	app := func(perms ...string) *identity.Principal {
		return &identity.Principal{Type: identity.Application, Permissions: perms}
	}
	work := func(perms ...string) *identity.Principal {
		return &identity.Principal{Type: identity.DelegatedWork, Permissions: perms}
	}
	personal := &identity.Principal{Type: identity.DelegatedPersonal, Permissions: []string{"Chat.Read"}}
	tests := []struct {
		name string
		ps   Permissions
		p    *identity.Principal
		want string // "" when allowed
	}{
		{"app with role", teams, app("chat.read.all"), ""},
		{"delegated with scope", teams, work("Chat.Read"), ""},
		{"app without role", teams, app("Mail.Read", "Chat.Create"),
			"Missing role permissions on the request. API requires one of 'Chat.Read.All'. Roles on the request 'Chat.Create, Mail.Read'."},
		{"delegated without scope", teams, work(),
			"Missing scope permissions on the request. API requires one of 'Chat.Read'. Scopes on the request ''."},
		{"personal refused", teams, personal, "No Teams here."},
		{"personal as delegated", delegatedOnly, &identity.Principal{Type: identity.DelegatedPersonal, Permissions: []string{"Chat.ReadWrite"}}, ""},
		{"delegated on app-only", appOnly, work("CallRecords.Read.All"), "Applications only."},
		{"app on delegated-only", delegatedOnly, app("Chat.ReadWrite"), "Requested API is not supported in application-only context."},
		{"delegated, generic text", Permissions{Application: []string{"X"}}, work("X"), "This operation is not supported with delegated permissions."},
	}
	for _, tt := range tests {
		err := tt.ps.Check(tt.p)
		if allowed := tt.ps.Allows(tt.p); allowed != (tt.want == "") {
			t.Errorf("%s: Allows = %v, want %v", tt.name, allowed, tt.want == "")
		}
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: Check = %v, want nil", tt.name, err)
			}
			continue
		}
		ge, ok := graph.AsError(err)
		if !ok || ge.Status != 403 || ge.Code != "Forbidden" || ge.Message != tt.want {
			t.Errorf("%s: Check = %v, want 403 Forbidden %q", tt.name, err, tt.want)
		}
	}
}
