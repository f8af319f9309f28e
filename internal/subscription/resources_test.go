package subscription_test

import (
	"testing"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/callrecords"
	"github.com/graphhook/graphhook/internal/workload/communications"
	"github.com/graphhook/graphhook/internal/workload/conversations"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/files"
	"github.com/graphhook/graphhook/internal/workload/outlook"
	"github.com/graphhook/graphhook/internal/workload/security"
	"github.com/graphhook/graphhook/internal/workload/sites"
	"github.com/graphhook/graphhook/internal/workload/teams"
	"github.com/graphhook/graphhook/internal/workload/todo"
)

// permissionRule is one row of a descriptor's permission table, with its resource.
type permissionRule struct {
	Resource string
	Variant  string
	desc     *resource.Descriptor
}

// permissionRules lists every row of every workload's permission table.
func permissionRules() []permissionRule {
	var out []permissionRule
	ds := testserver.Resources()
	for i := range ds {
		for _, row := range ds[i].Permissions {
			out = append(out, permissionRule{Resource: ds[i].Type, Variant: row.Variant, desc: &ds[i]})
		}
	}
	return out
}

// sinceSeed are the resource types added since the original table; their
// workloads test their permission tables row by row.
func sinceSeed() []string {
	return []string{teams.TeamResource, teams.ChannelResource, teams.ChatResource, teams.MemberResource}
}

// TestPermissionTypeTable checks the workloads' permission tables against
// Microsoft's table of which permission types may subscribe to which resource, row
// by row.
func TestPermissionTypeTable(t *testing.T) {
	catalog, err := resource.NewCatalog(testserver.Resources())
	if err != nil {
		t.Fatal(err)
	}
	table := map[identity.PermissionType][]string{
		identity.DelegatedWork: {security.AlertResource, outlook.ContactResource, conversations.ConversationResource, files.DriveItemResource,
			sites.ListResource, outlook.EventResource, directory.GroupResource, outlook.MessageResource, directory.UserResource,
			teams.ChatMessageResource, todo.TaskResource, communications.PresenceResource},
		identity.DelegatedPersonal: {outlook.ContactResource, files.DriveItemResource, sites.ListResource, outlook.EventResource, outlook.MessageResource,
			todo.TaskResource},
		identity.Application: {security.AlertResource, outlook.ContactResource, sites.ListResource, files.DriveItemResource, outlook.EventResource,
			directory.GroupResource, outlook.MessageResource, directory.UserResource, callrecords.CallRecordResource, teams.ChatMessageResource,
			communications.OnlineMeetingResource, communications.TranscriptResource, communications.RecordingResource},
	}
	all := []string{outlook.MessageResource, outlook.EventResource, outlook.ContactResource, directory.UserResource, directory.GroupResource,
		conversations.ConversationResource, files.DriveItemResource, sites.ListResource, security.AlertResource, callrecords.CallRecordResource,
		teams.ChatMessageResource, todo.TaskResource, communications.PresenceResource, communications.OnlineMeetingResource,
		communications.TranscriptResource, communications.RecordingResource}
	variants := func(r string) []string {
		switch r {
		case communications.TranscriptResource, communications.RecordingResource:
			return []string{communications.VariantTenant, communications.VariantMeeting, communications.VariantUser}
		case teams.ChatMessageResource:
			return []string{teams.VariantChannel, teams.VariantAllChannels, teams.VariantChat, teams.VariantAllChats, teams.VariantUserChats}
		case files.DriveItemResource:
			return []string{"", files.PersonalDriveVariant}
		}
		return []string{""}
	}
	if got := len(catalog.Descriptors()); got != len(all)+len(sinceSeed()) {
		t.Errorf("%d resource types described, want %d", got, len(all)+len(sinceSeed()))
	}
	for pt, allowed := range table {
		for _, r := range all {
			want := false
			for _, a := range allowed {
				want = want || a == r
			}
			d := catalog.Lookup(r)
			if d == nil {
				t.Errorf("Lookup(%s) = nil, want a descriptor", r)
				continue
			}
			got := false
			for _, v := range variants(r) {
				_, ok := d.Names(v, pt)
				got = got || ok
			}
			if got != want {
				t.Errorf("Names(%s, %s) allowed = %v, want %v", r, pt, got, want)
			}
		}
	}
	p := &identity.Principal{Type: identity.Application, Permissions: []string{"mail.read"}}
	if !catalog.Lookup(outlook.MessageResource).CanSubscribe(p, "") {
		t.Error("CanSubscribe(app with mail.read, message) = false; permission names compare case-insensitively")
	}
	if catalog.Lookup(outlook.EventResource).CanSubscribe(p, "") {
		t.Error("CanSubscribe(app with Mail.Read only, event) = true")
	}
}
