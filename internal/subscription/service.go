package subscription

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
)

// Service serves /subscriptions and owns the subscription rules.
type Service struct {
	cfg     Config
	st      store.Store
	hs      *Handshaker
	catalog *resource.Catalog
}

// New returns the subscriptions API over st.
func New(st store.Store, cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	catalog, err := resource.NewCatalog(cfg.Resources)
	if err := errors.Join(err, cfg.validate(catalog)); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, st: st, hs: NewHandshaker(cfg), catalog: catalog}, nil
}

// Routes registers the subscription endpoints (served under /v1.0 and /beta).
func (s *Service) Routes(r *httpapi.Router) {
	r.Handle(http.MethodPost, "subscriptions", s.create)
	r.Handle(http.MethodGet, "subscriptions", s.list)
	r.Handle(http.MethodGet, "subscriptions/{id}", s.get)
	r.Handle(http.MethodPatch, "subscriptions/{id}", s.update)
	r.Handle(http.MethodDelete, "subscriptions/{id}", s.delete)
	r.Handle(http.MethodPost, "subscriptions/{id}/reauthorize", s.reauthorize)
}

// createRequest is a create body after the checks that need no store.
type createRequest struct {
	resource   *parsedResource
	changeType []string
	res        Resource // the representation, without id and creator fields
	exp        time.Time
	lifecycle  string
	clientSt   string
	rich       bool
}

// parseCreate checks a create body in the order Microsoft's "Receive change notifications through webhooks" lists (syntax, resource,
// changeType, …), everything that needs no store.
func (s *Service) parseCreate(c *httpapi.Ctx) (*createRequest, error) {
	p := c.Principal
	pl, err := decodePayload(c)
	if err != nil {
		return nil, err
	}
	req := &createRequest{}
	res := &req.res
	rawResource, ok, err := pl.str(propResource)
	if err != nil {
		return nil, err
	}
	if !ok || strings.TrimSpace(rawResource) == "" {
		return nil, invalidRequest("resource is a required property for subscription creation")
	}
	if req.resource, err = s.parseResource(rawResource, p); err != nil {
		return nil, err
	}
	d := req.resource.desc
	ct, ok, err := pl.str(propChangeType)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalidRequest("changeType is a required property for subscription creation")
	}
	if req.changeType, err = parseChangeTypes(ct, d.AllowedChangeTypes(req.resource.path)); err != nil {
		return nil, err
	}
	nurl, ok, err := pl.str(propNotificationURL)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalidRequest("notificationUrl is a required property for subscription creation")
	}
	if err := s.checkURL(nurl, notificationURLKind); err != nil {
		return nil, err
	}
	lurl, hasLifecycle, err := pl.str(propLifecycleURL)
	if err != nil {
		return nil, err
	}
	if hasLifecycle {
		if err := s.checkURL(lurl, lifecycleURLKind); err != nil {
			return nil, err
		}
		req.lifecycle = lurl
		res.LifecycleNotificationURL = ptr(lurl)
	}
	rawExp, ok, err := pl.str(propExpiration)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalidRequest(msgExpirationRequired)
	}
	if req.exp, err = s.expiration(rawExp, d, c.Now, opCreate); err != nil {
		return nil, err
	}
	if d.Teams && !hasLifecycle && req.exp.After(c.Now.Add(s.cfg.TeamsLifecycleAfter)) {
		return nil, invalidRequest(msgTeamsLifecycle)
	}
	if cs, ok, err := pl.str(propClientState); err != nil {
		return nil, err
	} else if ok {
		if err := checkClientState(cs); err != nil {
			return nil, err
		}
		req.clientSt = cs
		res.ClientState = ptr(cs)
	}
	res.LatestSupportedTLSVersion = defaultTLSVersion
	if v, ok, err := pl.str(propLatestSupportedTLS); err != nil {
		return nil, err
	} else if ok {
		if res.LatestSupportedTLSVersion, err = parseTLSVersion(v); err != nil {
			return nil, err
		}
	}
	if v, ok, err := pl.str(propNotificationQueryOptions); err != nil {
		return nil, err
	} else if ok && v != "" {
		return nil, invalidRequest("notificationQueryOptions is not supported for resource '%s'.", rawResource)
	}
	if v, ok, err := pl.str(propNotificationURLAppID); err != nil {
		return nil, err
	} else if ok {
		if err := checkAppID(v); err != nil {
			return nil, err
		}
		res.NotificationURLAppID = ptr(v)
	}
	if v, ok, err := pl.str(propNotificationContentType); err != nil {
		return nil, err
	} else if ok {
		ct, err := parseContentType(v)
		if err != nil {
			return nil, err
		}
		res.NotificationContentType = ptr(ct)
	}
	if err := s.parseRich(pl, req, d); err != nil {
		return nil, err
	}
	if req.rich && d.RichMaxLifetime > 0 && req.exp.After(c.Now.Add(d.RichMaxLifetime+s.cfg.ClockSkew)) {
		return nil, graph.Errorf(http.StatusBadRequest, graph.CodeExtensionError,
			"Subscription expiration can only be %d minutes in the future.", int(d.RichMaxLifetime/time.Minute))
	}
	// Graph echoes the resource without its leading slash and the change types as
	// the caller wrote them ("Change notifications for Outlook resources", example
	// responses); the normalised list is what the pipeline matches.
	res.Resource = strings.TrimPrefix(rawResource, "/")
	res.ChangeType = ct
	res.NotificationURL = nurl
	res.ExpirationDateTime = graph.FormatTime(req.exp)
	res.ApplicationID = p.AppID
	res.CreatorID = p.CreatorID()
	return req, nil
}

// parseRich reads includeResourceData and the certificate fields (Microsoft's "Set up change notifications that include resource data").
func (s *Service) parseRich(pl payload, req *createRequest, d *resource.Descriptor) error {
	rich, hasRich, err := pl.boolean(propIncludeResourceData)
	if err != nil {
		return err
	}
	cert, hasCert, err := pl.str(propEncryptionCertificate)
	if err != nil {
		return err
	}
	certID, hasID, err := pl.str(propEncryptionCertificateID)
	if err != nil {
		return err
	}
	if hasRich {
		req.res.IncludeResourceData = ptr(rich)
	}
	if rich {
		if !d.RichData {
			return invalidRequest("%s workload is not enabled for rich notifications.", d.Workload)
		}
		if d.RichNeedsSelect && !req.resource.selected {
			return invalidRequest("A $select query option naming the properties to include is required in resource '%s' when includeResourceData is true.", req.resource.raw)
		}
		if !hasCert || cert == "" {
			return invalidRequest("encryptionCertificate is a required property when includeResourceData is true.")
		}
		if !hasID || certID == "" {
			return invalidRequest("encryptionCertificateId is a required property when includeResourceData is true.")
		}
	}
	if err := checkCertificate(cert, hasCert, certID, hasID); err != nil {
		return err
	}
	req.rich = rich
	if hasCert {
		req.res.EncryptionCertificate = ptr(cert)
	}
	if hasID {
		req.res.EncryptionCertificateID = ptr(certID)
	}
	return nil
}

func (s *Service) create(c *httpapi.Ctx) error {
	ctx, p := c.R.Context(), c.Principal
	req, err := s.parseCreate(c)
	if err != nil {
		return err
	}
	var target Target
	check := func(tx store.Tx) error {
		var err error
		if target, err = req.resource.resolve(ctx, tx, p, opCreate); err != nil {
			return err
		}
		if err := s.checkDuplicate(ctx, tx, p, target, req.changeType, c.Now); err != nil {
			return err
		}
		return s.checkQuotas(ctx, tx, p, target, c.Now, opCreate)
	}
	if err := s.st.View(ctx, check); err != nil {
		return err
	}
	// The handshakes run outside any transaction (they are network calls); the
	// checks run again inside the insert's, so that two racing creates cannot both
	// pass a quota or duplicate check.
	if err := s.hs.Validate(ctx, req.res.NotificationURL, req.res.LatestSupportedTLSVersion); err != nil {
		return err
	}
	if req.lifecycle != "" {
		if err := s.hs.Validate(ctx, req.lifecycle, req.res.LatestSupportedTLSVersion); err != nil {
			return err
		}
	}
	req.res.ID = uuid.NewString()
	data, err := json.Marshal(req.res)
	if err != nil {
		return err
	}
	sub := store.Subscription{
		ID: req.res.ID, Tenant: p.TenantID, AppID: p.AppID, CreatorID: p.CreatorID(), PermissionType: int(p.Type),
		ResourceType: target.Desc.Type, Variant: target.Variant, Topic: target.Topic,
		ChangeTypes: strings.Join(req.changeType, ","), Filter: target.Filter,
		NotificationURL: req.res.NotificationURL, LifecycleURL: req.lifecycle, ClientState: req.clientSt,
		IncludeResourceData: req.rich, Expiration: req.exp, Created: c.Now, Data: data,
	}
	s.authorize(&sub, c.Now)
	err = s.st.Update(ctx, func(tx store.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		return tx.InsertSubscription(ctx, &sub)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, entity{Context: c.ContextURL("subscriptions/$entity"), Resource: req.res})
}

// authorize starts a new authorization period (create, renewal, reauthorization;
// Microsoft's "Reduce missing subscriptions and change notifications") and schedules the first reauthorizationRequired reminder: ReminderLead
// before the authorization or the subscription runs out, whichever comes first. Only
// subscriptions with a lifecycle URL get reminders.
func (s *Service) authorize(sub *store.Subscription, now time.Time) {
	sub.AuthorizedUntil = now.Add(s.cfg.Authorization)
	sub.NextReminder = time.Time{}
	if sub.LifecycleURL != "" {
		lapse := sub.AuthorizedUntil
		if sub.Expiration.Before(lapse) {
			lapse = sub.Expiration
		}
		sub.NextReminder = lapse.Add(-s.cfg.ReminderLead)
	}
}

// checkDuplicate refuses a second subscription of the same app and creator on the
// same resource (topic and filter) with the same change types (Microsoft's "Update subscription").
func (s *Service) checkDuplicate(ctx context.Context, tx store.Tx, p *identity.Principal, t Target, changeTypes []string, now time.Time) error {
	subs, err := tx.ListSubscriptions(ctx, store.SubscriptionQuery{Tenant: p.TenantID, AppID: p.AppID, CreatorID: p.CreatorID(), Topic: t.Topic, ActiveAt: now})
	if err != nil {
		return err
	}
	want := strings.Join(changeTypes, ",")
	for _, sub := range subs {
		if sub.Filter == t.Filter && sameChangeTypes(sub.ChangeTypes, want) {
			return graph.Errorf(http.StatusConflict, graph.CodeConflict, "Subscription Id %s already exists for the requested combination", sub.ID)
		}
	}
	return nil
}

// visible tells whether p may see sub (Microsoft's "List subscriptions"): applications see their app's
// subscriptions; delegated callers those created for them, by their app or, with
// Subscription.Read.All, by any app; a Global Administrator with Subscription.Read.All
// sees every subscription of the directory. Nothing crosses tenants.
func visible(p *identity.Principal, sub *store.Subscription) bool {
	if sub.Tenant != p.TenantID {
		return false
	}
	if p.Type == identity.Application {
		return sub.AppID == p.AppID
	}
	if seesAll(p) {
		return true
	}
	return sub.CreatorID == p.UserID && (sub.AppID == p.AppID || p.Has(identity.SubscriptionReadAll))
}

// manages tells whether p is the app (and, delegated, the user) that created sub:
// only they may change it or read its clientState.
func manages(p *identity.Principal, sub *store.Subscription) bool {
	return sub.AppID == p.AppID && (!p.Type.Delegated() || sub.CreatorID == p.UserID)
}

// seesAll is the Global Administrator row of Microsoft's "List subscriptions".
func seesAll(p *identity.Principal) bool {
	return p.GlobalAdmin() && p.Has(identity.SubscriptionReadAll)
}

// load reads a subscription for an operation: unknown, expired and invisible ones are
// all "not found"; ones p sees but may not act on (another app's, or a resource p
// lost the permission to) are access denied.
func (s *Service) load(ctx context.Context, tx store.Tx, c *httpapi.Ctx, op string) (store.Subscription, error) {
	p := c.Principal
	sub, err := tx.GetSubscription(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!sub.Expiration.After(c.Now) || !visible(p, &sub))) {
		return sub, subscriptionNotFound()
	}
	if err != nil {
		return sub, err
	}
	if !manages(p, &sub) {
		// Seen through Subscription.Read.All: readable, not manageable.
		if op == opGet {
			return sub, nil
		}
		return sub, notManager(op)
	}
	if d := s.catalog.Lookup(sub.ResourceType); d == nil {
		return sub, deniedWith(op, "No permission lets a caller manage subscriptions to "+sub.ResourceType+" any more.")
	} else if !d.CanSubscribe(p, sub.Variant) {
		return sub, missingPermission(op, d, sub.Variant, p)
	}
	return sub, nil
}

func (s *Service) get(c *httpapi.Ctx) error {
	var sub store.Subscription
	err := s.st.View(c.R.Context(), func(tx store.Tx) error {
		var err error
		sub, err = s.load(c.R.Context(), tx, c, opGet)
		return err
	})
	if err != nil {
		return err
	}
	res, err := ParseResource(sub.Data)
	if err != nil {
		return err
	}
	if !manages(c.Principal, &sub) {
		// A reader through Subscription.Read.All sees the subscription, not the
		// secret its app shares with its endpoint.
		res.ClientState = nil
	}
	return c.JSON(http.StatusOK, entity{Context: c.ContextURL("subscriptions/$entity"), Resource: res})
}

// listToken is the state a list $skiptoken carries.
type listToken struct {
	After string `json:"after"`
}

func (s *Service) list(c *httpapi.Ctx) error {
	p := c.Principal
	q := store.SubscriptionQuery{Tenant: p.TenantID, ActiveAt: c.Now, Limit: s.cfg.PageSize + 1}
	if p.Type == identity.Application {
		q.AppID = p.AppID
	} else if !seesAll(p) {
		q.CreatorID = p.UserID
		if !p.Has(identity.SubscriptionReadAll) {
			q.AppID = p.AppID
		}
	}
	if c.HasQuery("$skiptoken") {
		var tok listToken
		if err := odata.DecodeSkipToken(c.Query("$skiptoken"), &tok); err != nil {
			return invalidRequest("%s", err.Error())
		}
		q.AfterID = tok.After
	}
	var subs []store.Subscription
	err := s.st.View(c.R.Context(), func(tx store.Tx) error {
		var err error
		subs, err = tx.ListSubscriptions(c.R.Context(), q)
		return err
	})
	if err != nil {
		return err
	}
	out := collection{Context: c.ContextURL("subscriptions"), Value: []Resource{}}
	if len(subs) > s.cfg.PageSize {
		subs = subs[:s.cfg.PageSize]
		out.NextLink = c.LinkWith(map[string]string{"$skiptoken": odata.EncodeSkipToken(listToken{After: subs[len(subs)-1].ID})})
	}
	for _, sub := range subs {
		res, err := ParseResource(sub.Data)
		if err != nil {
			return err
		}
		// Lists never show the shared secret (Microsoft's "subscription resource type").
		res.ClientState = nil
		out.Value = append(out.Value, res)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Service) delete(c *httpapi.Ctx) error {
	ctx := c.R.Context()
	err := s.st.Update(ctx, func(tx store.Tx) error {
		sub, err := s.load(ctx, tx, c, opDelete)
		if err != nil {
			return err
		}
		return s.remove(ctx, tx, sub)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// remove deletes a subscription and lets the delivery pipeline drop its queue.
func (s *Service) remove(ctx context.Context, tx store.Tx, sub store.Subscription) error {
	if err := tx.DeleteSubscription(ctx, sub.ID); err != nil {
		return err
	}
	if s.cfg.OnDelete != nil {
		return s.cfg.OnDelete(ctx, tx, sub)
	}
	return nil
}

func (s *Service) reauthorize(c *httpapi.Ctx) error {
	ctx := c.R.Context()
	err := s.st.Update(ctx, func(tx store.Tx) error {
		sub, err := s.load(ctx, tx, c, opUpdate)
		if err != nil {
			return err
		}
		s.authorize(&sub, c.Now)
		return tx.UpdateSubscription(ctx, &sub)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}
