package resource_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
)

// A widget is a resource no other package knows: its store kind, topic keys,
// routes and descriptor live in this file only.
const (
	widgetKind     = "widget"
	widgetResource = "widget"
	widgetsTopic   = "widgets"
	// lockedWidget is a widget id the read-access rule refuses delegated callers.
	lockedWidget = "locked"
)

func widgetTopic(id string) string { return widgetsTopic + "/" + id }

// widgetDescriptor describes widgets: the collection and one widget, created and
// updated, application and delegated work callers with User.Read.All.
func widgetDescriptor() resource.Descriptor {
	return resource.Descriptor{
		Type:        widgetResource,
		Workload:    "Widgets",
		Kinds:       []string{widgetKind},
		ChangeTypes: []string{store.Created, store.Updated},
		MaxLifetime: 24 * time.Hour,
		Paths: []resource.Path{
			{Pattern: "widgets", Options: resource.AllowFilter, Resolve: func(r *resource.Resolver, _ []string) (resource.Target, error) {
				return resource.Target{Topic: widgetsTopic}, nil
			}},
			{Pattern: "widgets/{widget}",
				CanRead: func(ctx context.Context, tx store.Tx, p *identity.Principal, ids []string) error {
					if p.Type.Delegated() && ids[0] == lockedWidget {
						return resource.ErrAccessDenied
					}
					return nil
				},
				Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
					o, err := r.Object(widgetKind, ids[0], "", "Widget '%s' does not exist.")
					return resource.Target{Topic: widgetTopic(o.ID)}, err
				}},
		},
		Permissions: []resource.Permission{{Application: []string{"User.Read.All"}, DelegatedWork: []string{"User.Read.All"}}},
		Samples: []resource.Sample{
			{ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "widgets", `{"color":"red"}`)}, Permission: "User.Read.All"},
			{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("PATCH", "widgets/{id}", `{"color":"blue"}`)}, Permission: "User.Read.All"},
		},
	}
}

// widgetRoutes serve POST /widgets and PATCH /widgets/{id}: each write stores the
// widget and records its change in one transaction.
func widgetRoutes(st store.Store, r *httpapi.Router) {
	write := func(c *httpapi.Ctx, id string, create bool) error {
		doc, err := c.DecodeObject()
		if err != nil {
			return err
		}
		doc["id"] = id
		data, _ := json.Marshal(doc)
		ctx, p := c.R.Context(), c.Principal
		err = st.Update(ctx, func(tx store.Tx) error {
			changeType := store.Created
			if create {
				if err := tx.InsertObject(ctx, &store.Object{Tenant: p.TenantID, Kind: widgetKind, ID: id, Data: data}); err != nil {
					return err
				}
			} else {
				o, err := tx.GetObject(ctx, p.TenantID, widgetKind, id)
				if err != nil {
					return graph.Errorf(http.StatusNotFound, graph.CodeItemNotFound, "Widget '%s' does not exist.", id)
				}
				o.Data, changeType = data, store.Updated
				if err := tx.UpdateObject(ctx, &o); err != nil {
					return err
				}
			}
			n := change.Notice{Resource: "widgets/" + id, ODataType: "#microsoft.graph.widget", ID: id}
			return change.Record(ctx, tx, p.TenantID, widgetKind, id, changeType, []string{widgetsTopic, widgetTopic(id)}, nil, data, n, c.Now)
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, doc)
	}
	r.Handle("POST", "widgets", func(c *httpapi.Ctx) error { return write(c, uuid.NewString(), true) })
	r.Handle("PATCH", "widgets/{id}", func(c *httpapi.Ctx) error { return write(c, c.Param("id"), false) })
}

// TestThrowawayResourceEndToEnd subscribes to a resource described only in this
// test, changes it through its route, and receives the notification on a loopback
// receiver: the subscriptions API and the delivery pipeline know nothing of widgets
// beyond the descriptor.
func TestThrowawayResourceEndToEnd(t *testing.T) {
	resources := append(testserver.Resources(), widgetDescriptor())
	env := testserver.New(t, testserver.Notifications(resources), func(env *testserver.Env) {
		widgetRoutes(env.Store, env.HTTP.Graph())
	})
	hook := testserver.NewWebhook(t)
	app := env.AppToken()
	subscribe := func(token, res, changeType string) *testserver.Response {
		t.Helper()
		return env.Do("POST", "/v1.0/subscriptions", token, map[string]any{
			"changeType": changeType, "notificationUrl": hook.URL, "resource": res, "clientState": "widgets",
			"expirationDateTime": graph.FormatTime(env.Clock.Now().Add(2 * time.Hour)),
		})
	}

	// The descriptor's rules hold: change types, lifetime, permission, read access.
	if r := subscribe(app, "widgets", "deleted"); r.Status != http.StatusBadRequest || r.ErrorMessage() != "Invalid 'changeType' attribute: 'deleted'." {
		t.Errorf("POST widgets deleted = %s, want 400 Invalid 'changeType'", r)
	}
	if r := subscribe(app, "widgets/nope", "updated"); r.Status != http.StatusNotFound || !strings.Contains(r.ErrorMessage(), "Widget 'nope' does not exist.") {
		t.Errorf("POST widgets/nope = %s, want 404 naming the widget", r)
	}
	if r := subscribe(env.UserToken(testserver.AdeleUPN), "widgets/"+lockedWidget, "updated"); r.Status != http.StatusForbidden {
		t.Errorf("POST widgets/%s as a delegated caller = %s, want 403 from the read-access rule", lockedWidget, r)
	}

	if r := subscribe(app, "widgets", "created,updated"); r.Status != http.StatusCreated {
		t.Fatalf("POST /subscriptions on widgets = %s, want 201", r)
	}
	// next waits for one notification about widget id and returns its change type.
	// Each change is awaited before the next is made: two POSTs to one URL may be in
	// flight at once, and their arrival order is not the commit order.
	taken := 0
	next := func(id string) string {
		t.Helper()
		var it map[string]any
		hook.Await(t, 10*time.Second, "notification about widgets/"+id, func(items []json.RawMessage) bool {
			if len(items) <= taken {
				return false
			}
			if err := json.Unmarshal(items[taken], &it); err != nil {
				t.Fatalf("notification item %s: %v", items[taken], err)
			}
			taken++
			return true
		})
		data, _ := it["resourceData"].(map[string]any)
		if it["resource"] != "widgets/"+id || it["clientState"] != "widgets" || data["id"] != id || data["@odata.type"] != "#microsoft.graph.widget" {
			t.Errorf("notification item = %v, want one about widgets/%s", it, id)
		}
		ct, _ := it["changeType"].(string)
		return ct
	}
	r := env.Do("POST", "/v1.0/widgets", app, map[string]any{"color": "red"})
	if r.Status != http.StatusOK {
		t.Fatalf("POST /widgets = %s, want 200", r)
	}
	id := r.JSON()["id"].(string)
	if got := next(id); got != "created" {
		t.Errorf("change type after POST /widgets = %q, want created", got)
	}
	if r := env.Do("PATCH", "/v1.0/widgets/"+id, app, map[string]any{"color": "blue"}); r.Status != http.StatusOK {
		t.Fatalf("PATCH /widgets/%s = %s, want 200", id, r)
	}
	if got := next(id); got != "updated" {
		t.Errorf("change type after PATCH /widgets/%s = %q, want updated", id, got)
	}
}
