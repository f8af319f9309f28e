package subscription_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/subscription"
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

// TestEverySeedPath subscribes to every resource path of graphhook's original resource table,
// in the forms Microsoft's "Create subscription" accepts, with a token the permission table allows, and checks
// the normalised topic each one is stored under.
func TestEverySeedPath(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{})
	app := e.AppToken()
	adele := e.UserToken(testserver.AdeleUPN)
	chen := e.UserToken("chen@contoso.onmicrosoft.com") // a member of Engineering
	sam := e.PersonalToken()
	A, S, G := testserver.Adele, testserver.Sam, testserver.SalesGroup
	inbox := change.WellKnownFolderID(A, "inbox")
	tests := []struct {
		token, resource, changeType string
		typ                         string
		topic                       string
	}{
		// Outlook message.
		{app, "/users/" + A + "/messages", "created,updated,deleted", outlook.MessageResource, change.UserMessages(A)},
		{app, "/users/" + A + "/mailFolders('inbox')/messages", "created", outlook.MessageResource, change.FolderMessages(A, inbox)},
		{adele, "me/mailfolders('Inbox')/messages?$filter=isRead eq false&$select=subject", "updated", outlook.MessageResource, change.FolderMessages(A, inbox)},
		{adele, "/me/MailFolders/" + folderID + "/messages", "updated", outlook.MessageResource, change.FolderMessages(A, folderID)},
		{app, "users('" + testserver.AdeleUPN + "')/mailFolders/drafts/messages", "deleted", outlook.MessageResource, change.FolderMessages(A, change.WellKnownFolderID(A, "drafts"))},
		{sam, "me/messages", "created", outlook.MessageResource, change.UserMessages(S)},
		// Outlook event and contact.
		{app, "/users/" + A + "/events", "created,updated,deleted", outlook.EventResource, change.UserEvents(A)},
		{sam, "/me/events?$filter=isAllDay eq true", "created", outlook.EventResource, change.UserEvents(S)},
		{app, "/users/" + A + "/contacts", "created", outlook.ContactResource, change.UserContacts(A)},
		{adele, "me/contactFolders('" + cFolderID + "')/contacts", "created", outlook.ContactResource, change.FolderContacts(A, cFolderID)},
		{adele, "me/contactFolders/contacts/contacts", "updated", outlook.ContactResource, change.FolderContacts(A, change.WellKnownContactFolderID(A))},
		{sam, "me/contacts", "deleted", outlook.ContactResource, change.UserContacts(S)},
		// user.
		{app, "/users", "updated,deleted", directory.UserResource, change.Users()},
		{app, "/users/" + A, "updated", directory.UserResource, change.User(A)},
		{adele, "users/" + testserver.BrunoUPN, "updated", directory.UserResource, change.User(testserver.Bruno)},
		// group.
		{app, "/groups", "updated,deleted", directory.GroupResource, change.Groups()},
		{app, "/groups/" + G, "updated", directory.GroupResource, change.Group(G)},
		{app, "/groups/" + G + "/owners", "updated", directory.GroupResource, change.GroupOwners(G)},
		{adele, "/groups('" + G + "')/members", "updated", directory.GroupResource, change.GroupMembers(G)},
		// Microsoft 365 group conversation (delegated work or school only).
		{adele, "groups/" + G + "/conversations", "created,updated,deleted", conversations.ConversationResource, change.GroupConversations(G)},
		{chen, "groups('" + testserver.EngGroup + "')/conversations", "created", conversations.ConversationResource, change.GroupConversations(testserver.EngGroup)},
		// driveItem on personal OneDrive: the root or any folder.
		{sam, "/users/" + S + "/drive/root", "updated", files.DriveItemResource, change.DriveRoot(change.PersonalDriveID(S))},
		{sam, "me/drive/items/" + samFolderID, "updated", files.DriveItemResource, change.DriveFolder(change.PersonalDriveID(S), samFolderID)},
		// driveItem on OneDrive for Business: the root only.
		{app, "/drives/" + siteDriveID + "/root", "updated", files.DriveItemResource, change.DriveRoot(siteDriveID)},
		{app, "/drives/" + change.UserDriveID(testserver.Bruno) + "/root", "updated", files.DriveItemResource, change.DriveRoot(change.UserDriveID(testserver.Bruno))},
		{app, "/users/" + A + "/drive/root", "updated", files.DriveItemResource, change.DriveRoot(change.UserDriveID(A))},
		{adele, "me/drive/root", "updated", files.DriveItemResource, change.DriveRoot(change.UserDriveID(A))},
		// list under a SharePoint site.
		{app, "/sites/" + siteID + "/lists/" + listID, "updated", sites.ListResource, change.SiteList(siteID, listID)},
		{adele, "sites('" + siteID + "')/lists('" + listID + "')", "updated", sites.ListResource, change.SiteList(siteID, listID)},
		// Security alert.
		{app, "/security/alerts/" + alertID, "updated", security.AlertResource, change.Alert(alertID)},
		{adele, "/security/alerts/?$filter=status eq 'newAlert'", "created,updated", security.AlertResource, change.Alerts()},
		{app, "security/alerts", "created", security.AlertResource, change.Alerts()},
		// Teams callRecord.
		{app, "/communications/callRecords?$filter=participants/any(p:p/id eq '" + A + "')", "created,updated", callrecords.CallRecordResource, change.CallRecords()},
		// Teams chatMessage (application only, in the original table).
		{app, "/teams/getAllMessages", "created,updated,deleted", teams.ChatMessageResource, change.AllChannelMessages()},
		{app, "/teams/" + teamID + "/channels/" + channelID + "/messages", "created", teams.ChatMessageResource, change.ChannelMessages(teamID, channelID)},
		{app, "/chats/getAllMessages", "created", teams.ChatMessageResource, change.AllChatMessages()},
		{app, "/chats/" + chatID + "/messages?$filter=mentions/any(u: u/mentioned/user/id eq '" + A + "')", "created", teams.ChatMessageResource, change.ChatMessages(chatID)},
		{app, "/users/" + A + "/chats/getAllMessages", "created", teams.ChatMessageResource, change.UserChatMessages(A)},
	}
	for _, tt := range tests {
		body := e.body(tt.resource, tt.changeType, "expirationDateTime", graph.FormatTime(e.Clock.Now().Add(time.Hour)))
		r := e.Do("POST", "/v1.0/subscriptions", tt.token, body)
		if r.Status != http.StatusCreated {
			t.Errorf("POST %s = %s, want 201", tt.resource, r)
			continue
		}
		// Graph echoes the resource as sent, less its leading slash.
		if want := strings.TrimPrefix(tt.resource, "/"); r.JSON()["resource"] != want {
			t.Errorf("POST %s: resource = %v, want %s", tt.resource, r.JSON()["resource"], want)
		}
		sub, _ := e.stored(t, r.JSON()["id"].(string))
		if sub.Topic != tt.topic || sub.ResourceType != tt.typ {
			t.Errorf("POST %s: stored topic %q type %q, want %q %q", tt.resource, sub.Topic, sub.ResourceType, tt.topic, tt.typ)
		}
	}
}

// samplePaths gives, per resource type and variant, a path a caller of each
// permission type can name (me/… for delegated callers).
func samplePaths(typ string, variant string, pt identity.PermissionType) string {
	me := "users/" + testserver.Adele
	if pt.Delegated() {
		me = "me"
	}
	switch typ {
	case outlook.MessageResource:
		return me + "/messages"
	case outlook.EventResource:
		return me + "/events"
	case outlook.ContactResource:
		return me + "/contacts"
	case directory.UserResource:
		return "users"
	case directory.GroupResource:
		return "groups/" + testserver.SalesGroup + "/members"
	case conversations.ConversationResource:
		return "groups/" + testserver.SalesGroup + "/conversations"
	case files.DriveItemResource:
		return me + "/drive/root"
	case sites.ListResource:
		return "sites/" + siteID + "/lists/" + listID
	case security.AlertResource:
		return "security/alerts"
	case callrecords.CallRecordResource:
		return "communications/callRecords"
	case todo.TaskResource:
		owner := testserver.Adele
		if pt == identity.DelegatedPersonal {
			owner = testserver.Sam
		}
		return me + "/todo/lists/" + todo.DefaultListID(owner) + "/tasks"
	case communications.PresenceResource:
		return "communications/presences/" + testserver.Bruno
	case communications.OnlineMeetingResource:
		return "communications/onlineMeetings(joinWebUrl='" + url.PathEscape(meetingLink) + "')/meetingCallEvents"
	case communications.TranscriptResource, communications.RecordingResource:
		segment := "Transcripts"
		if typ == communications.RecordingResource {
			segment = "Recordings"
		}
		switch variant {
		case communications.VariantTenant:
			return "communications/onlineMeetings/getAll" + segment
		case communications.VariantMeeting:
			return "communications/onlineMeetings/" + meetingID + "/" + strings.ToLower(segment)
		case communications.VariantUser:
			return "users/" + testserver.Adele + "/onlineMeetings/getAll" + segment
		}
	}
	switch variant {
	case teams.VariantChannel:
		return "teams/" + teamID + "/channels/" + channelID + "/messages"
	case teams.VariantAllChannels:
		return "teams/getAllMessages"
	case teams.VariantChat:
		return "chats/" + chatID + "/messages"
	case teams.VariantAllChats:
		return "chats/getAllMessages"
	case teams.VariantUserChats:
		return me + "/chats/getAllMessages"
	}
	panic("no sample path for " + typ + "/" + variant)
}

// TestPermissionTable walks identity's subscription rules (the original permission-type
// table joined with Microsoft's "Create subscription" page's names): each permission type the table rules out is
// refused even with every permission, and each listed permission name suffices on its
// own. The drive variants are chosen by the account (personal OneDrive or OneDrive for
// Business), so a ruled-out drive variant cannot be asked for and is skipped.
func TestPermissionTable(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{})
	seedConsumerSite(t, e)
	full := map[identity.PermissionType]string{
		identity.Application:       e.AppToken(),
		identity.DelegatedWork:     e.UserToken(testserver.AdeleUPN),
		identity.DelegatedPersonal: e.PersonalToken(),
	}
	token := func(pt identity.PermissionType, perm string) string {
		switch pt {
		case identity.Application:
			id, secret := e.AddApp([]string{perm}, nil)
			return e.ClientToken(id, secret)
		case identity.DelegatedWork:
			id, secret := e.AddApp(nil, []string{perm})
			return e.DelegatedToken(id, secret, testserver.Tenant, testserver.AdeleUPN)
		}
		id, secret := e.AddApp(nil, []string{perm})
		return e.DelegatedToken(id, secret, "consumers", testserver.SamUPN)
	}
	refused, allowed := 0, 0
	for _, rule := range permissionRules() {
		if slices.Contains(sinceSeed(), rule.Resource) {
			continue
		}
		for _, pt := range []identity.PermissionType{identity.Application, identity.DelegatedWork, identity.DelegatedPersonal} {
			if rule.Resource == files.DriveItemResource && (rule.Variant == files.PersonalDriveVariant) != (pt == identity.DelegatedPersonal) {
				continue
			}
			path := samplePaths(rule.Resource, rule.Variant, pt)
			names, ok := rule.desc.Names(rule.Variant, pt)
			body := func() map[string]any {
				// "updated", or the one change type of resources without it (transcripts).
				ct := "updated"
				if !slices.Contains(rule.desc.ChangeTypes, ct) {
					ct = rule.desc.ChangeTypes[0]
				}
				return e.body(path, ct, "expirationDateTime", graph.FormatTime(e.Clock.Now().Add(time.Hour)))
			}
			name := fmt.Sprintf("%s %s (%s)", rule.Resource, rule.Variant, pt)
			if !ok {
				r := e.Do("POST", "/v1.0/subscriptions", full[pt], body())
				// The message names the permission types that may subscribe (their
				// wording is tested row by row in TestCreateRules).
				want := denied("Create", "Subscriptions to "+rule.Resource+" with ")
				if r.Status != http.StatusForbidden || r.ErrorCode() != "ExtensionError" || !strings.HasPrefix(r.ErrorMessage(), strings.TrimSuffix(want, "]")) {
					t.Errorf("%s: POST %s = %s, want 403 ExtensionError %q…", name, path, r, want)
				}
				refused++
				continue
			}
			for _, perm := range names {
				r := e.Do("POST", "/v1.0/subscriptions", token(pt, perm), body())
				if r.Status != http.StatusCreated {
					t.Errorf("%s with only %s: POST %s = %s, want 201", name, perm, path, r)
				}
				allowed++
			}
		}
	}
	// The table rules out 15 pairs that can be asked for: personal accounts for user,
	// group, conversation, alert, callRecord and the five chatMessage paths (10); work
	// accounts for callRecord and the two tenant-wide chatMessage paths (3);
	// applications for conversation and todoTask (2). Today's communications resources
	// add 16: applications and personal accounts for presence (2); work and personal
	// accounts for onlineMeeting (2) and for the three paths each of callTranscript and
	// callRecording (12).
	if refused != 31 {
		t.Errorf("refused %d (resource, permission type) pairs, want 31", refused)
	}
	// Every name the table lists, for every allowed pair (drive variants as above):
	// 47 for the seed's resources, 2 for todoTask, 11 for presence (1), onlineMeeting
	// (2), callTranscript and callRecording (4 each).
	if allowed != 60 {
		t.Errorf("checked %d permission names, want 60", allowed)
	}
}

// seedConsumerSite gives the consumers tenant a site with a list: the table lets
// personal accounts subscribe to lists.
func seedConsumerSite(t *testing.T, e *env) {
	t.Helper()
	seedTenant(t, e.Store, identity.ConsumersTenant)
}
