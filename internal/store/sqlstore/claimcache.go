package sqlstore

import (
	"slices"
	"sync"

	"github.com/graphhook/graphhook/internal/store"
)

// claimCache keeps the columns of queued notifications that never change once a
// row is written (its tenant, subscription, resource, payload …), from the commit
// that queued them until a claim takes them, so that a claim reads only each row's
// id and the columns that do change (attempt, scheduled, error) and fills the rest
// from here. Reading every column of every claimed row, the payload above all,
// was a third of the queue's cost on SQLite (BenchmarkQueue).
//
// It is correct because those columns are written once, by Enqueue, and a row id
// is never given twice (AUTOINCREMENT on SQLite, a sequence on PostgreSQL): an
// entry can only be missing, never stale. A row this process did not queue (another
// node's, or queued before a restart), or one evicted, is read from the table.
//
// Its size is bounded: entries live in two generations, and once the newer one
// holds maxBytes of them it becomes the older one and the older one is dropped, so
// rows that no claim takes (discarded with their subscription, say) go within two
// generations.
type claimCache struct {
	mu       sync.Mutex
	cur, old map[int64]store.Notification
	bytes    int
	maxBytes int
}

// claimCacheBytes is one generation's size: at 40,000 notifications a second,
// claims take rows within a few hundred milliseconds of their commit, a few
// thousand rows of a few hundred bytes.
const claimCacheBytes = 4 << 20

func newClaimCache(maxBytes int) *claimCache {
	return &claimCache{cur: map[int64]store.Notification{}, maxBytes: maxBytes}
}

// entrySize is what an entry keeps alive, roughly.
func entrySize(n *store.Notification) int {
	return 256 + len(n.Tenant) + len(n.SubscriptionID) + len(n.ResourceType) + len(n.Event) + len(n.Resource) + len(n.Payload) + len(n.Rich)
}

// put keeps the write-once columns of rows just committed.
func (c *claimCache) put(rows []*store.Notification) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range rows {
		if n.ID == 0 {
			continue
		}
		size := entrySize(n)
		if c.bytes+size > c.maxBytes {
			c.old, c.cur, c.bytes = c.cur, make(map[int64]store.Notification, len(c.cur)), 0
		}
		c.cur[n.ID] = store.Notification{
			ID: n.ID, URL: n.URL, Tenant: n.Tenant, SubscriptionID: n.SubscriptionID, ResourceType: n.ResourceType,
			Lifecycle: n.Lifecycle, Event: n.Event, Resource: n.Resource, Seq: n.Seq, ReplayOf: n.ReplayOf,
			// As the table gives them back.
			Created: fromNanos(nanos(n.Created)),
			// Clipped: a claimer that appends to them must not write into the
			// queuer's arrays.
			Payload: slices.Clip(payloadOf(n)), Rich: slices.Clip(n.Rich),
		}
		c.bytes += size
	}
}

// take fills n's write-once columns from the entry for n.ID, if there is one, and
// drops the entry: a row is claimed from its first columns once, and a later
// claim of it (a retry) reads the table.
func (c *claimCache) take(n *store.Notification) bool {
	c.mu.Lock()
	e, ok := c.cur[n.ID]
	if ok {
		delete(c.cur, n.ID)
	} else if e, ok = c.old[n.ID]; ok {
		delete(c.old, n.ID)
	}
	c.mu.Unlock()
	if !ok || e.URL != n.URL {
		return false
	}
	n.Tenant, n.SubscriptionID, n.ResourceType, n.Lifecycle = e.Tenant, e.SubscriptionID, e.ResourceType, e.Lifecycle
	n.Event, n.Resource, n.Payload, n.Rich = e.Event, e.Resource, e.Payload, e.Rich
	n.Seq, n.Created, n.ReplayOf = e.Seq, e.Created, e.ReplayOf
	return true
}
