package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
)

// Deliveries serves the delivery log and what acts on delivery: replay, lifecycle
// notifications and expiry on demand, and injected push-side faults. The rules are
// the delivery pipeline's and the subscriptions API's; this is their HTTP face.
type Deliveries struct {
	Pipeline *delivery.Pipeline
	Store    store.Store
	Identity *identity.Service
	Clock    clock.Clock
	// Expire ends a subscription now, as the expiry sweeper does
	// (subscription.Service.ExpireNow); a graph error 404 when it does not exist.
	Expire func(ctx context.Context, id string) error
}

// Routes registers the endpoints on the admin router.
func (d *Deliveries) Routes(r *httpapi.Router) {
	r.Handle("GET", "deliveries", d.list)
	r.Handle("GET", "deliveries/{id}", d.get)
	r.Handle("POST", "deliveries/{id}/replay", d.replay)
	r.Handle("GET", "subscriptions", d.subscriptions)
	r.Handle("POST", "subscriptions/{id}/replay", d.replaySubscription)
	r.Handle("POST", "subscriptions/{id}/lifecycle", d.lifecycle)
	r.Handle("POST", "subscriptions/{id}/expire", d.expire)
	r.Handle("POST", "faults", d.addFault)
	r.Handle("GET", "faults", d.listFaults)
	r.Handle("DELETE", "faults/{id}", d.deleteFault)
}

const (
	defaultTop = 50
	maxTop     = 1000
)

// deliveryJSON is a Delivery on the wire.
type deliveryJSON struct {
	ID             string          `json:"id"`
	SubscriptionID string          `json:"subscriptionId"`
	TenantID       string          `json:"tenantId"`
	URL            string          `json:"url"`
	Kind           string          `json:"kind"`
	ChangeType     string          `json:"changeType,omitempty"`
	LifecycleEvent string          `json:"lifecycleEvent,omitempty"`
	Resource       string          `json:"resource"`
	State          string          `json:"state"`
	Attempt        int             `json:"attempt"`
	Created        string          `json:"createdDateTime"`
	NextAttempt    *string         `json:"nextAttemptDateTime"`
	Finished       *string         `json:"finishedDateTime"`
	Error          string          `json:"error"`
	ReplayOf       *string         `json:"replayOf"`
	Payload        json.RawMessage `json:"payload"`
	Attempts       []attemptJSON   `json:"attempts"`
}

type attemptJSON struct {
	Number     int     `json:"number"`
	Started    string  `json:"startedDateTime"`
	StatusCode *int    `json:"statusCode"`
	LatencyMs  float64 `json:"latencyMs"`
	Error      string  `json:"error"`
	Injected   bool    `json:"injected"`
}

func timePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := graph.FormatTime(t)
	return &s
}

func toJSON(d delivery.Delivery) deliveryJSON {
	out := deliveryJSON{
		ID: strconv.FormatInt(d.ID, 10), SubscriptionID: d.SubscriptionID, TenantID: d.Tenant, URL: d.URL,
		Kind: "change", Resource: d.Resource, State: string(d.State), Attempt: d.Attempt,
		Created: graph.FormatTime(d.Created), Finished: timePtr(d.Finished), Error: d.Error,
		Payload: json.RawMessage(d.Item), Attempts: []attemptJSON{},
	}
	if d.Lifecycle {
		out.Kind, out.LifecycleEvent = "lifecycle", d.Event
	} else {
		out.ChangeType = d.Event
	}
	if d.State == store.NotificationAvailable || d.State == store.NotificationRetryable {
		out.NextAttempt = timePtr(d.Scheduled)
	}
	if d.ReplayOf != 0 {
		s := strconv.FormatInt(d.ReplayOf, 10)
		out.ReplayOf = &s
	}
	if !json.Valid(out.Payload) {
		out.Payload = json.RawMessage("null")
	}
	for _, a := range d.Attempts {
		aj := attemptJSON{Number: a.Number, Started: graph.FormatTime(a.Started),
			LatencyMs: float64(a.Latency.Microseconds()) / 1000, Error: a.Error, Injected: a.Injected}
		if a.StatusCode != 0 {
			code := a.StatusCode
			aj.StatusCode = &code
		}
		out.Attempts = append(out.Attempts, aj)
	}
	return out
}

func toJSONs(ds []delivery.Delivery) []deliveryJSON {
	out := make([]deliveryJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, toJSON(d))
	}
	return out
}

// logToken is the state a delivery log $skiptoken carries.
type logToken struct {
	Before int64 `json:"before"`
}

func parseQueryTime(c *httpapi.Ctx, name string) (time.Time, error) {
	raw := c.Query(name)
	if raw == "" {
		return time.Time{}, nil
	}
	t, err := graph.ParseTime(raw)
	if err != nil {
		return time.Time{}, BadRequest("Invalid %s '%s': use an ISO 8601 UTC time such as 2026-03-01T10:00:00Z.", name, raw)
	}
	return t, nil
}

func (d *Deliveries) list(c *httpapi.Ctx) error {
	f := store.DeliveryFilter{SubscriptionID: c.Query("subscriptionId"), URL: c.Query("url"), Limit: defaultTop}
	switch s := store.NotificationState(c.Query("state")); s {
	case "", store.NotificationAvailable, store.NotificationRunning, store.NotificationRetryable,
		store.NotificationDelivered, store.NotificationDiscarded:
		f.State = s
	default:
		return BadRequest("Invalid state '%s': use available, running, retryable, delivered or discarded.", s)
	}
	var err error
	if f.Since, err = parseQueryTime(c, "since"); err != nil {
		return err
	}
	if f.Until, err = parseQueryTime(c, "until"); err != nil {
		return err
	}
	if c.HasQuery("$top") {
		if f.Limit, err = odata.ParseTop(c.Query("$top"), maxTop); err != nil {
			return BadRequest("Invalid $top '%s': use a whole number from 1 to %d.", c.Query("$top"), maxTop)
		}
	}
	if c.HasQuery("$skiptoken") {
		var tok logToken
		if err := odata.DecodeSkipToken(c.Query("$skiptoken"), &tok); err != nil || tok.Before <= 0 {
			return BadRequest("Invalid $skiptoken.")
		}
		f.BeforeID = tok.Before
	}
	top := f.Limit
	f.Limit++
	ds, err := d.Pipeline.Deliveries(c.R.Context(), f)
	if err != nil {
		return err
	}
	out := map[string]any{}
	if len(ds) > top {
		ds = ds[:top]
		out["@odata.nextLink"] = c.LinkWith(map[string]string{"$skiptoken": odata.EncodeSkipToken(logToken{Before: ds[top-1].ID})})
	}
	out["value"] = toJSONs(ds)
	return c.JSON(http.StatusOK, out)
}

func deliveryID(c *httpapi.Ctx) (int64, error) {
	raw := c.Param("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, deliveryNotFound(raw)
	}
	return id, nil
}

func deliveryNotFound(id string) error {
	return graph.Errorf(http.StatusNotFound, graph.CodeResourceNotFound, "Delivery '%s' does not exist (or is past the delivery log's retention).", id)
}

func (d *Deliveries) get(c *httpapi.Ctx) error {
	id, err := deliveryID(c)
	if err != nil {
		return err
	}
	dl, err := d.Pipeline.Delivery(c.R.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return deliveryNotFound(c.Param("id"))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(dl))
}

func (d *Deliveries) replay(c *httpapi.Ctx) error {
	id, err := deliveryID(c)
	if err != nil {
		return err
	}
	dl, err := d.Pipeline.Replay(c.R.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return deliveryNotFound(c.Param("id"))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"value": []deliveryJSON{toJSON(dl)}})
}

// optionalObject reads a JSON object body that may be absent, refusing properties
// other than those allowed.
func optionalObject(c *httpapi.Ctx, allowed ...string) (map[string]any, error) {
	if c.R.ContentLength == 0 {
		return map[string]any{}, nil
	}
	body, err := Object(c)
	if err != nil {
		return nil, err
	}
	return body, onlyProperties(body, allowed...)
}

func onlyProperties(body map[string]any, allowed ...string) error {
next:
	for k := range body {
		for _, a := range allowed {
			if k == a {
				continue next
			}
		}
		return BadRequest("Unknown property '%s'; the body takes only %s.", k, quoteList(allowed))
	}
	return nil
}

func quoteList(names []string) string {
	out := ""
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			out += " and "
		default:
			out += ", "
		}
		out += "'" + n + "'"
	}
	return out
}

func bodyString(body map[string]any, name string) (string, bool, error) {
	v, ok := body[name]
	if !ok || v == nil {
		return "", false, nil
	}
	s, isString := v.(string)
	if !isString {
		return "", false, BadRequest("Property '%s' must be a string.", name)
	}
	return s, true, nil
}

func bodyTime(body map[string]any, name string) (time.Time, error) {
	raw, ok, err := bodyString(body, name)
	if err != nil || !ok {
		return time.Time{}, err
	}
	t, err := graph.ParseTime(raw)
	if err != nil {
		return time.Time{}, BadRequest("Invalid %s '%s': use an ISO 8601 UTC time such as 2026-03-01T10:00:00Z.", name, raw)
	}
	return t, nil
}

func (d *Deliveries) replaySubscription(c *httpapi.Ctx) error {
	body, err := optionalObject(c, "since", "until")
	if err != nil {
		return err
	}
	since, err := bodyTime(body, "since")
	if err != nil {
		return err
	}
	until, err := bodyTime(body, "until")
	if err != nil {
		return err
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return BadRequest("'since' must be before 'until'.")
	}
	ds, err := d.Pipeline.ReplaySubscription(c.R.Context(), c.Param("id"), since, until)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"value": toJSONs(ds)})
}

func (d *Deliveries) subscriptions(c *httpapi.Ctx) error {
	q := store.SubscriptionQuery{ActiveAt: d.Clock.Now()}
	if raw := c.Query("tenantId"); raw != "" {
		t, err := Tenant(d.Identity, raw)
		if err != nil {
			return err
		}
		q.Tenant = t.ID
	}
	var subs []store.Subscription
	err := d.Store.View(c.R.Context(), func(tx store.Tx) error {
		var err error
		subs, err = tx.ListSubscriptions(c.R.Context(), q)
		return err
	})
	if err != nil {
		return err
	}
	value := make([]map[string]any, 0, len(subs))
	for _, s := range subs {
		var m map[string]any
		if err := json.Unmarshal(s.Data, &m); err != nil {
			return err
		}
		m["tenantId"], m["applicationId"] = s.Tenant, s.AppID
		value = append(value, m)
	}
	return c.JSON(http.StatusOK, map[string]any{"value": value})
}

func (d *Deliveries) lifecycle(c *httpapi.Ctx) error {
	body, err := Object(c)
	if err != nil {
		return err
	}
	if err := onlyProperties(body, "event"); err != nil {
		return err
	}
	event, ok, err := bodyString(body, "event")
	if err != nil {
		return err
	}
	if !ok {
		return BadRequest("The body must be {\"event\": \"reauthorizationRequired\" | \"subscriptionRemoved\" | \"missed\"}.")
	}
	if err := d.Pipeline.SendLifecycle(c.R.Context(), c.Param("id"), event); err != nil {
		return err
	}
	c.W.WriteHeader(http.StatusAccepted)
	return nil
}

func (d *Deliveries) expire(c *httpapi.Ctx) error {
	if _, err := optionalObject(c); err != nil {
		return err
	}
	if err := d.Expire(c.R.Context(), c.Param("id")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "expired": true})
}

// Bounds of an injected fault, against typos more than abuse.
const (
	maxFaultDelay    = 10 * time.Minute
	maxFaultDuration = 7 * 24 * time.Hour
	maxFaultCount    = 1000000
)

type faultJSON struct {
	ID          string  `json:"id"`
	URL         string  `json:"url"`
	Mode        string  `json:"mode"`
	StatusCode  *int    `json:"statusCode"`
	Delay       *string `json:"delay"`
	Remaining   *int    `json:"remaining"`
	Expires     *string `json:"expiresDateTime"`
	Created     string  `json:"createdDateTime"`
	Active      bool    `json:"active"`
	Description string  `json:"description"`
}

func faultToJSON(f store.Fault, now time.Time) faultJSON {
	out := faultJSON{ID: f.ID, URL: f.URL, Mode: string(f.Mode), Expires: timePtr(f.Expires),
		Created: graph.FormatTime(f.Created), Active: f.Active(now)}
	switch f.Mode {
	case store.FaultStatus:
		code := f.StatusCode
		out.StatusCode = &code
		out.Description = "POSTs are not made; each fails with HTTP " + strconv.Itoa(code)
	case store.FaultTimeout:
		out.Description = "POSTs are not made; each fails as a timeout"
	case store.FaultSlow:
		s := f.Delay.String()
		out.Delay = &s
		out.Description = "each POST is made after " + s
	}
	if f.Remaining >= 0 {
		r := f.Remaining
		out.Remaining = &r
	}
	return out
}

func bodyInt(body map[string]any, name string) (int, bool, error) {
	v, ok := body[name]
	if !ok || v == nil {
		return 0, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return 0, false, BadRequest("Property '%s' must be a whole number.", name)
	}
	i, err := strconv.Atoi(n.String())
	if err != nil {
		return 0, false, BadRequest("Property '%s' must be a whole number.", name)
	}
	return i, true, nil
}

func bodyDuration(body map[string]any, name string, limit time.Duration) (time.Duration, bool, error) {
	raw, ok, err := bodyString(body, name)
	if err != nil || !ok {
		return 0, ok, err
	}
	dur, err := time.ParseDuration(raw)
	if err != nil || dur <= 0 || dur > limit {
		return 0, false, BadRequest("Invalid %s '%s': use a positive Go duration of at most %s, such as 2s or 5m.", name, raw, limit)
	}
	return dur, true, nil
}

func (d *Deliveries) addFault(c *httpapi.Ctx) error {
	body, err := Object(c)
	if err != nil {
		return err
	}
	if err := onlyProperties(body, "url", "mode", "statusCode", "delay", "count", "duration"); err != nil {
		return err
	}
	now := d.Clock.Now()
	f := store.Fault{Remaining: -1, Created: now}
	rawURL, ok, err := bodyString(body, "url")
	if err != nil {
		return err
	}
	if u, perr := url.Parse(rawURL); !ok || perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return BadRequest("Property 'url' must be the absolute http or https notification URL the fault applies to.")
	}
	f.URL = rawURL
	mode, _, err := bodyString(body, "mode")
	if err != nil {
		return err
	}
	f.Mode = store.FaultMode(mode)
	code, hasCode, err := bodyInt(body, "statusCode")
	if err != nil {
		return err
	}
	delay, hasDelay, err := bodyDuration(body, "delay", maxFaultDelay)
	if err != nil {
		return err
	}
	switch f.Mode {
	case store.FaultStatus:
		if !hasCode {
			code = http.StatusServiceUnavailable
		}
		if code < 400 || code > 599 {
			return BadRequest("Invalid statusCode %d: an injected failure is an HTTP status from 400 to 599.", code)
		}
		f.StatusCode = code
	case store.FaultTimeout:
	case store.FaultSlow:
		if !hasDelay {
			return BadRequest("A slow fault needs 'delay', a Go duration such as 2s.")
		}
		f.Delay = delay
	default:
		return BadRequest("Invalid mode '%s': use status, timeout or slow.", mode)
	}
	if hasCode && f.Mode != store.FaultStatus {
		return BadRequest("'statusCode' applies to the status mode only.")
	}
	if hasDelay && f.Mode != store.FaultSlow {
		return BadRequest("'delay' applies to the slow mode only.")
	}
	count, hasCount, err := bodyInt(body, "count")
	if err != nil {
		return err
	}
	if hasCount {
		if count < 1 || count > maxFaultCount {
			return BadRequest("Invalid count %d: it must be from 1 to %d.", count, maxFaultCount)
		}
		f.Remaining = count
	}
	dur, hasDur, err := bodyDuration(body, "duration", maxFaultDuration)
	if err != nil {
		return err
	}
	if hasDur {
		f.Expires = now.Add(dur)
	}
	if !hasCount && !hasDur {
		return BadRequest("A fault needs 'count' (how many POSTs), 'duration' (for how long, such as 5m), or both.")
	}
	var id [8]byte
	rand.Read(id[:])
	f.ID = hex.EncodeToString(id[:])
	if err := d.Pipeline.AddFault(c.R.Context(), f); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, faultToJSON(f, now))
}

func (d *Deliveries) listFaults(c *httpapi.Ctx) error {
	fs, err := d.Pipeline.Faults(c.R.Context())
	if err != nil {
		return err
	}
	now := d.Clock.Now()
	value := make([]faultJSON, 0, len(fs))
	for _, f := range fs {
		value = append(value, faultToJSON(f, now))
	}
	return c.JSON(http.StatusOK, map[string]any{"value": value})
}

func (d *Deliveries) deleteFault(c *httpapi.Ctx) error {
	err := d.Pipeline.DeleteFault(c.R.Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return graph.Errorf(http.StatusNotFound, graph.CodeResourceNotFound, "Fault '%s' does not exist.", c.Param("id"))
	}
	if err != nil {
		return err
	}
	return c.NoContent()
}
