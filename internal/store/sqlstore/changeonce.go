package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/graphhook/graphhook/internal/store"
)

// On a database that runs data-modifying statements inside WITH (PostgreSQL,
// Dialect.WritableCTE), AppendChange writes a change and its topic rows in one
// statement, and, when a change hook is set, reads in that same statement the
// subscriptions on the change's topics, which the hook asks for first: one round
// trip where there were three. Each round trip cost both processes a network
// exchange and the database a portal and an executor, a large share of a small
// change's cost. The statement reads the subscriptions in the transaction's
// snapshot, as the hook's own query would, and SERIALIZABLE sees the same reads.

// appendChangeQuery is AppendChange's one statement; its parameters are the
// changes row's nine columns ($1 the tenant, $5 the topics as JSON), the change's
// rank in its transaction ($10) and its topics as an array ($11). The seq is the one
// graphhook_change_seq (migration 011) gives, the transaction's id << 20 plus the
// rank, with the rank counted here rather than in a setting of the session: the
// function call and its set_config were a statement of their own for each change.
// withSubs adds the subscriptions on the topics: one row per subscription, in id
// order, or a single row with an empty id when there are none; the first column of
// every row is the change's seq.
func appendChangeQuery(withSubs bool) string {
	q := `WITH c AS (
		INSERT INTO changes (seq, tenant, kind, id, change_type, topics, time, before, after, extra)
		VALUES ((pg_current_xact_id()::text::bigint << 20) + $10, $1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq
	), t AS (
		INSERT INTO change_topics (tenant, topic, seq)
		SELECT DISTINCT $1, j.topic, c.seq FROM c CROSS JOIN unnest($11::text[]) AS j(topic)
	)
	SELECT c.seq`
	if !withSubs {
		return q + ` FROM c`
	}
	// The LEFT JOIN keeps the seq when no subscription matches; COALESCE keeps the
	// columns scannable then.
	return q + `, COALESCE(s.id, ''), COALESCE(s.tenant, ''), COALESCE(s.app_id, ''), COALESCE(s.creator_id, ''),
		COALESCE(s.permission_type, 0), COALESCE(s.resource_type, ''), COALESCE(s.variant, ''), COALESCE(s.topic, ''),
		COALESCE(s.change_types, ''), COALESCE(s.filter, ''), COALESCE(s.notification_url, ''), COALESCE(s.lifecycle_url, ''),
		COALESCE(s.client_state, ''), COALESCE(s.include_data, 0), COALESCE(s.expiration, 0), COALESCE(s.authorized_until, 0),
		COALESCE(s.next_reminder, 0), COALESCE(s.created, 0), COALESCE(s.version, 0), COALESCE(s.data, ''::bytea)
	FROM c LEFT JOIN subscriptions s ON s.tenant = $1 AND s.topic = ANY ($11::text[])
	ORDER BY s.id`
}

// maxRank caps the changes of one transaction: a seq keeps 20 bits for the rank.
const maxRank = 1 << 20

// appendInOne runs appendChangeQuery for c, whose topics are topicsJSON, and keeps
// the subscriptions it read for the hook.
func (t *Tx) appendInOne(ctx context.Context, c *store.Change, topicsJSON string) error {
	if t.rank >= maxRank {
		return fmt.Errorf("store: more than %d changes in one transaction", maxRank)
	}
	withSubs := t.s.hook != nil
	topics := c.Topics
	if topics == nil {
		topics = []string{}
	}
	rows, err := t.Query(ctx, appendChangeQuery(withSubs), c.Tenant, c.Kind, c.ID, c.ChangeType, topicsJSON, nanos(c.Time), c.Before, c.After, c.Extra, t.rank, topics)
	if err != nil {
		return t.translate(err)
	}
	defer rows.Close()
	var subs []store.Subscription
	for rows.Next() {
		if !withSubs {
			if err := rows.Scan(&c.Seq); err != nil {
				return err
			}
			continue
		}
		s, err := scanSub(seqFirst{rows, &c.Seq})
		if err != nil {
			return err
		}
		if s.ID != "" {
			subs = append(subs, s)
		}
	}
	if err := rows.Err(); err != nil {
		return t.translate(t.note(err))
	}
	t.rank++
	if withSubs {
		t.prefetched = &prefetchedSubs{tenant: c.Tenant, topics: c.Topics, subs: subs}
	}
	return nil
}

// seqFirst scans a row whose first column is a change's seq, then the columns its
// caller asks for.
type seqFirst struct {
	sc  interface{ Scan(...any) error }
	seq *int64
}

func (s seqFirst) Scan(dest ...any) error {
	return s.sc.Scan(append([]any{s.seq}, dest...)...)
}

// prefetchedSubs are the subscriptions appendInOne read with a change, for the
// SubscriptionsByTopics call of the change hook that follows.
type prefetchedSubs struct {
	tenant string
	topics []string
	subs   []store.Subscription
}

// takePrefetched returns the subscriptions read with the change for the same
// tenant and topics, once; a write to subscriptions since has dropped them.
func (t *Tx) takePrefetched(tenant string, topics []string) ([]store.Subscription, bool) {
	p := t.prefetched
	if p == nil || p.tenant != tenant || !slices.Equal(p.topics, topics) {
		return nil, false
	}
	t.prefetched = nil
	return p.subs, true
}
