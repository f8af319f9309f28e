package sqlstore

import (
	"slices"
	"strings"
	"sync"

	"github.com/graphhook/graphhook/internal/store"
)

// writeCache keeps, for the group-commit writer, the answers that nearly every
// write asks for again: the subscriptions on each topic a change touches (most
// topics have none) and the objects of a few kinds that are read far more often
// than written (the app whose grant the change hook re-checks, the user whose
// mailbox a message goes to, the folders it goes into). Without it those reads were most of a
// change's cost in the writer, which is the serial part of every write.
//
// It is correct only because the writer is the one connection that writes: every write
// to a cached table passes through this store's Tx methods, which clear the cache.
// Within a batch, a request's writes to a cached table may still be undone (its
// savepoint rolled back, or the whole pass of a batch run without savepoints, which
// then runs again), and its reads saw its own writes; so after such a write the cache
// is not filled again until the batch has ended, and is cleared once more then. A store
// whose database other processes write (PostgreSQL) must not use it.
type writeCache struct {
	mu sync.Mutex
	// kinds are the object kinds cached, by id and by alt key.
	kinds map[string]*kindCache
	subs  map[string][]store.Subscription
	// subsDirty tells that the running batch wrote subscriptions: no fills of subs
	// until the batch ends.
	subsDirty bool
	// max caps the entries of each map; past it, the map starts again empty.
	max int
}

// kindCache holds one kind's objects, by id and by alt key, found or not.
type kindCache struct {
	byID, byAlt map[string]cachedObject
	dirty       bool
}

type cachedObject struct {
	o     store.Object
	found bool
}

func newWriteCache(kinds []string, max int) *writeCache {
	c := &writeCache{kinds: map[string]*kindCache{}, subs: map[string][]store.Subscription{}, max: max}
	for _, k := range kinds {
		c.kinds[k] = &kindCache{byID: map[string]cachedObject{}, byAlt: map[string]cachedObject{}}
	}
	return c
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
	if c.subsDirty {
		return
	}
	if len(c.subs) >= c.max {
		clear(c.subs)
	}
	c.subs[cacheKey(tenant, topic)] = subs
}

// object returns the cached answer for kind's object under key (its id, or its
// alt key when byAlt).
func (c *writeCache) object(tenant, kind, key string, byAlt bool) (cachedObject, bool) {
	kc := c.kinds[kind]
	if kc == nil {
		return cachedObject{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := kc.pick(byAlt)[cacheKey(tenant, key)]
	return o, ok
}

func (c *writeCache) putObject(tenant, kind, key string, byAlt bool, o cachedObject) {
	kc := c.kinds[kind]
	if kc == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if kc.dirty {
		return
	}
	m := kc.pick(byAlt)
	if len(m) >= c.max {
		clear(m)
	}
	m[cacheKey(tenant, key)] = o
}

func (kc *kindCache) pick(byAlt bool) map[string]cachedObject {
	if byAlt {
		return kc.byAlt
	}
	return kc.byID
}

// wroteSubscriptions and wroteObject are called before a write to a cached table.
func (c *writeCache) wroteSubscriptions() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subsDirty = true
	clear(c.subs)
}

func (c *writeCache) wroteObject(kind string) {
	kc := c.kinds[kind]
	if kc == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	kc.dirty = true
	clear(kc.byID)
	clear(kc.byAlt)
}

// batchEnded is called when a batch committed or was rolled back: what a batch
// that wrote a cached table filled from its own (maybe undone) writes goes.
func (c *writeCache) batchEnded() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subsDirty {
		c.subsDirty = false
		clear(c.subs)
	}
	for _, kc := range c.kinds {
		if kc.dirty {
			kc.dirty = false
			clear(kc.byID)
			clear(kc.byAlt)
		}
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

// get returns the cached answer as the database gave it. The object's Data is
// shared: callers decode it, never change it in place.
func (o cachedObject) get() (store.Object, error) {
	if !o.found {
		return store.Object{}, store.ErrNotFound
	}
	return o.o, nil
}
