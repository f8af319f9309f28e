package todo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/sortid"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Workload serves every user's To Do lists and tasks.
type Workload struct {
	st store.Store
}

// New returns the To Do workload.
func New(st store.Store) *Workload { return &Workload{st: st} }

// Routes registers the workload's Graph routes (their /me forms come from the
// router).
func (w *Workload) Routes(r *httpapi.Router) {
	lists := "users/{user}/todo/lists"
	r.Handle("GET", lists, w.listLists)
	r.Handle("POST", lists, w.createList)
	r.Handle("GET", lists+"/delta", w.listsDelta)
	r.Handle("GET", lists+"/{list}", w.getList)
	r.Handle("PATCH", lists+"/{list}", w.updateList)
	r.Handle("DELETE", lists+"/{list}", w.deleteList)
	tasks := lists + "/{list}/tasks"
	r.Handle("GET", tasks, w.listTasks)
	r.Handle("POST", tasks, w.createTask)
	r.Handle("GET", tasks+"/delta", w.tasksDelta)
	r.Handle("GET", tasks+"/{id}", w.getTask)
	r.Handle("PATCH", tasks+"/{id}", w.updateTask)
	r.Handle("DELETE", tasks+"/{id}", w.deleteTask)
}

// Store kinds (docs/architecture.md).
const (
	KindList = "todoTaskList"
	KindTask = "todoTask"
)

// wellKnownDefault is the wellknownListName of the built-in "Tasks" list, and its
// alt column.
const wellKnownDefault = "defaultList"

// The permission rules of reads and writes (see the package comment).
var (
	readRule  = rest.Permissions{Delegated: []string{"Tasks.Read", "Tasks.ReadWrite"}, Application: []string{"Tasks.Read.All", "Tasks.ReadWrite.All"}}
	writeRule = rest.Permissions{Delegated: []string{"Tasks.ReadWrite"}, Application: []string{"Tasks.ReadWrite.All"}}
)

// Exchange codes To Do answers with, besides graph's.
const (
	codeInvalidUser         = "ErrorInvalidUser"
	codeDeleteDistinguished = "ErrorDeleteDistinguishedFolder"
	codeIrresolvable        = "ErrorIrresolvableConflict"
)

// errProvision tells run that a read met a user whose default list was never
// created and must be repeated in a write transaction.
var errProvision = errors.New("todo: default list not provisioned")

// op is one request's work inside a transaction.
type op struct {
	ctx   context.Context
	tx    store.Tx
	write bool // tx may write
	now   time.Time
	p     *identity.Principal
}

// run calls fn in a transaction: an Update when write is set, otherwise a View that
// is repeated as an Update if it met an unprovisioned user. fn may run more than
// once, so it must reset whatever it collects.
func (w *Workload) run(c *httpapi.Ctx, write bool, fn func(o *op) error) error {
	o := &op{write: write, now: c.Now.UTC(), p: c.Principal}
	call := func(ctx context.Context, tx store.Tx) error { o.ctx, o.tx = ctx, tx; return fn(o) }
	err := rest.Run(c, w.st, write, call)
	if !write && errors.Is(err, errProvision) {
		o.write = true
		return rest.Update(c, w.st, call)
	}
	return err
}

// owner is the user whose To Do a request addresses.
type owner struct {
	tenant string
	user   string // store id
}

// owner resolves the {user} of a path, checks the caller's permission by rule and
// that a delegated caller addresses their own To Do, and makes sure the user's
// default list exists.
func (o *op) owner(userParam string, rule rest.Permissions) (owner, error) {
	if err := rule.Check(o.p); err != nil {
		return owner{}, err
	}
	u, err := directory.ResolveUser(o.ctx, o.tx, o.p.TenantID, userParam)
	if errors.Is(err, store.ErrNotFound) {
		if o.p.Type.Delegated() {
			// A delegated caller learns nothing about other users.
			return owner{}, graph.ExchangeAccessDenied()
		}
		return owner{}, graph.Errorf(http.StatusNotFound, codeInvalidUser, "The requested user '%s' is invalid.", userParam)
	}
	if err != nil {
		return owner{}, err
	}
	if o.p.Type.Delegated() && !strings.EqualFold(u.ID, o.p.UserID) {
		return owner{}, graph.ExchangeAccessDenied()
	}
	ow := owner{tenant: o.p.TenantID, user: u.ID}
	return ow, o.provision(ow)
}

// provision creates the user's default list the first time their To Do is used.
func (o *op) provision(ow owner) error {
	id := DefaultListID(ow.user)
	_, err := o.tx.GetObject(o.ctx, ow.tenant, KindList, id)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if !o.write {
		return errProvision
	}
	doc := newList(id, "Tasks", wellKnownDefault)
	o.stamp(doc)
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return o.tx.InsertObject(o.ctx, &store.Object{Tenant: ow.tenant, Kind: KindList, ID: id, Owner: ow.user, Alt: wellKnownDefault, Data: data, Created: o.now, Updated: o.now})
}

// load reads an object of the user's To Do; another user's, or a missing one, is
// not found.
func (o *op) load(ow owner, kind, id string) (store.Object, map[string]any, error) {
	obj, err := o.tx.GetObject(o.ctx, ow.tenant, kind, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (obj.Owner != ow.user || obj.Deleted)) {
		return store.Object{}, nil, graph.ExchangeItemNotFound()
	}
	if err != nil {
		return store.Object{}, nil, err
	}
	doc, err := rest.Decode(obj.Data)
	return obj, doc, err
}

// stamp gives doc a new etag, as Exchange does on every write.
func (o *op) stamp(doc map[string]any) {
	b := make([]byte, 16)
	rand.Read(b)
	doc["@odata.etag"] = `W/"` + base64.StdEncoding.EncodeToString(b) + `"`
}

// kindType says how changes to one kind are recorded.
type kindType struct {
	kind      string
	odataType string // resourceData's @odata.type and delta's @removed entries
}

var (
	listType = kindType{kind: KindList, odataType: "#microsoft.graph.todoTaskList"}
	taskType = kindType{kind: KindTask, odataType: "#microsoft.graph.todoTask"}
)

// insert stores a new item and records its "created" change on topic.
func (o *op) insert(t kindType, ow owner, parent string, doc map[string]any, resource, topic string) error {
	o.stamp(doc)
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	id := doc["id"].(string)
	obj := store.Object{Tenant: ow.tenant, Kind: t.kind, ID: id, Owner: ow.user, Parent: parent, Data: data, Created: o.now, Updated: o.now}
	if t.kind == KindTask {
		obj.Sort = createdKey(o.now)
	}
	if err := o.tx.InsertObject(o.ctx, &obj); err != nil {
		return err
	}
	return o.record(t, ow, id, store.Created, resource, topic, nil, data)
}

// update replaces an item's document and records its "updated" change on topic.
func (o *op) update(t kindType, ow owner, obj store.Object, doc map[string]any, resource, topic string) error {
	o.stamp(doc)
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	before := obj.Data
	obj.Data, obj.Updated = data, o.now
	if err := o.tx.UpdateObject(o.ctx, &obj); err != nil {
		return err
	}
	return o.record(t, ow, obj.ID, store.Updated, resource, topic, before, data)
}

// remove deletes an item and records its "deleted" change on topic.
func (o *op) remove(t kindType, ow owner, obj store.Object, resource, topic string) error {
	if err := o.tx.DeleteObject(o.ctx, ow.tenant, t.kind, obj.ID); err != nil {
		return err
	}
	return o.record(t, ow, obj.ID, store.Deleted, resource, topic, obj.Data, nil)
}

func (o *op) record(t kindType, ow owner, id, changeType, resource, topic string, before, after []byte) error {
	state := after
	if state == nil {
		state = before
	}
	var tag struct {
		ETag string `json:"@odata.etag"`
	}
	if err := json.Unmarshal(state, &tag); err != nil {
		return err
	}
	n := change.Notice{Resource: resource, ODataType: t.odataType, ODataID: resource, ETag: tag.ETag, ID: id}
	return change.Record(o.ctx, o.tx, ow.tenant, t.kind, id, changeType, []string{topic}, before, after, n, o.now)
}

// checkIfMatch refuses a write whose If-Match names another version of the item.
func checkIfMatch(c *httpapi.Ctx, doc map[string]any) error {
	want := strings.TrimSpace(c.R.Header.Get("If-Match"))
	if want == "" || want == "*" {
		return nil
	}
	if have, _ := doc["@odata.etag"].(string); want == have || `W/`+want == have {
		return nil
	}
	return graph.Errorf(http.StatusPreconditionFailed, codeIrresolvable, "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.")
}

// newID returns a new list or task id in the shape of Exchange ids, URL-safe so
// that it goes into a path unescaped.
func newID() string {
	return sortid.Base64("AAMkAG", 32)
}

// DefaultListID is the id of a user's built-in "Tasks" list, derived so that a
// subscription can name it before it is stored.
func DefaultListID(user string) string {
	sum := sha256.Sum256([]byte("todoTaskList:" + strings.ToLower(user) + ":defaultList"))
	return "AAMkAG" + base64.RawURLEncoding.EncodeToString(sum[:24])
}

// userPath is the @odata.context prefix of a user: users('id').
func userPath(ow owner) string { return "users('" + ow.user + "')" }

// listResource and taskResource are the notification resources of a list and a
// task.
func listResource(ow owner, id string) string { return "Users/" + ow.user + "/todo/lists/" + id }

func taskResource(ow owner, list, id string) string {
	return listResource(ow, list) + "/tasks/" + id
}
