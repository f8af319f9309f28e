package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

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
//
// apps, a table of objects, adds to the first subscription (by id) of each app the
// object of kind $12 whose alt is the lower-cased app id, under the empty tenant,
// as GetObjectByAlt finds it: two columns, whether the row carries the app's
// lookup and whether it found one, then the object's. Once per app, not per
// subscription: a change that a hundred subscriptions of one app match reads the
// app once, as the hook did (a is MATERIALIZED for that: inlined into the join, it
// was read again for each subscription).
func appendChangeQuery(withSubs bool, apps string) string {
	q := `WITH c AS (
		INSERT INTO changes (seq, tenant, kind, id, change_type, topics, time, before, after, extra)
		VALUES ((pg_current_xact_id()::text::bigint << 20) + $10, $1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq
	), t AS (
		INSERT INTO change_topics (tenant, topic, seq)
		SELECT DISTINCT $1, j.topic, c.seq FROM c CROSS JOIN unnest($11::text[]) AS j(topic)
	)`
	if !withSubs {
		return q + ` SELECT c.seq FROM c`
	}
	// The LEFT JOIN keeps the seq when no subscription matches; COALESCE keeps the
	// columns scannable then.
	cols := ` SELECT c.seq, COALESCE(s.id, ''), COALESCE(s.tenant, ''), COALESCE(s.app_id, ''), COALESCE(s.creator_id, ''),
		COALESCE(s.permission_type, 0), COALESCE(s.resource_type, ''), COALESCE(s.variant, ''), COALESCE(s.topic, ''),
		COALESCE(s.change_types, ''), COALESCE(s.filter, ''), COALESCE(s.notification_url, ''), COALESCE(s.lifecycle_url, ''),
		COALESCE(s.client_state, ''), COALESCE(s.include_data, 0), COALESCE(s.expiration, 0), COALESCE(s.authorized_until, 0),
		COALESCE(s.next_reminder, 0), COALESCE(s.created, 0), COALESCE(s.version, 0), COALESCE(s.data, ''::bytea)`
	if apps == "" {
		return q + cols + `
	FROM c LEFT JOIN subscriptions s ON s.tenant = $1 AND s.topic = ANY ($11::text[])
	ORDER BY s.id`
	}
	return q + `, s AS (
		SELECT ` + subCols + ` FROM subscriptions WHERE tenant = $1 AND topic = ANY ($11::text[])
	), a AS MATERIALIZED (
		SELECT x.first, o.* FROM (SELECT lower(app_id) AS app, min(id) AS first FROM s GROUP BY 1) x
		LEFT JOIN LATERAL (
			SELECT ` + objectCols + ` FROM ` + apps + `
			WHERE tenant = '' AND kind = $12 AND alt = x.app AND deleted = 0 ORDER BY alt, id LIMIT 1
		) o ON true
	)` + cols + `, a.first IS NOT NULL, a.id IS NOT NULL, COALESCE(a.tenant, ''), COALESCE(a.kind, ''), COALESCE(a.id, ''),
		COALESCE(a.owner, ''), COALESCE(a.parent, ''), COALESCE(a.alt, ''), COALESCE(a.deleted, 0), COALESCE(a.version, 0),
		COALESCE(a.created, 0), COALESCE(a.updated, 0), COALESCE(a.data, ''::bytea), COALESCE(a.sort, '')
	FROM c LEFT JOIN s ON true LEFT JOIN a ON a.first = s.id
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
	kind := t.s.cfg.SubscriberKind
	apps := ""
	if withSubs && kind != "" {
		apps = t.s.d.objects(kind)
	}
	topics := c.Topics
	if topics == nil {
		topics = []string{}
	}
	args := []any{c.Tenant, c.Kind, c.ID, c.ChangeType, topicsJSON, nanos(c.Time), c.Before, c.After, c.Extra, t.rank, topics}
	if apps != "" {
		args = append(args, kind)
	}
	rows, err := t.Query(ctx, appendChangeQuery(withSubs, apps), args...)
	if err != nil {
		return t.translate(err)
	}
	defer rows.Close()
	var subs []store.Subscription
	var found map[string]cachedObject
	for rows.Next() {
		if !withSubs {
			if err := rows.Scan(&c.Seq); err != nil {
				return err
			}
			continue
		}
		var s store.Subscription
		var app appLookup
		if apps == "" {
			s, err = scanSub(seqFirst{rows, &c.Seq, nil})
		} else {
			s, err = scanSub(seqFirst{rows, &c.Seq, &app})
		}
		if err != nil {
			return err
		}
		if s.ID == "" {
			continue
		}
		subs = append(subs, s)
		// Kept only for an ASCII app id, whose lower case is the same in Go and in
		// the database.
		if app.looked && isASCII(s.AppID) {
			if found == nil {
				found = map[string]cachedObject{}
			}
			found[strings.ToLower(s.AppID)] = app.cachedObject
		}
	}
	if err := rows.Err(); err != nil {
		return t.translate(t.note(err))
	}
	t.rank++
	if withSubs {
		t.prefetched = &prefetchedSubs{tenant: c.Tenant, topics: c.Topics, subs: subs, apps: found}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// seqFirst scans a row whose first column is a number (a change's seq, a key's
// place), then the columns its caller asks for, then, when app is set, the app's
// lookup appendChangeQuery adds.
type seqFirst struct {
	sc  interface{ Scan(...any) error }
	seq *int64
	app *appLookup
}

// appLookup is the app appendChangeQuery read with a subscription, if looked.
type appLookup struct {
	looked bool
	cachedObject
}

func (s seqFirst) Scan(dest ...any) error {
	if s.app == nil {
		return s.sc.Scan(append([]any{s.seq}, dest...)...)
	}
	o := &s.app.o
	var deleted int
	var created, updated int64
	all := append(append([]any{s.seq}, dest...), &s.app.looked, &s.app.found, &o.Tenant, &o.Kind, &o.ID, &o.Owner, &o.Parent, &o.Alt,
		&deleted, &o.Version, &created, &updated, &o.Data, &o.Sort)
	if err := s.sc.Scan(all...); err != nil {
		return err
	}
	o.Deleted, o.Created, o.Updated = deleted != 0, fromNanos(created), fromNanos(updated)
	if !s.app.found {
		*o = store.Object{}
	}
	return nil
}

// prefetchedSubs are the subscriptions appendInOne read with a change, for the
// SubscriptionsByTopics call of the change hook that follows.
type prefetchedSubs struct {
	tenant string
	topics []string
	subs   []store.Subscription
	// apps are the objects of Config.SubscriberKind read with them, by alt key
	// (the subscription's lower-cased app id), found or not; the hook's lookups
	// of them by alt are answered from here until the hook returns, or an object
	// of the kind is written.
	apps map[string]cachedObject
	// taken tells that the hook has had the subscriptions.
	taken bool
}

// takePrefetched returns the subscriptions read with the change for the same
// tenant and topics, once; a write to subscriptions since has dropped them.
func (t *Tx) takePrefetched(tenant string, topics []string) ([]store.Subscription, bool) {
	p := t.prefetched
	if p == nil || p.taken || p.tenant != tenant || !slices.Equal(p.topics, topics) {
		return nil, false
	}
	p.taken = true
	return p.subs, true
}

// prefetchedApp returns the object of Config.SubscriberKind read with the change's
// subscriptions for the alt key, if it was.
func (t *Tx) prefetchedApp(tenant, kind, alt string) (cachedObject, bool) {
	p := t.prefetched
	if p == nil || p.apps == nil || tenant != "" || kind != t.s.cfg.SubscriberKind {
		return cachedObject{}, false
	}
	o, ok := p.apps[alt]
	return o, ok
}
