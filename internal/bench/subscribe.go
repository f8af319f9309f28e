package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graphclient"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/outlook"
)

// demoAdele is the demo tenant's first user, in whose mailbox the changes are made.
const demoAdele = "22222222-0000-4000-8000-000000000001"

func demoTenant() identity.FixtureTenant { return identity.DemoFixture().Tenants[0] }

// mailBody is the message each change of the mail scenarios creates.
var mailBody = json.RawMessage(`{"subject":"bench","body":{"contentType":"text","content":"hello"}}`)

// post creates a resource and returns its id and when the request was sent.
func post(ctx context.Context, c *graphclient.Client, path string, body json.RawMessage) (string, time.Time, error) {
	sent := time.Now()
	// Only the id is read, without decoding the rest: the client shares the
	// machine with the server it measures.
	var answer json.RawMessage
	if err := c.Do(ctx, http.MethodPost, path, body, &answer); err != nil {
		return "", sent, err
	}
	id := gjson.GetBytes(answer, "id")
	if id.Type != gjson.String || id.Str == "" {
		return "", sent, fmt.Errorf("POST %s: the answer has no id: %.200s", path, answer)
	}
	return id.Str, sent, nil
}

// subscribe creates one subscription to Adele's messages per URL: through the API
// against --target (srv nil), and straight into the store of a server bench started
// (quotas would refuse thousands of subscriptions per app, and it is delivery that
// is measured). Those made through the API are deleted again when the run ends
// (done), so that the next run against the same server can make them anew.
//
// filter, when set, gives the $filter of the i-th subscription made through the API
// (see runMark).
func subscribe(ctx context.Context, srv *Server, app *graphclient.Client, urls []string, filter func(i int) string) (done func(), err error) {
	done = func() {}
	// One subscription (single) goes through the API on an in-process server too.
	if srv == nil || len(urls) == 1 {
		var ids []string
		done = func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			for _, id := range ids {
				app.Do(ctx, http.MethodDelete, "/v1.0/subscriptions/"+id, nil, nil)
			}
		}
		for i, u := range urls {
			// Graph refuses a second subscription of one app to the same resource and
			// change types (409); a $filter every bench message passes makes each
			// subscription distinct.
			resource := "/users/" + demoAdele + "/messages"
			switch {
			case filter != nil:
				resource += "?$filter=" + filter(i)
			case i > 0:
				resource += fmt.Sprintf("?$filter=subject ne 'not-bench-%d'", i)
			}
			body := map[string]any{"changeType": "created", "notificationUrl": u,
				"resource": resource, "expirationDateTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
			var made struct {
				ID string `json:"id"`
			}
			if err := app.Do(ctx, http.MethodPost, "/v1.0/subscriptions", body, &made); err != nil {
				return done, fmt.Errorf("creating subscription %d: %w", i, err)
			}
			ids = append(ids, made.ID)
		}
		return done, nil
	}
	topic := change.UserMessages(demoAdele)
	now := srv.Clock.Now()
	tenant := demoTenant()
	appID := tenant.Apps[0].ClientID
	n := len(urls)
	for lo := 0; lo < n; lo += 1000 {
		err := srv.Store.Update(ctx, func(tx store.Tx) error {
			for i := lo; i < min(lo+1000, n); i++ {
				id := uuid.NewString()
				s := store.Subscription{ID: id, Tenant: tenant.ID, AppID: appID, CreatorID: identity.ServicePrincipalID(tenant.ID, appID),
					PermissionType: int(identity.Application), ResourceType: outlook.MessageResource, Topic: topic, ChangeTypes: "created",
					NotificationURL: urls[i], Expiration: now.Add(3 * 24 * time.Hour), AuthorizedUntil: now.Add(24 * time.Hour),
					Created: now, Data: []byte(`{"id":"` + id + `"}`)}
				if err := tx.InsertSubscription(ctx, &s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// copySubscription copies subscription id once per URL, straight in the store.
func copySubscription(ctx context.Context, srv *Server, id string, urls []string) error {
	if srv == nil {
		return errors.New("copies of a subscription need the embedded server")
	}
	return srv.Store.Update(ctx, func(tx store.Tx) error {
		orig, err := tx.GetSubscription(ctx, id)
		if err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(orig.Data, &doc); err != nil {
			return err
		}
		for _, u := range urls {
			s := orig
			s.ID, s.NotificationURL = uuid.NewString(), u
			doc["id"], doc["notificationUrl"] = s.ID, u
			if s.Data, err = json.Marshal(doc); err != nil {
				return err
			}
			if err := tx.InsertSubscription(ctx, &s); err != nil {
				return err
			}
		}
		return nil
	})
}
