package subscription_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/certgen"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/subscription"
	"github.com/graphhook/graphhook/internal/testserver"
)

const (
	msgPayload   = "Could not process subscription creation payload. Are all property names spelled and camelCased properly?"
	msgExpReq    = "expirationDateTime is a required property for subscription creation"
	msgTeamsLife = "lifecycleNotificationUrl is a required property for subscription creation on this resource when the expirationDateTime value is set to greater than 1 hour."
)

// denied is the Access denied message of op with the reason that names the
// permission needed.
func denied(op, reason string) string {
	return "Operation: " + op + "; Exception: [Status Code: Forbidden; Reason: Access denied. " + reason + "]"
}

func notFound(reason string) string {
	return "Operation: Create; Exception: [Status Code: NotFound; Reason: " + reason + "]"
}

// certificate returns a base64 DER self-signed certificate with an RSA key of bits.
func certificate(t testing.TB, bits int) string {
	t.Helper()
	c, err := certgen.New(certgen.Options{CommonName: "receiver", Bits: bits})
	if err != nil {
		t.Fatal(err)
	}
	return c.Base64()
}

// TestCreateRules sends one create per rule and checks status, error.code and
// error.message exactly.
func TestCreateRules(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{})
	app := e.AppToken()
	adele := e.UserToken(testserver.AdeleUPN)
	bruno := e.UserToken(testserver.BrunoUPN)
	sam := e.PersonalToken()
	mailOnlyApp, mailOnlySecret := e.AddApp([]string{"User.Read.All"}, nil)
	limitedApp := e.ClientToken(mailOnlyApp, mailOnlySecret)
	writeOnly := e.UserToken(testserver.AdeleUPN, "Mail.ReadWrite")
	// at(d) stands for "d from when the request is sent": the table is built long
	// before its last request on a loaded machine, and the edges are a second wide.
	at := func(d time.Duration) string { return "now+" + d.String() }
	badFilter := func(f string) string {
		_, err := odata.ParseFilter(f)
		if err == nil {
			t.Fatalf("ParseFilter(%q) = nil error, want one", f)
		}
		return err.Error()
	}
	small := certificate(t, 1024)
	cert := certificate(t, 2048)
	adeleMail := "users/" + testserver.Adele + "/messages"
	channel := "teams/" + teamID + "/channels/" + channelID + "/messages"

	tests := []struct {
		name    string
		token   string
		body    any
		status  int
		code    string
		message string
	}{
		// Body syntax.
		{"not JSON", app, `{"resource":`, 400, "InvalidRequest", msgPayload},
		{"array", app, `[]`, 400, "InvalidRequest", msgPayload},
		{"misspelled property", app, e.body("users", "updated", "ChangeType", "updated"), 400, "InvalidRequest", msgPayload},
		{"wrong type", app, e.body("users", "updated", "changeType", 5), 400, "InvalidRequest", msgPayload},
		{"web push", app, e.body("users", "updated", "vapidPublicKey", "BNN…"), 400, "InvalidRequest", "Web Push delivery is not supported: remove 'vapidPublicKey' from the subscription."},

		// resource.
		{"resource missing", app, e.body("", "updated", "resource", nil), 400, "InvalidRequest", "resource is a required property for subscription creation"},
		{"drive item path", adele, e.body("/drive/items/0123/", "updated"), 400, "InvalidRequest", "resource '/drive/items/0123/' is not supported."},
		{"memberOf", app, e.body("users/"+testserver.Adele+"/memberOf", "updated"), 400, "InvalidRequest", "resource 'users/" + testserver.Adele + "/memberOf' is not supported."},
		{"absolute URL", app, e.body("https://graph.microsoft.com/v1.0/users", "updated"), 400, "InvalidRequest", "resource 'https://graph.microsoft.com/v1.0/users' is not supported."},
		{"a file of a work drive", adele, e.body("me/drive/items/0123", "updated"), 400, "InvalidRequest", "resource 'me/drive/items/0123' is not supported."},
		{"me with an app token", app, e.body("me/messages", "created"), 400, "BadRequest", "/me request is only valid with delegated authentication flow."},
		{"filter on users", app, e.body("users?$filter=displayName eq 'x'", "updated"), 400, "InvalidRequest", "Query option '$filter' is not supported in resource 'users?$filter=displayName eq 'x''."},
		{"top on messages", adele, e.body("me/messages?$top=5", "created"), 400, "InvalidRequest", "Query option '$top' is not supported in resource 'me/messages?$top=5'."},
		{"bad filter", adele, e.body("me/messages?$filter=isRead eq", "created"), 400, "InvalidRequest", badFilter("isRead eq")},
		{"select body", adele, e.body("me/messages?$select=subject,Body", "created"), 400, "InvalidRequest", "Invalid $select clause: 'Body' cannot be selected in a subscription."},
		{"callRecords filter off participants", app, e.body("communications/callRecords?$filter=type eq 'groupCall'", "created"), 400, "InvalidRequest", "Invalid $filter clause: call record subscriptions filter on participants/id only, not on 'type'."},

		// changeType.
		{"changeType missing", app, e.body("users", "", "changeType", nil), 400, "InvalidRequest", "changeType is a required property for subscription creation"},
		{"created on users", app, e.body("users", "created,updated"), 400, "InvalidRequest", "Invalid 'changeType' attribute: 'created'."},
		{"unknown changeType", app, e.body(adeleMail, "updated,Bogus"), 400, "InvalidRequest", "Invalid 'changeType' attribute: 'Bogus'."},
		{"empty changeType", app, e.body(adeleMail, ""), 400, "InvalidRequest", "Invalid 'changeType' attribute: ''."},
		{"created on a drive root", adele, e.body("me/drive/root", "created"), 400, "InvalidRequest", "Invalid 'changeType' attribute: 'created'."},
		{"deleted on a list", app, e.body("sites/"+siteID+"/lists/"+listID, "deleted"), 400, "InvalidRequest", "Invalid 'changeType' attribute: 'deleted'."},
		{"deleted on owners", app, e.body("groups/"+testserver.SalesGroup+"/owners", "deleted"), 400, "InvalidRequest", "Invalid 'changeType' attribute: 'deleted'."},
		{"deleted on call records", app, e.body("communications/callRecords", "deleted"), 400, "InvalidRequest", "Invalid 'changeType' attribute: 'deleted'."},

		// notificationUrl and lifecycleNotificationUrl.
		{"notificationUrl missing", app, e.body("users", "updated", "notificationUrl", nil), 400, "InvalidRequest", "notificationUrl is a required property for subscription creation"},
		{"four slashes", app, e.body("users", "updated", "notificationUrl", "https:////11093eb5.ngrok.io/listen"), 400, "InvalidRequest", "Invalid notification url='https:////11093eb5.ngrok.io/listen'."},
		{"relative URL", app, e.body("users", "updated", "notificationUrl", "/listen"), 400, "InvalidRequest", "Invalid notification url='/listen'."},
		{"ftp", app, e.body("users", "updated", "notificationUrl", "ftp://example.com/x"), 400, "InvalidRequest", "NotificationUrl scheme='ftp' is not supported."},
		{"event hub", app, e.body("users", "updated", "notificationUrl", "EventHub:https://ns.servicebus.windows.net/eventhubname/hub?tenantId=contoso"), 400, "InvalidRequest", "NotificationUrl scheme='eventhub' is not supported."},
		{"bad lifecycle URL", app, e.body("users", "updated", "lifecycleNotificationUrl", "https://"), 400, "InvalidRequest", "Invalid lifecycle notification url='https://'."},

		// expirationDateTime.
		{"expiration missing", app, e.body("users", "updated", "expirationDateTime", nil), 400, "InvalidRequest", msgExpReq},
		{"expiration unparseable", app, e.body("users", "updated", "expirationDateTime", "tomorrow"), 400, "InvalidRequest", msgExpReq},
		{"users past maximum", app, e.body("users", "updated", "expirationDateTime", at(41760*time.Minute+time.Minute+time.Second)), 400, "ExtensionError", "Subscription expiration can only be 41760 minutes in the future."},
		{"messages past maximum", app, e.body(adeleMail, "created", "expirationDateTime", at(10080*time.Minute+2*time.Minute)), 400, "ExtensionError", "Subscription expiration can only be 10080 minutes in the future."},
		{"call records past maximum", app, e.body("communications/callRecords", "created", "expirationDateTime", at(4231*time.Minute+time.Second)), 400, "ExtensionError", "Subscription expiration can only be 4230 minutes in the future."},
		{"teams over an hour without lifecycle URL", app, e.body(channel, "created", "expirationDateTime", at(61*time.Minute)), 400, "InvalidRequest", msgTeamsLife},

		// Who may subscribe.
		{"personal account to users", sam, e.body("users", "updated"), 403, "ExtensionError", denied("Create", "Subscriptions to user with delegated (personal Microsoft account) permissions are not supported; it requires one of the application permissions 'User.Read.All' or delegated (work or school account) permissions 'User.Read.All'.")},
		{"personal account to alerts", sam, e.body("security/alerts", "created"), 403, "ExtensionError", denied("Create", "Subscriptions to alert with delegated (personal Microsoft account) permissions are not supported; it requires one of the application permissions 'SecurityEvents.ReadWrite.All' or delegated (work or school account) permissions 'SecurityEvents.ReadWrite.All'.")},
		{"work account to call records", adele, e.body("communications/callRecords", "created"), 403, "ExtensionError", denied("Create", "Subscriptions to callRecord with delegated (work or school account) permissions are not supported; it requires one of the application permissions 'CallRecords.Read.All'.")},
		{"work account to a chat it is not in", bruno, e.body("chats/"+chatID+"/messages", "created", "expirationDateTime", at(time.Hour)), 403, "ExtensionError", denied("Create", "The signed-in user is not a member of the chat; without a signed-in user it requires one of the application permissions 'ChatMessage.Read.Chat, Chat.Read.All, Chat.ReadWrite.All'.")},
		{"work account to all chats", adele, e.body("chats/getAllMessages", "created", "expirationDateTime", at(time.Hour)), 403, "ExtensionError", denied("Create", "Subscriptions to chatMessage with delegated (work or school account) permissions are not supported; it requires one of the application permissions 'Chat.Read.All, Chat.ReadWrite.All'.")},
		{"application to conversations", app, e.body("groups/"+testserver.SalesGroup+"/conversations", "created"), 403, "ExtensionError", denied("Create", "Subscriptions to conversation with application permissions are not supported; it requires one of the delegated (work or school account) permissions 'Group.Read.All'.")},
		{"another user's mailbox", adele, e.body("users/"+testserver.Bruno+"/messages", "created"), 403, "ExtensionError", denied("Create", "With delegated permissions a user can subscribe to message resources of their own only; another user's require one of the application permissions 'Mail.ReadBasic.All, Mail.Read'.")},
		{"another user's mailbox by UPN", adele, e.body("users/"+testserver.BrunoUPN+"/events", "created"), 403, "ExtensionError", denied("Create", "With delegated permissions a user can subscribe to event resources of their own only; another user's require one of the application permissions 'Calendars.Read'.")},
		{"app without Mail.Read", limitedApp, e.body(adeleMail, "created"), 403, "ExtensionError", denied("Create", "Missing role permissions on the request. API requires one of 'Mail.ReadBasic.All, Mail.Read'. Roles on the request 'User.Read.All'.")},
		{"write permission only", writeOnly, e.body("me/messages", "created"), 403, "ExtensionError", denied("Create", "Missing scope permissions on the request. API requires one of 'Mail.ReadBasic, Mail.Read'. Scopes on the request 'Mail.ReadWrite'.")},

		// Existence.
		{"unknown user", app, e.body("users/nobody@contoso.onmicrosoft.com/messages", "created"), 404, "ExtensionError", notFound("User 'nobody@contoso.onmicrosoft.com' does not exist.")},
		{"unknown group", app, e.body("groups/33333333-0000-4000-8000-0000000000ff", "updated"), 404, "ExtensionError", notFound("Group '33333333-0000-4000-8000-0000000000ff' does not exist.")},
		{"conversations of a security group", adele, e.body("groups/"+securityGrp+"/conversations", "created"), 404, "ExtensionError", notFound("Group '" + securityGrp + "' has no conversations: only Microsoft 365 (Unified) groups have a group mailbox.")},
		// The rule GET applies: a delegated caller reads, and so watches, only the
		// conversations of groups it is a member or owner of.
		{"conversations of a group the caller is not in", adele, e.body("groups/"+testserver.EngGroup+"/conversations", "created"), 403, "ExtensionError", denied("Create", "The signed-in user is not a member of the group; one of the delegated permissions 'Group.Read.All' is needed as well as that access.")},
		{"unknown folder", adele, e.body("me/mailFolders('Archive2')/messages", "created"), 404, "ExtensionError", notFound("Mail folder 'Archive2' does not exist in the mailbox.")},
		{"another user's folder", app, e.body("users/"+testserver.Bruno+"/mailFolders/"+folderID+"/messages", "created"), 404, "ExtensionError", notFound("Mail folder '" + folderID + "' does not exist in the mailbox.")},
		{"unknown drive", app, e.body("drives/b!nope/root", "updated"), 404, "ExtensionError", notFound("Drive 'b!nope' does not exist.")},
		{"unknown site", app, e.body("sites/nope/lists/"+listID, "updated"), 404, "ExtensionError", notFound("Site 'nope' does not exist.")},
		{"unknown list", app, e.body("sites/"+siteID+"/lists/nope", "updated"), 404, "ExtensionError", notFound("List 'nope' does not exist in the site.")},
		{"unknown alert", app, e.body("security/alerts/nope", "updated"), 404, "ExtensionError", notFound("Alert 'nope' does not exist.")},
		{"unknown team", app, e.body("teams/nope/channels/"+channelID+"/messages", "created", "expirationDateTime", at(time.Hour)), 404, "ExtensionError", notFound("Team 'nope' does not exist.")},
		{"unknown channel", app, e.body("teams/"+teamID+"/channels/nope/messages", "created", "expirationDateTime", at(time.Hour)), 404, "ExtensionError", notFound("Channel 'nope' does not exist in the team.")},
		{"unknown chat", app, e.body("chats/nope/messages", "created", "expirationDateTime", at(time.Hour)), 404, "ExtensionError", notFound("Chat 'nope' does not exist.")},
		{"unknown personal folder", sam, e.body("me/drive/items/nope", "updated"), 404, "ExtensionError", notFound("Item 'nope' does not exist in the drive.")},
		{"a personal file", sam, e.body("me/drive/items/"+samFileID, "updated"), 400, "InvalidRequest", "resource 'me/drive/items/" + samFileID + "' is not supported: only folders can be watched, not files."},

		// Rich notifications.
		{"rich on users", app, e.body("users", "updated", "includeResourceData", true), 400, "InvalidRequest", "Azure Active Directory workload is not enabled for rich notifications."},
		{"rich on a drive", adele, e.body("me/drive/root", "updated", "includeResourceData", true), 400, "InvalidRequest", "File Services workload is not enabled for rich notifications."},
		{"rich on messages without $select", adele, e.body("me/messages", "created", "includeResourceData", true, "encryptionCertificate", cert, "encryptionCertificateId", "k"), 400, "InvalidRequest", "A $select query option naming the properties to include is required in resource 'me/messages' when includeResourceData is true."},
		{"rich on messages for two days", adele, e.body("me/messages?$select=subject", "created", "includeResourceData", true, "encryptionCertificate", cert, "encryptionCertificateId", "k", "expirationDateTime", at(48*time.Hour)), 400, "ExtensionError", "Subscription expiration can only be 1440 minutes in the future."},
		{"rich without certificate", app, e.body("chats/getAllMessages", "created", "includeResourceData", true, "expirationDateTime", at(time.Hour)), 400, "InvalidRequest", "encryptionCertificate is a required property when includeResourceData is true."},
		{"rich without certificate id", app, e.body("chats/getAllMessages", "created", "includeResourceData", true, "encryptionCertificate", cert, "expirationDateTime", at(time.Hour)), 400, "InvalidRequest", "encryptionCertificateId is a required property when includeResourceData is true."},
		{"rich with a 1024-bit key", app, e.body("chats/getAllMessages", "created", "includeResourceData", true, "encryptionCertificate", small, "encryptionCertificateId", "k", "expirationDateTime", at(time.Hour)), 400, "InvalidRequest", "encryptionCertificate RSA key is 1024 bits; it must be 2048 to 4096 bits."},
		{"rich with garbage", app, e.body("chats/getAllMessages", "created", "includeResourceData", true, "encryptionCertificate", "!!", "encryptionCertificateId", "k", "expirationDateTime", at(time.Hour)), 400, "InvalidRequest", "encryptionCertificate must be a base64-encoded X.509 certificate (DER or PEM)."},
		{"certificate id of 129", app, e.body("chats/getAllMessages", "created", "includeResourceData", true, "encryptionCertificate", cert, "encryptionCertificateId", strings.Repeat("k", 129), "expirationDateTime", at(time.Hour)), 400, "InvalidRequest", "encryptionCertificateId must be at most 128 characters long; it has 129."},

		// Other properties.
		{"clientState of 129", app, e.body("users", "updated", "clientState", strings.Repeat("é", 129)), 400, "InvalidRequest", "clientState must be at most 128 characters long; it has 129."},
		{"TLS version", app, e.body("users", "updated", "latestSupportedTlsVersion", "v2_0"), 400, "InvalidRequest", "Invalid 'latestSupportedTlsVersion' attribute: 'v2_0'. Supported values: v1_0, v1_1, v1_2, v1_3."},
		{"notificationQueryOptions", app, e.body("users", "updated", "notificationQueryOptions", "$filter=x eq 1"), 400, "InvalidRequest", "notificationQueryOptions is not supported for resource 'users'."},
		{"notificationUrlAppId", app, e.body("users", "updated", "notificationUrlAppId", "my-app"), 400, "InvalidRequest", "Invalid 'notificationUrlAppId' attribute: 'my-app'. It must be an application (client) id."},
		{"notificationContentType", app, e.body("users", "updated", "notificationContentType", "application/xml"), 400, "InvalidRequest", "Invalid 'notificationContentType' attribute: 'application/xml'. Supported values: application/json."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.hook.count()
			if b, ok := tt.body.(map[string]any); ok {
				if v, ok := b["expirationDateTime"].(string); ok && strings.HasPrefix(v, "now+") {
					d, err := time.ParseDuration(strings.TrimPrefix(v, "now+"))
					if err != nil {
						t.Fatal(err)
					}
					b["expirationDateTime"] = graph.FormatTime(e.Clock.Now().Add(d))
				}
			}
			r := e.Do("POST", "/v1.0/subscriptions", tt.token, tt.body, "Content-Type", "application/json")
			if r.Status != tt.status || r.ErrorCode() != tt.code || r.ErrorMessage() != tt.message {
				t.Errorf("POST /subscriptions = %d %s %q, want %d %s %q", r.Status, r.ErrorCode(), r.ErrorMessage(), tt.status, tt.code, tt.message)
			}
			// A refused create never reaches the endpoint (Microsoft's "Receive change notifications through webhooks": validation comes after the checks).
			if n := e.hook.count() - before; n != 0 {
				t.Errorf("receiver got %d validation requests for a refused create, want 0", n)
			}
		})
	}
}

// TestCreateLimitsAtTheirEdges accepts the largest value each limit allows.
func TestCreateLimitsAtTheirEdges(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{})
	app := e.AppToken()
	now := e.Clock.Now()
	cert := certificate(t, 2048)
	tests := []struct {
		name string
		body map[string]any
	}{
		{"users at maximum plus skew", e.body("users", "updated", "expirationDateTime", graph.FormatTime(now.Add(41760*time.Minute+time.Minute)))},
		{"clientState of 128", e.body("groups", "updated", "clientState", strings.Repeat("é", 128))},
		{"teams at one hour without lifecycle URL", e.body("teams/getAllMessages", "created", "expirationDateTime", graph.FormatTime(now.Add(time.Hour)))},
		{"certificate id of 128", e.body("chats/getAllMessages", "created,updated", "includeResourceData", true, "encryptionCertificate", cert,
			"encryptionCertificateId", strings.Repeat("k", 128), "expirationDateTime", graph.FormatTime(now.Add(time.Hour)))},
		{"teams beyond an hour with lifecycle URL", e.body("chats/"+chatID+"/messages", "created", "lifecycleNotificationUrl", e.hook.URL+"/life",
			"expirationDateTime", graph.FormatTime(now.Add(4320*time.Minute)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.create(t, app, tt.body)
			if got["expirationDateTime"] != tt.body["expirationDateTime"] {
				t.Errorf("expirationDateTime = %v, want %v", got["expirationDateTime"], tt.body["expirationDateTime"])
			}
		})
	}
}

// TestExpirationFloor raises expirations under 45 minutes, past ones included, to
// now + 45 minutes.
func TestExpirationFloor(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{})
	app := e.AppToken()
	for i, offset := range []time.Duration{44 * time.Minute, time.Minute, -24 * time.Hour} {
		before := e.Clock.Now()
		got := e.create(t, app, e.body("users/"+[]string{testserver.Adele, testserver.Bruno, testserver.Chen}[i], "updated",
			"expirationDateTime", graph.FormatTime(before.Add(offset))))
		after := e.Clock.Now()
		exp, err := graph.ParseTime(got["expirationDateTime"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if lo, hi := before.Add(45*time.Minute).Truncate(time.Microsecond), after.Add(45*time.Minute); exp.Before(lo) || exp.After(hi) {
			t.Errorf("expiration asked now%+v = %v, want between %v and %v", offset, exp, lo, hi)
		}
	}
}

func TestStrictProfileRefusesHTTP(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{Profile: subscription.ProfileStrict})
	app := e.AppToken()
	tests := []struct {
		name    string
		body    map[string]any
		status  int
		code    string
		message string
	}{
		{"http notification URL", e.body("users", "updated"), 400, "InvalidRequest", "NotificationUrl scheme='http' is not supported."},
		{"http lifecycle URL", e.body("users", "updated", "notificationUrl", "https://127.0.0.1:1/hook", "lifecycleNotificationUrl", "http://127.0.0.1:1/life"),
			400, "InvalidRequest", "LifecycleNotificationUrl scheme='http' is not supported."},
		// The address check happens when connecting: loopback never gets a request.
		{"https to loopback", e.body("users", "updated", "notificationUrl", strings.Replace(e.hook.URL, "http:", "https:", 1)+"/hook"),
			400, "ValidationError", "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."},
	}
	for _, tt := range tests {
		r := e.Do("POST", "/v1.0/subscriptions", app, tt.body)
		if r.Status != tt.status || r.ErrorCode() != tt.code || r.ErrorMessage() != tt.message {
			t.Errorf("%s: POST /subscriptions = %d %s %q, want %d %s %q", tt.name, r.Status, r.ErrorCode(), r.ErrorMessage(), tt.status, tt.code, tt.message)
		}
	}
	if n := e.hook.count(); n != 0 {
		t.Errorf("loopback receiver got %d requests in the strict profile, want 0", n)
	}
}

func TestDuplicate(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{})
	adele := e.UserToken(testserver.AdeleUPN)
	first := e.create(t, adele, e.body("me/messages", "created,updated"))
	want := "Subscription Id " + first["id"].(string) + " already exists for the requested combination"
	// The same mailbox by another spelling, change types in another order and case.
	r := e.Do("POST", "/v1.0/subscriptions", adele, e.body("Users/"+testserver.AdeleUPN+"/Messages", "Updated,created"))
	if r.Status != http.StatusConflict || r.ErrorCode() != "Conflict" || r.ErrorMessage() != want {
		t.Fatalf("duplicate create = %s, want 409 Conflict %q", r, want)
	}
	// Other change types, another filter, or another app are not duplicates.
	e.create(t, adele, e.body("me/messages", "created"))
	e.create(t, adele, e.body("me/messages?$filter=isRead eq false", "created,updated"))
	e.create(t, e.AppToken(), e.body("users/"+testserver.Adele+"/messages", "created,updated"))
}

func TestQuotas(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{Quotas: subscription.Quotas{
		PerMailbox: 2, DirectoryPerAppTenant: 2, CallRecordsPerTenant: 1, ChatMessagesPerAppTarget: 1, ChatMessagesPerUser: 2, TeamsPerTenant: 4,
	}})
	app := e.AppToken()
	adele := e.UserToken(testserver.AdeleUPN)
	hour := graph.FormatTime(e.Clock.Now().Add(time.Hour))
	deny := func(reason string) string {
		return "Operation: Create; Exception: [Status Code: Forbidden; Reason: " + reason + "]"
	}
	tests := []struct {
		name    string
		token   string
		allowed []map[string]any
		refused map[string]any
		message string
	}{
		{"per mailbox, all apps", app,
			[]map[string]any{e.body("users/"+testserver.Bruno+"/messages", "created"), e.body("users/"+testserver.Bruno+"/events", "created")},
			e.body("users/"+testserver.Bruno+"/contacts", "created"),
			deny("The limit of 2 subscriptions per mailbox (all applications together) has been reached.")},
		{"directory per app and tenant", app,
			[]map[string]any{e.body("users", "updated"), e.body("groups/"+testserver.EngGroup+"/members", "updated")},
			e.body("groups", "updated"),
			deny("The limit of 2 user and group subscriptions per application per tenant has been reached.")},
		{"call records per organization", app,
			[]map[string]any{e.body("communications/callRecords", "created")},
			e.body("communications/callRecords", "updated"),
			deny("The limit of 1 callRecord subscriptions per organization has been reached.")},
		{"one per app and chat", app,
			[]map[string]any{e.body("chats/"+chatID+"/messages", "created", "expirationDateTime", hour)},
			e.body("chats/"+chatID+"/messages", "deleted", "expirationDateTime", hour),
			deny("The limit of 1 chat message subscriptions per application per channel or chat has been reached.")},
		{"per user chats", app,
			[]map[string]any{e.body("users/"+testserver.Chen+"/chats/getAllMessages", "created", "expirationDateTime", hour), e.body("users/"+testserver.Chen+"/chats/getAllMessages", "updated", "expirationDateTime", hour)},
			e.body("users/"+testserver.Chen+"/chats/getAllMessages", "deleted", "expirationDateTime", hour),
			deny("The limit of 2 subscriptions per user to /users/{id}/chats/getAllMessages has been reached.")},
		{"Teams per organization", app,
			[]map[string]any{e.body("teams/getAllMessages", "created", "expirationDateTime", hour)},
			e.body("chats/getAllMessages", "created", "expirationDateTime", hour),
			deny("The limit of 4 Teams subscriptions per organization has been reached.")},
	}
	for _, tt := range tests {
		for _, b := range tt.allowed {
			e.create(t, tt.token, b)
		}
		r := e.Do("POST", "/v1.0/subscriptions", tt.token, tt.refused)
		if r.Status != http.StatusForbidden || r.ErrorCode() != "ExtensionError" || r.ErrorMessage() != tt.message {
			t.Errorf("%s: create over the quota = %s, want 403 ExtensionError %q", tt.name, r, tt.message)
		}
	}
	// A delegated caller counts against the same mailbox quota as apps.
	if r := e.Do("POST", "/v1.0/subscriptions", adele, e.body("me/messages", "created")); r.Status != http.StatusCreated {
		t.Errorf("create on a mailbox under its quota = %s, want 201", r)
	}
}

// TestStrictProfileRefusesHTTPRenewal: a subscription whose stored URL is http://
// (made before the server moved to the strict profile) cannot be renewed under strict.
func TestStrictProfileRefusesHTTPRenewal(t *testing.T) {
	t.Parallel()
	e := setup(t, subscription.Config{Profile: subscription.ProfileStrict})
	now := e.Clock.Now()
	for _, tt := range []struct {
		name, url, lifecycle, message string
	}{
		{"http notification URL", "http://127.0.0.1:1/hook", "", "NotificationUrl scheme='http' is not supported."},
		{"http lifecycle URL", "https://hooks.example.com/hook", "http://127.0.0.1:1/life", "LifecycleNotificationUrl scheme='http' is not supported."},
	} {
		id := uuid.NewString()
		data, _ := json.Marshal(map[string]any{"id": id, "resource": "users", "changeType": "updated", "notificationUrl": tt.url,
			"lifecycleNotificationUrl": tt.lifecycle, "expirationDateTime": graph.FormatTime(now.Add(time.Hour))})
		err := e.Store.Update(context.Background(), func(tx store.Tx) error {
			return tx.InsertSubscription(context.Background(), &store.Subscription{ID: id, Tenant: testserver.Tenant, AppID: testserver.AppID,
				CreatorID: testserver.AppID, PermissionType: int(identity.Application), ResourceType: "user", Topic: "users", ChangeTypes: "updated",
				NotificationURL: tt.url, LifecycleURL: tt.lifecycle, Expiration: now.Add(time.Hour), AuthorizedUntil: now.Add(time.Hour),
				NextReminder: now.Add(time.Hour), Created: now, Data: data})
		})
		if err != nil {
			t.Fatal(err)
		}
		r := e.Do("PATCH", "/v1.0/subscriptions/"+id, e.AppToken(), map[string]any{"expirationDateTime": graph.FormatTime(now.Add(2 * time.Hour))})
		if r.Status != 400 || r.ErrorCode() != "InvalidRequest" || r.ErrorMessage() != tt.message {
			t.Errorf("%s: PATCH renewal = %d %s %q, want 400 InvalidRequest %q", tt.name, r.Status, r.ErrorCode(), r.ErrorMessage(), tt.message)
		}
	}
}
