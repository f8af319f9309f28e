package subscription_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/goldenfile"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/subscription"
	"github.com/graphhook/graphhook/internal/testserver"
)

// Objects of workloads the tests insert directly (the store conventions of
// docs/architecture.md), so that every resource path has something to exist.
const (
	siteID      = "contoso.sharepoint.com,6b3f2e1a-0000-4000-8000-000000000001,6b3f2e1a-0000-4000-8000-000000000002"
	listID      = "7a1b2c3d-0000-4000-8000-000000000001"
	alertID     = "da637551227677560813_-961444813"
	teamID      = testserver.SalesGroup // a team's id is its group's
	channelID   = "19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2"
	chatID      = "19:8b081ef6-4792-4def-b2c9-c363a1bf41d5_22222222-0000-4000-8000-000000000001@unq.gbl.spaces"
	folderID    = "AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OAAuAAAAAAAiQ8W967B7TKBjgx9rVEURAQAiIsqMbYjsT5e"
	cFolderID   = "AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OAAuAAAAAAAiQ8W967B7TKBjgx9rVEURAQAiIsqMbYjsT5c"
	samFolderID = "F00D0000CAFE0001!103"
	samFileID   = "F00D0000CAFE0001!104"
	siteDriveID = "b!siteDriveOfContosoSharePoint0000000000000000000001"
	securityGrp = "33333333-0000-4000-8000-00000000000f" // a group that is not Unified
)

// env is a test server with the subscriptions API and a webhook receiver.
type env struct {
	*testserver.Env
	svc  *subscription.Service
	hook *receiver
}

// setup starts a server with the subscriptions API (cfg's clock is the server's),
// the objects every resource path needs, and an echoing receiver.
func setup(t testing.TB, cfg subscription.Config) *env {
	t.Helper()
	e := &env{hook: newReceiver(t)}
	e.Env = testserver.New(t, func(ts *testserver.Env) {
		cfg.Clock = ts.Clock
		if cfg.Resources == nil {
			cfg.Resources = testserver.Resources()
		}
		svc, err := subscription.New(ts.Store, cfg)
		if err != nil {
			t.Fatalf("subscription.New: %v", err)
		}
		svc.Routes(ts.HTTP.Graph())
		e.svc = svc
	})
	seed(t, e.Store)
	return e
}

func seed(t testing.TB, st store.Store) {
	t.Helper()
	ctx := context.Background()
	sam := testserver.Sam
	objs := []store.Object{
		{Tenant: testserver.Tenant, Kind: "site", ID: siteID, Alt: "contoso.sharepoint.com:/", Data: []byte(`{"id":"` + siteID + `"}`)},
		{Tenant: testserver.Tenant, Kind: "list", ID: listID, Owner: siteID, Data: []byte(`{"id":"` + listID + `"}`)},
		{Tenant: testserver.Tenant, Kind: "alert", ID: alertID, Data: []byte(`{"id":"` + alertID + `","status":"newAlert"}`)},
		{Tenant: testserver.Tenant, Kind: "team", ID: teamID, Data: []byte(`{"id":"` + teamID + `"}`)},
		{Tenant: testserver.Tenant, Kind: "channel", ID: channelID, Owner: teamID, Data: []byte(`{"id":"` + channelID + `"}`)},
		{Tenant: testserver.Tenant, Kind: "chat", ID: chatID, Data: []byte(`{"id":"` + chatID + `"}`)},
		// Adele is in the chat, so that she may watch its messages with a delegated
		// token; Bruno is not.
		{Tenant: testserver.Tenant, Kind: "chatMember", ID: chatID + "|" + testserver.Adele, Owner: chatID, Parent: testserver.Adele, Data: []byte(`{}`)},
		{Tenant: testserver.Tenant, Kind: "mailFolder", ID: folderID, Owner: testserver.Adele, Data: []byte(`{"id":"` + folderID + `"}`)},
		{Tenant: testserver.Tenant, Kind: "contactFolder", ID: cFolderID, Owner: testserver.Adele, Data: []byte(`{"id":"` + cFolderID + `"}`)},
		{Tenant: testserver.Tenant, Kind: "drive", ID: siteDriveID, Owner: siteID, Alt: "site:" + siteID, Data: []byte(`{"id":"` + siteDriveID + `"}`)},
		{Tenant: testserver.Tenant, Kind: "group", ID: securityGrp, Alt: "security", Data: []byte(`{"id":"` + securityGrp + `","groupTypes":[]}`)},
		// Adele is a member, so that subscribing to its conversations fails on the
		// group's type, not on membership.
		{Tenant: testserver.Tenant, Kind: "member", ID: identity.MembershipID(securityGrp, testserver.Adele), Owner: securityGrp, Parent: testserver.Adele,
			Data: []byte(`{"groupId":"` + securityGrp + `","objectId":"` + testserver.Adele + `","type":"user"}`)},
		{Tenant: "9188040d-6c67-4c5b-b112-36a304b66dad", Kind: "driveItem", ID: samFolderID, Owner: change.PersonalDriveID(sam), Data: []byte(`{"id":"` + samFolderID + `","folder":{"childCount":0}}`)},
		{Tenant: "9188040d-6c67-4c5b-b112-36a304b66dad", Kind: "driveItem", ID: samFileID, Owner: change.PersonalDriveID(sam), Data: []byte(`{"id":"` + samFileID + `","file":{}}`)},
	}
	err := st.Update(ctx, func(tx store.Tx) error {
		for i := range objs {
			if err := tx.InsertObject(ctx, &objs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed objects: %v", err)
	}
}

// seedTenant gives a tenant a SharePoint site with a list.
func seedTenant(t testing.TB, st store.Store, tenant string) {
	t.Helper()
	ctx := context.Background()
	err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertObject(ctx, &store.Object{Tenant: tenant, Kind: "site", ID: siteID, Data: []byte(`{}`)}); err != nil {
			return err
		}
		return tx.InsertObject(ctx, &store.Object{Tenant: tenant, Kind: "list", ID: listID, Owner: siteID, Data: []byte(`{}`)})
	})
	if err != nil {
		t.Fatalf("seed tenant %s: %v", tenant, err)
	}
}

// receiver is a webhook endpoint on loopback that answers validation requests with
// the token and counts them.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func newReceiver(t testing.TB) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.requests = append(rc.requests, r)
		rc.mu.Unlock()
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte(tok))
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.requests)
}

// body is a create body on resource with the receiver's URL and an expiry two
// hours out; extra entries replace or add properties (nil deletes one).
func (e *env) body(resource, changeType string, extra ...any) map[string]any {
	b := map[string]any{
		"resource":           resource,
		"changeType":         changeType,
		"notificationUrl":    e.hook.URL + "/hook",
		"expirationDateTime": graph.FormatTime(e.Clock.Now().Add(2 * time.Hour)),
		"clientState":        "secretClientValue",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		k := extra[i].(string)
		if extra[i+1] == nil {
			delete(b, k)
		} else {
			b[k] = extra[i+1]
		}
	}
	return b
}

// create posts a subscription and fails the test unless it got 201.
func (e *env) create(t testing.TB, token string, body map[string]any) map[string]any {
	t.Helper()
	r := e.Do("POST", "/v1.0/subscriptions", token, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("POST /subscriptions %v = %s, want 201", body["resource"], r)
	}
	return r.JSON()
}

// golden compares a response body (made deterministic by stable, property order
// kept as sent) with testdata/name.golden.json.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		t.Fatalf("%s: %v in %s", name, err, body)
	}
	buf.WriteByte('\n')
	got := buf.Bytes()
	goldenfile.Compare(t, name, got)
}

// stable replaces, in raw, the values of decoded that change from run to run: ids,
// expiration times and the loopback ports of the server and the receiver.
func (e *env) stable(decoded map[string]any, raw []byte) []byte {
	items := []any{decoded}
	if v, ok := decoded["value"].([]any); ok {
		items = v
	}
	var pairs []string
	for _, it := range items {
		m := it.(map[string]any)
		pairs = append(pairs, `"`+m["id"].(string)+`"`, `"{id}"`, `"`+m["expirationDateTime"].(string)+`"`, `"{expirationDateTime}"`)
	}
	// Longer URL first: one port may be a prefix of the other.
	if len(e.URL) >= len(e.hook.URL) {
		pairs = append(pairs, e.URL, "{server}", e.hook.URL, "{receiver}")
	} else {
		pairs = append(pairs, e.hook.URL, "{receiver}", e.URL, "{server}")
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(raw)))
}
