package sqlstore

import (
	"slices"
	"strings"
	"sync"

	"github.com/graphhook/graphhook/internal/store"
)

// writeCache keeps, for the group-commit writer, the answers that the change hook
// asks for again on every change: the subscriptions on each topic the change
// touches (most topics have none) and the objects of a few kinds looked up by alt
// key (the app whose grant is re-checked). Without it those reads were most of a
// change's cost in the writer, which is the serial part of every write.
//
// It is correct only because the writer is the one connection that writes: every
// write to a cached table passes through this store's Tx methods, which clear the
// cache. Within a batch, a savepoint that wrote a cached table may still be rolled
// back, and its reads saw its own writes; so after such a write the cache is not
// filled again until the batch has ended, and is cleared once more then. A store
// whose database other processes write (PostgreSQL) must not use it.
type writeCache struct {
	mu sync.Mutex
	// kinds are the object kinds cached by alt key.
	kinds map[string]bool
	subs  map[string][]store.Subscription
	objs  map[string]cachedObject
	// dirty tells that the running batch wrote a cached table: no fills until the
	// batch ends.
	dirty bool
	max   int
}

type cachedObject struct {
	o     store.Object
	found bool
}

func newWriteCache(kinds []string, max int) *writeCache {
	c := &writeCache{kinds: map[string]bool{}, max: max}
	for _, k := range kinds {
		c.kinds[k] = true
	}
	c.reset()
	return c
}

func (c *writeCache) reset() {
	c.subs = map[string][]store.Subscription{}
	c.objs = map[string]cachedObject{}
}

func cacheKey(parts ...string) string { return strings.Join(parts, "\x00") }

// subscriptions returns the cached subscriptions on tenant's topic.
func (c *writeCache) subscriptions(tenant, topic string) ([]store.Subscription, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	subs, ok := c.subs[cacheKey(tenant, topic)]
	return subs, ok
}

// putSubscriptions remembers what the database answered for tenant's topic.
func (c *writeCache) putSubscriptions(tenant, topic string, subs []store.Subscription) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirty {
		return
	}
	if len(c.subs)+len(c.objs) >= c.max {
		c.reset()
	}
	c.subs[cacheKey(tenant, topic)] = subs
}

func (c *writeCache) object(tenant, kind, alt string) (cachedObject, bool) {
	if !c.kinds[kind] {
		return cachedObject{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.objs[cacheKey(tenant, kind, alt)]
	return o, ok
}

func (c *writeCache) putObject(tenant, kind, alt string, o cachedObject) {
	if !c.kinds[kind] {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirty {
		return
	}
	if len(c.subs)+len(c.objs) >= c.max {
		c.reset()
	}
	c.objs[cacheKey(tenant, kind, alt)] = o
}

// wroteSubscriptions and wroteObject are called before a write to a cached table.
func (c *writeCache) wroteSubscriptions() { c.invalidate() }

func (c *writeCache) wroteObject(kind string) {
	if c.kinds[kind] {
		c.invalidate()
	}
}

func (c *writeCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dirty = true
	c.reset()
}

// batchEnded is called when a batch committed or was rolled back.
func (c *writeCache) batchEnded() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirty {
		c.dirty = false
		c.reset()
	}
}

// subscriptionsByTopics answers SubscriptionsByTopics from the cache, asking load
// for the topics it does not hold. The result is sorted by id, as the query's is,
// and is the caller's to change.
func (c *writeCache) subscriptionsByTopics(tenant string, topics []string, load func(topic string) ([]store.Subscription, error)) ([]store.Subscription, error) {
	var out []store.Subscription
	seen := 0
	for i, topic := range topics {
		if slices.Contains(topics[:i], topic) {
			continue
		}
		subs, ok := c.subscriptions(tenant, topic)
		if !ok {
			var err error
			if subs, err = load(topic); err != nil {
				return nil, err
			}
			c.putSubscriptions(tenant, topic, subs)
		}
		out = append(out, subs...)
		seen++
	}
	if seen > 1 {
		slices.SortFunc(out, func(a, b store.Subscription) int { return strings.Compare(a.ID, b.ID) })
	}
	return out, nil
}
