package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
)

// hook is the store's change hook: the matcher. It runs inside the transaction that
// appends c, so its queue rows commit (or roll back) with the change.
func (p *Pipeline) hook(ctx context.Context, tx store.Tx, c *store.Change) error {
	tx.AfterCommit(p.metrics.changes.Inc)
	subs, err := tx.SubscriptionsByTopics(ctx, c.Tenant, c.Topics)
	if err != nil {
		return err
	}
	removal := p.removalPrefixes(c)
	if len(subs) == 0 && removal == nil {
		return nil
	}
	notice, err := change.NoticeOf(c)
	if err != nil {
		// A change whose notice cannot be read is a workload bug; it must not fail
		// the workload's write, so it is logged and not notified.
		p.log.Error("delivery: unreadable change notice", "seq", c.Seq, "kind", c.Kind, "err", err)
		return nil
	}
	m := matchState{p: p, c: c, notice: &notice}
	var rows []*store.Notification
	var apps map[string]*appGrant
	// notified are the subscriptions this change is told to: one that hears of its
	// resource's deletion (a purged group's members) is not also removed with it.
	notified := map[string]bool{}
	for i := range subs {
		s := &subs[i]
		if apps == nil {
			apps = map[string]*appGrant{}
		}
		g, err := p.grant(ctx, tx, apps, s.AppID)
		if err != nil {
			return err
		}
		if !g.allows(s, p.catalog.Lookup(s.ResourceType)) {
			lc, err := p.removeSubscription(ctx, tx, s, "the app lost the permission")
			if err != nil {
				return err
			}
			if lc != nil {
				rows = append(rows, lc)
			}
			continue
		}
		changeType, ok := m.changeTypeFor(s)
		if !ok {
			continue
		}
		rows = append(rows, m.row(s, changeType))
		notified[s.ID] = true
	}
	for _, prefix := range removal {
		lcs, err := p.removeUnder(ctx, tx, c.Tenant, prefix, notified)
		if err != nil {
			return err
		}
		rows = append(rows, lcs...)
	}
	if c.Kind == identity.KindUser && c.After == nil {
		// Subscriptions the deleted user created (delegated) lost their creator.
		created, err := tx.ListSubscriptions(ctx, store.SubscriptionQuery{Tenant: c.Tenant, CreatorID: c.ID})
		if err != nil {
			return err
		}
		for i := range created {
			if !identity.PermissionType(created[i].PermissionType).Delegated() {
				continue
			}
			lc, err := p.removeSubscription(ctx, tx, &created[i], "the creator was deleted")
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if lc != nil {
				rows = append(rows, lc)
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	matched := float64(len(rows))
	tx.AfterCommit(func() { p.metrics.matched.Add(matched) })
	return tx.Enqueue(ctx, rows)
}

// matchState is one change being matched against its subscriptions; it decodes
// the item states and renders the payload once, lazily.
type matchState struct {
	p       *Pipeline
	c       *store.Change
	notice  *change.Notice
	decoded bool
	before  map[string]any
	after   map[string]any
	payload []byte
}

// changeTypeFor returns the changeType s is told, and false when s is not notified
// (filtered out, or a changeType it did not ask for).
func (m *matchState) changeTypeFor(s *store.Subscription) (string, bool) {
	ct := m.c.ChangeType
	if s.Filter != "" {
		f := m.p.filter(s.Filter)
		if f == nil {
			return "", false
		}
		m.decode()
		in := m.before != nil && f.Match(m.before)
		out := m.after != nil && f.Match(m.after)
		switch {
		case !in && !out:
			return "", false
		case !in && out:
			ct = store.Created
		case in && !out:
			ct = store.Deleted
		default:
			ct = store.Updated
		}
	}
	switch {
	case m.notice.RootResource:
		ct = store.Updated
	case m.notice.Directory:
		// Graph reports creation and soft deletion of users and groups as updated;
		// only a hard delete (the object is gone) is deleted.
		if ct == store.Created || (ct == store.Deleted && m.c.After != nil) {
			ct = store.Updated
		}
	}
	if ct == store.Created && !hasChangeType(s.ChangeTypes, ct) && hasChangeType(s.ChangeTypes, store.Updated) {
		// Call records: the record's creation is its first "update" for Graph.
		d := m.p.catalog.Lookup(s.ResourceType)
		return ct, d != nil && d.CreatedIsUpdated
	}
	return ct, hasChangeType(s.ChangeTypes, ct)
}

func hasChangeType(list, ct string) bool {
	for list != "" {
		var item string
		item, list, _ = strings.Cut(list, ",")
		if strings.EqualFold(strings.TrimSpace(item), ct) {
			return true
		}
	}
	return false
}

func (m *matchState) decode() {
	if m.decoded {
		return
	}
	m.decoded = true
	if m.c.Before != nil {
		json.Unmarshal(m.c.Before, &m.before)
	}
	if m.c.After != nil {
		json.Unmarshal(m.c.After, &m.after)
	}
}

func (m *matchState) row(s *store.Subscription, changeType string) *store.Notification {
	n := &store.Notification{
		URL: s.NotificationURL, Tenant: s.Tenant, SubscriptionID: s.ID, ResourceType: s.ResourceType,
		Event: changeType, Resource: m.notice.Resource, Seq: m.c.Seq, Created: m.c.Time,
	}
	if m.notice.RootResource {
		n.Resource = subscribedResource(s)
	}
	if m.payload == nil {
		m.payload = renderResourceData(m.notice, m.c)
	}
	n.Payload = m.payload
	if s.IncludeResourceData && m.notice.Rich {
		n.Rich = m.c.After
		if n.Rich == nil {
			n.Rich = m.c.Before
		}
		if d := m.p.catalog.Lookup(s.ResourceType); d != nil && d.RichNeedsSelect {
			if fields := selectedProperties(s); fields != nil {
				n.Rich = project(n.Rich, fields)
			}
		}
	}
	return n
}

// subscribedResource is the resource a drive or list notification names: the
// subscribed root as the app wrote it in the subscription (users/{id}/drive/root,
// me/drive/root, drives/{id}/root, sites/{id}/lists/{id}), without the leading slash
// or a query, as Graph echoes it (Microsoft's "changeNotification resource type", driveItem samples). The topic key stands in when
// the representation cannot be read.
func subscribedResource(s *store.Subscription) string {
	var d struct {
		Resource string `json:"resource"`
	}
	if err := json.Unmarshal(s.Data, &d); err != nil || d.Resource == "" {
		return s.Topic
	}
	path, _, _ := strings.Cut(d.Resource, "?")
	return strings.TrimPrefix(path, "/")
}

// filter returns the compiled $filter (cached by text), nil when it does not parse
// (the subscriptions API refuses those, so this is only a stale row).
func (p *Pipeline) filter(text string) *odata.Filter {
	if f, ok := p.filters.Load(text); ok {
		return f.(*odata.Filter)
	}
	f, err := odata.ParseFilter(text)
	if err != nil {
		f = nil
	}
	p.filters.Store(text, f)
	return f
}

// appGrant is what an app is consented to, read once per change.
type appGrant struct {
	found       bool
	application []string
	delegated   []string
}

func decodeGrant(data []byte) (*appGrant, error) {
	var app identity.App
	if err := json.Unmarshal(data, &app); err != nil {
		return nil, err
	}
	return &appGrant{found: true, application: app.ApplicationPermissions, delegated: app.DelegatedPermissions}, nil
}

func (p *Pipeline) grant(ctx context.Context, tx store.Tx, cache map[string]*appGrant, appID string) (*appGrant, error) {
	if g, ok := cache[appID]; ok {
		return g, nil
	}
	g := &appGrant{}
	o, err := tx.GetObjectByAlt(ctx, "", identity.KindApp, strings.ToLower(appID))
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		// Every change re-reads the app (the store may answer from its cache);
		// decoding its JSON again was a visible share of a change's cost.
		if g, err = p.grants.Get(appID, o.Data, decodeGrant); err != nil {
			return nil, err
		}
	}
	cache[appID] = g
	return g, nil
}

// allows re-checks, at each change, that the app still holds a permission that
// lets it subscribe to s's resource, described by d (an admin may have revoked it
// since). A resource no descriptor describes is not allowed.
func (g *appGrant) allows(s *store.Subscription, d *resource.Descriptor) bool {
	if !g.found || d == nil {
		return false
	}
	pt := identity.PermissionType(s.PermissionType)
	perms := g.delegated
	if pt == identity.Application {
		perms = g.application
	}
	pr := identity.Principal{Type: pt, Permissions: perms}
	return d.CanSubscribe(&pr, s.Variant)
}

// removalPrefixes returns the topic prefixes whose subscriptions die with the
// object c hard-deleted, as the descriptors say (a user's mailbox, chats and drive;
// a group's members, owners, conversations and drive; …).
func (p *Pipeline) removalPrefixes(c *store.Change) []string {
	if c.ChangeType != store.Deleted || c.After != nil {
		return nil
	}
	var out []string
	for _, d := range p.catalog.Descriptors() {
		if d.RemovedWith == nil {
			continue
		}
		for _, prefix := range d.RemovedWith(c.Kind, c.ID) {
			if !slices.Contains(out, prefix) {
				out = append(out, prefix)
			}
		}
	}
	return out
}

// removeUnder removes the subscriptions on topics under prefix, except those in
// spared. A prefix ending in "/" spares the subscription on the object itself (it
// gets the deleted notification instead).
func (p *Pipeline) removeUnder(ctx context.Context, tx store.Tx, tenant, prefix string, spared map[string]bool) ([]*store.Notification, error) {
	under := strings.TrimSuffix(prefix, "/")
	subs, err := tx.SubscriptionsUnderTopic(ctx, tenant, under)
	if err != nil {
		return nil, err
	}
	var rows []*store.Notification
	for i := range subs {
		if (strings.HasSuffix(prefix, "/") && subs[i].Topic == under) || spared[subs[i].ID] {
			continue
		}
		lc, err := p.removeSubscription(ctx, tx, &subs[i], "the watched resource was deleted")
		if err != nil {
			return nil, err
		}
		if lc != nil {
			rows = append(rows, lc)
		}
	}
	return rows, nil
}

// removeSubscription deletes s and returns its subscriptionRemoved notification
// when s has a lifecycle URL and its resource supports the event (Microsoft's "Reduce missing subscriptions and change notifications").
func (p *Pipeline) removeSubscription(ctx context.Context, tx store.Tx, s *store.Subscription, why string) (*store.Notification, error) {
	if err := tx.DeleteSubscription(ctx, s.ID); err != nil {
		return nil, err
	}
	if err := p.DiscardQueued(ctx, tx, *s); err != nil {
		return nil, err
	}
	id := s.ID
	tx.AfterCommit(func() {
		p.log.Info("delivery: subscription removed", "subscription", id, "reason", why)
		p.metrics.removed.Inc()
	})
	if !p.supports(s, graph.LifecycleSubscriptionRemoved) {
		return nil, nil
	}
	return lifecycleRow(s, graph.LifecycleSubscriptionRemoved, p.clock.Now()), nil
}
