package subscription

import (
	"context"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

var (
	outlookTypes   = []string{string(identity.Message), string(identity.Event), string(identity.Contact)}
	directoryTypes = []string{string(identity.User), string(identity.Group)}
	teamsTypes     = []string{string(identity.ChatMessage)}
)

// quota is one limit of spec §2.4: the subscriptions q selects may number at most
// limit.
type quota struct {
	q       store.SubscriptionQuery
	limit   int
	message string // names the limit; %d is the limit
}

// quotas lists the limits a new subscription on t by p must stay within.
func (s *Service) quotas(p *identity.Principal, t Target) []quota {
	qs := s.cfg.Quotas
	switch t.Type {
	case identity.Message, identity.Event, identity.Contact:
		return []quota{{
			q:       store.SubscriptionQuery{Tenant: p.TenantID, TopicPrefix: change.User(t.User) + "/", ResourceTypes: outlookTypes},
			limit:   qs.PerMailbox,
			message: "The limit of %d subscriptions per mailbox (all applications together) has been reached.",
		}}
	case identity.User, identity.Group:
		return []quota{
			{q: store.SubscriptionQuery{Tenant: p.TenantID, AppID: p.AppID, ResourceTypes: directoryTypes}, limit: qs.DirectoryPerAppTenant,
				message: "The limit of %d user and group subscriptions per application per tenant has been reached."},
			{q: store.SubscriptionQuery{Tenant: p.TenantID, ResourceTypes: directoryTypes}, limit: qs.DirectoryPerTenant,
				message: "The limit of %d user and group subscriptions per tenant (all applications together) has been reached."},
			{q: store.SubscriptionQuery{AppID: p.AppID, ResourceTypes: directoryTypes}, limit: qs.DirectoryPerApp,
				message: "The limit of %d user and group subscriptions per application (all tenants together) has been reached."},
		}
	case identity.CallRecord:
		return []quota{{
			q:       store.SubscriptionQuery{Tenant: p.TenantID, ResourceTypes: []string{string(identity.CallRecord)}},
			limit:   qs.CallRecordsPerTenant,
			message: "The limit of %d callRecord subscriptions per organization has been reached.",
		}}
	case identity.ChatMessage:
		out := []quota{{
			q:       store.SubscriptionQuery{Tenant: p.TenantID, ResourceTypes: teamsTypes},
			limit:   qs.TeamsPerTenant,
			message: "The limit of %d Teams subscriptions per organization has been reached.",
		}}
		switch t.Variant {
		case identity.VariantChannel, identity.VariantChat:
			out = append(out, quota{
				q:       store.SubscriptionQuery{Tenant: p.TenantID, AppID: p.AppID, Topic: t.Topic},
				limit:   qs.ChatMessagesPerAppTarget,
				message: "The limit of %d chat message subscriptions per application per channel or chat has been reached.",
			})
		case identity.VariantUserChats:
			out = append(out, quota{
				q:       store.SubscriptionQuery{Tenant: p.TenantID, Topic: t.Topic},
				limit:   qs.ChatMessagesPerUser,
				message: "The limit of %d subscriptions per user to /users/{id}/chats/getAllMessages has been reached.",
			})
		}
		return out
	}
	return nil
}

// checkQuotas counts active subscriptions only: expired ones no longer count even
// before the sweeper removes them.
func (s *Service) checkQuotas(ctx context.Context, tx store.Tx, p *identity.Principal, t Target, now time.Time, op string) error {
	for _, qt := range s.quotas(p, t) {
		q := qt.q
		q.ActiveAt = now
		n, err := tx.CountSubscriptions(ctx, q)
		if err != nil {
			return err
		}
		if n >= qt.limit {
			return quotaExceeded(op, qt.message, qt.limit)
		}
	}
	return nil
}
