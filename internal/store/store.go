// Package store is the contract between graphhook's domain packages and its storage
// backends (embedded SQLite, PostgreSQL). Business rules live above it, in Go, so both
// backends behave the same; internal/store/storetest holds the conformance suite every
// backend passes.
//
// The model is small on purpose:
//   - Objects: every Graph resource (user, group, message, driveItem, …) and every piece
//     of identity state (tenant, app, signing key) is a JSON document with a few indexed
//     columns (tenant, kind, id, owner, parent, alt) and a version that is bumped on each
//     write (it is what etags are made of).
//   - Changes: the change log. A write to a resource appends its change record in the
//     same transaction, so a committed change is never lost and a rolled-back one never
//     notifies. Each change lists the topic keys it touches; delta queries read the log
//     by topic.
//   - Blobs: file content, addressed by a key.
//
// Subscriptions, the notification queue, leases (leader election between nodes) and
// node heartbeats add their own parts of the contract in subscription.go, queue.go,
// lease.go and heartbeat.go.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends translate driver errors into these; callers check them
// with errors.Is.
var (
	// ErrNotFound: the addressed row does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a row with the same key already exists (insert of a duplicate).
	ErrConflict = errors.New("store: conflict")
	// ErrVersionMismatch: a guarded write found another version (or state) than it expected.
	ErrVersionMismatch = errors.New("store: version mismatch")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrBusy: a write kept losing conflicts with concurrent writes until it ran out
	// of attempts. Trying again a moment later may succeed.
	ErrBusy = errors.New("store: busy")
)

// Store is a transactional backend.
type Store interface {
	// Update runs fn in a read-write transaction and commits it when fn returns nil.
	// fn's error is returned unchanged (and the transaction's work is undone); a commit
	// failure is returned wrapped. fn must do store work only: no network calls, no
	// sleeping. It may be run in a batch with other transactions (group commit): its own
	// writes are undone on its error without touching the others'. Transactions are
	// serializable: a rule that reads, then writes what it read, holds against
	// concurrent Updates, on every node. To get there a backend may run fn more than
	// once (PostgreSQL, after losing a conflict), so fn's effects outside the
	// transaction must be results it sets anew on each run.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only snapshot (one point in time for all its reads).
	// Write methods of the Tx return an error.
	View(ctx context.Context, fn func(Tx) error) error
	// SetChangeHook installs fn to be called, inside the transaction, for every change
	// appended with Tx.AppendChange after the change got its sequence number. An error
	// from the hook fails AppendChange and so the whole transaction. Set once, before
	// the store is used.
	SetChangeHook(fn ChangeHook)
	// Committed returns a channel that receives a value (without blocking the
	// committer; values may coalesce) after each commit that appended changes or
	// queued notifications.
	Committed() <-chan struct{}
	// Ping reports whether the store is open and its migrations applied.
	Ping(ctx context.Context) error
	// Close releases the store. Transactions started afterwards return ErrClosed.
	Close() error
}

// ChangeHook sees each change inside the transaction that appends it.
type ChangeHook func(ctx context.Context, tx Tx, c *Change) error

// Tx is one transaction. Its methods are not safe for concurrent use.
type Tx interface {
	ObjectTx
	ChangeTx
	BlobTx
	SubscriptionTx
	QueueTx
	DeliveryLogTx
	QueueScanTx
	LeaseTx
	HeartbeatTx
	TotalsTx
	// AfterCommit registers fn to run once the transaction has committed: never if it
	// does not (nor in a View), and once however many times Update ran the
	// transaction's function. It is for effects outside the store that must count
	// what was committed, such as metrics; fn must not block.
	AfterCommit(fn func())
}

// ObjectKey names one object.
type ObjectKey struct{ Tenant, Kind, ID string }

// Object is one stored document.
type Object struct {
	Tenant string // tenant id; "" for global objects (signing keys)
	Kind   string // resource kind, e.g. "user", "message"
	ID     string
	Owner  string // the user (or group, team, drive, …) the object belongs to; "" if none
	Parent string // the containing object (folder, list, channel, …); "" if none
	Alt    string // a secondary lookup key (lower-cased UPN, well-known name, path); "" if none
	// Deleted marks a soft-deleted object (restorable, listed only when asked).
	Deleted bool
	// Version starts at 1 and grows by one on every write.
	Version int64
	Created time.Time
	Updated time.Time
	Data    []byte // the JSON document
	// Sort is the key of the collection's default order, set by the workload (a
	// message's receivedDateTime); "" for kinds listed by id. It is indexed with
	// owner and with parent, so ObjectQuery.BySort pages cost the page, not the
	// collection.
	Sort string
}

// ObjectQuery selects objects of one kind in one tenant. Empty fields do not filter.
type ObjectQuery struct {
	Tenant string
	Kind   string
	// Kinds, when set, keeps the objects of any of these kinds (with Kind, of
	// Kind if it is one of them).
	Kinds  []string
	Owner  string
	Parent string
	Alt    string
	// Deleted selects soft-deleted objects instead of live ones.
	Deleted bool
	// AfterID returns objects whose id sorts after it (keyset paging); results are
	// ordered by id. Only for listings by id (BySort unset).
	AfterID string
	// BySort orders by the objects' Sort key, then id, instead of by id alone;
	// Desc reverses both (the newest message first).
	BySort bool
	Desc   bool
	// ByCreated orders by the objects' Created time, to the 100 ns that Graph's
	// times show, then id, instead of by id alone; Desc reverses both. A parent's
	// objects of a kind with an index of their creation times (drive items) are
	// read from it in that order; other listings are sorted.
	ByCreated bool
	// Where keeps the objects whose data satisfies it (see Cond); nil keeps all.
	Where *Cond
	// SortBounds keep the objects whose Sort key compares with each bound's Value
	// as its Op says (CondLt, CondLe, CondGt or CondGe). A caller adds them where
	// Where implies them, for a property whose value the sort key holds (a message's
	// receivedDateTime), so that a listing by Sort reads that range of its index
	// instead of walking it past every object Where refuses. Being implied, a bound
	// with another Op may be left out.
	SortBounds []SortBound
	// OrderBy, when set, orders by these properties of the data, then by id
	// (see OrderKey), instead of by id or by the sort key; AfterID, BySort and Desc
	// are then ignored. IDDesc puts objects that tie on every key in descending
	// id order instead of ascending.
	OrderBy []OrderKey
	IDDesc  bool
	// Offset skips that many objects of the order ($skip).
	Offset int
	// Limit caps the result; 0 means no cap.
	Limit int
	// Via, when set, keeps only the objects that the links it names point at (a
	// group's members, a user's groups), in the links' order; see Via.
	Via *Via
}

// SortBound is one bound of ObjectQuery.SortBounds.
type SortBound struct {
	Op    CondOp
	Value string
}

// Via selects objects through links: objects of another kind that each name the
// object they point at in one of their columns. The links are the live objects of
// kind Kind, in the query's tenant, whose Owner is Owner, or whose Parent is
// Parent (one of the two is set); each points at the object whose id is its other
// column (a link's Parent when links are selected by Owner, its Owner when by
// Parent). That object is of the query's Kind or Kinds (one of them is set) and,
// with KindProp, of the kind that string property of the link's data names (a
// member link's type, "user" or "group"); the query's other fields then apply to
// it as usual. A link to an absent object, or to one the query does not select
// (soft-deleted, of another kind, failing Where), selects nothing and is not
// counted.
//
// Without OrderBy the objects come in their links' id order, and AfterID is a
// link's id (a page starts after the link of the last object served); with
// OrderBy, by its keys, then by the objects' own ids.
type Via struct {
	Kind     string
	Owner    string
	Parent   string
	KindProp string
}

// ObjectTx reads and writes objects.
type ObjectTx interface {
	// GetObject returns the object (live or soft-deleted). ErrNotFound if absent.
	GetObject(ctx context.Context, tenant, kind, id string) (Object, error)
	// GetObjectByAlt returns the first live object with that alt key, by id order.
	// ErrNotFound if none.
	GetObjectByAlt(ctx context.Context, tenant, kind, alt string) (Object, error)
	// GetObjects returns, for each key, the object (live or soft-deleted) and
	// whether there is one, as GetObject finds it: for a request that knows the
	// keys of several objects it needs, one round trip to a database across the
	// network instead of one each.
	GetObjects(ctx context.Context, keys []ObjectKey) ([]Object, []bool, error)
	// ListObjects returns the objects matching q, in q's order (by id unless
	// BySort or OrderBy; by their links' ids with Via).
	ListObjects(ctx context.Context, q ObjectQuery) ([]Object, error)
	// CountObjects returns how many objects match q (AfterID, Offset and Limit
	// ignored).
	CountObjects(ctx context.Context, q ObjectQuery) (int, error)
	// InsertObject stores a new object; Version is set to 1 and Created/Updated to
	// the given times if zero. ErrConflict if (tenant, kind, id) exists.
	InsertObject(ctx context.Context, o *Object) error
	// UpdateObject replaces the object's columns and data, guarded by o.Version: the
	// stored version must equal o.Version, which then becomes o.Version+1.
	// ErrNotFound if absent, ErrVersionMismatch if the version differs.
	UpdateObject(ctx context.Context, o *Object) error
	// DeleteObject removes the object for good. ErrNotFound if absent.
	DeleteObject(ctx context.Context, tenant, kind, id string) error
}

// Change types, as Graph spells them.
const (
	Created = "created"
	Updated = "updated"
	Deleted = "deleted"
)

// Change is one record of the change log.
type Change struct {
	// Seq is assigned by AppendChange, increasing across the store. Changes become
	// visible in Seq order: once a reader sees a Seq, no smaller one appears later
	// (delta tokens rely on it).
	Seq        int64
	Tenant     string
	Kind       string
	ID         string
	ChangeType string // Created, Updated or Deleted (as the workload saw it)
	// Topics lists every topic key the change touches (see docs/architecture.md).
	Topics []string
	Time   time.Time
	// Before and After are the item's JSON before and after the change; nil when the
	// item did not exist on that side.
	Before []byte
	After  []byte
	// Extra carries workload facts a notification needs beyond the item state, as
	// JSON (for example members@delta of a group membership change).
	Extra []byte
	// ExtraValue is, when the appender sets it, the value Extra encodes, so that
	// the change hook, which runs in the same transaction, need not decode what was
	// just encoded. It is never stored: changes read back leave it nil.
	ExtraValue any
}

// ChangeTx appends to and reads the change log.
type ChangeTx interface {
	// AppendChange assigns c.Seq, stores c with its topics, and runs the change hook.
	AppendChange(ctx context.Context, c *Change) error
	// ListChanges returns changes touching topic in tenant with Seq > after, in Seq
	// order, at most limit (0 = no cap).
	ListChanges(ctx context.Context, tenant, topic string, after int64, limit int) ([]Change, error)
	// LastSeq returns the highest sequence number in the log (0 when empty).
	LastSeq(ctx context.Context) (int64, error)
	// FirstSeq returns the lowest retained sequence number (0 when empty); delta tokens
	// older than it can no longer be served.
	FirstSeq(ctx context.Context) (int64, error)
	// PruneChanges deletes changes older than before and returns how many went. The
	// newest change of the log is never deleted, so LastSeq keeps the log's end.
	PruneChanges(ctx context.Context, before time.Time) (int, error)
}

// BlobTx stores opaque content (file bodies, upload sessions).
type BlobTx interface {
	// PutBlob stores or replaces the content under key.
	PutBlob(ctx context.Context, key string, data []byte) error
	// GetBlob returns the content. ErrNotFound if absent.
	GetBlob(ctx context.Context, key string) ([]byte, error)
	// DeleteBlob removes the content; absent keys are not an error.
	DeleteBlob(ctx context.Context, key string) error
	// AppendBlob adds data to the end of the content under key, creating it when
	// absent. Its cost does not depend on the size already stored, so large content
	// (an upload-session chunk) can be written in fixed-size pieces, each in its own
	// transaction, without ever being held whole in memory.
	AppendBlob(ctx context.Context, key string, data []byte) error
	// ConcatBlob moves the content under src to the end of the content under dst
	// (creating dst when absent) and removes src, inside the store: the bytes do not
	// pass through the caller. ErrNotFound if src is absent; ErrConflict if src and
	// dst are the same key.
	ConcatBlob(ctx context.Context, dst, src string) error
}
