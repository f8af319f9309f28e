package outlook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/memo"
	"github.com/graphhook/graphhook/internal/sortid"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// Workload serves the Outlook resources of every mailbox.
type Workload struct {
	st store.Store
	// owners keeps the names of mailbox owners decoded from their user objects, which
	// every mailbox request reads.
	owners memo.Decoded[owner]
}

// New returns the Outlook workload.
func New(st store.Store) *Workload { return &Workload{st: st} }

// Routes registers the workload's Graph routes.
func (w *Workload) Routes(r *httpapi.Router) {
	w.folderRoutes(r)
	w.messageRoutes(r)
	w.attachmentRoutes(r)
	w.sendRoutes(r)
	w.eventRoutes(r)
	w.contactRoutes(r)
}

// Store kinds (docs/architecture.md).
const (
	kindMailFolder    = "mailFolder"
	kindMessage       = "message"
	kindEvent         = "event"
	kindContactFolder = "contactFolder"
	kindContact       = "contact"
)

// ReadMostlyKinds are the store kinds every item write reads and few requests
// write (a mailbox's folders), which the embedded store's writer may keep between
// transactions.
func ReadMostlyKinds() []string { return []string{kindMailFolder, kindContactFolder} }

// Permission sets, any one of which suffices. A ReadWrite permission implies its Read.
var (
	mailReadBasic = []string{"Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"}
	mailRead      = []string{"Mail.Read", "Mail.ReadWrite"}
	mailWrite     = []string{"Mail.ReadWrite"}
	mailSend      = []string{"Mail.Send"}
	calRead       = []string{"Calendars.Read", "Calendars.ReadWrite"}
	calWrite      = []string{"Calendars.ReadWrite"}
	contactRead   = []string{"Contacts.Read", "Contacts.ReadWrite"}
	contactWrite  = []string{"Contacts.ReadWrite"}
)

// Outlook error codes.
const (
	codeInvalidUser         = "ErrorInvalidUser"
	codeIrresolvable        = "ErrorIrresolvableConflict"
	codeInvalidRecipients   = "ErrorInvalidRecipients"
	codeSentMessageUpdate   = "ErrorInvalidPropertyUpdateSentMessage"
	codeDeleteDistinguished = "ErrorDeleteDistinguishedFolder"
	codeFolderExists        = "ErrorFolderExists"
	codeInvalidParameter    = "ErrorInvalidParameter"
)

// errProvision tells run that a read found an unprovisioned mailbox and must be
// repeated in a write transaction.
var errProvision = errors.New("outlook: mailbox not provisioned")

// op is one request's work inside a transaction.
type op struct {
	ctx   context.Context
	tx    store.Tx
	write bool // tx may write (an Update, not a View)
	now   time.Time
	p     *identity.Principal
	// owners is the workload's memo of mailbox owners (nil: decode each time).
	owners *memo.Decoded[owner]
	// stored is the document insertItem or updateItem last wrote, as written, which
	// the answer repeats (rest.EntityEncoded).
	stored []byte
}

// run calls fn in a transaction: an Update when write is set, otherwise a View that is
// repeated as an Update if it met a mailbox whose folders were never created. fn may
// run twice, so it must reset whatever it collects.
func (w *Workload) run(c *httpapi.Ctx, write bool, fn func(o *op) error) error {
	o := &op{write: write, now: c.Now.UTC(), p: c.Principal, owners: &w.owners}
	call := func(ctx context.Context, tx store.Tx) error { o.ctx, o.tx = ctx, tx; return fn(o) }
	err := rest.Run(c, w.st, write, call)
	if !write && errors.Is(err, errProvision) {
		o.write = true
		return rest.Update(c, w.st, call)
	}
	return err
}

// mailbox is the user whose Outlook data a request addresses.
type mailbox struct {
	tenant  string
	user    string // store id
	name    string // display name, for from/sender/organizer
	address string // SMTP address
}

// recipient is the mailbox as an Outlook recipient object.
func (m mailbox) recipient() map[string]any {
	return map[string]any{"emailAddress": map[string]any{"name": m.name, "address": m.address}}
}

// mailbox resolves the {user} of a path, checks that the caller holds one of perms and
// may reach that mailbox, and makes sure its well-known folders exist.
func (o *op) mailbox(userParam string, perms []string) (mailbox, error) {
	if !o.p.Has(perms...) {
		return mailbox{}, graph.ExchangeAccessDenied()
	}
	var u store.Object
	var provisioned, byID bool
	var err error
	// A userPrincipalName has an @, an id never: it goes to ResolveUser at once,
	// whose lookup by id would repeat userAndMarker's.
	if !strings.Contains(userParam, "@") {
		if u, provisioned, byID, err = o.userAndMarker(userParam); err != nil {
			return mailbox{}, err
		}
	}
	if !byID {
		u, err = directory.ResolveUser(o.ctx, o.tx, o.p.TenantID, userParam)
	}
	if errors.Is(err, store.ErrNotFound) {
		if o.p.Type.Delegated() {
			// A delegated caller learns nothing about other mailboxes.
			return mailbox{}, graph.ExchangeAccessDenied()
		}
		return mailbox{}, graph.Errorf(http.StatusNotFound, codeInvalidUser, "The requested user '%s' is invalid.", userParam)
	}
	if err != nil {
		return mailbox{}, err
	}
	if o.p.Type.Delegated() && !strings.EqualFold(u.ID, o.p.UserID) {
		return mailbox{}, graph.ExchangeAccessDenied()
	}
	who, err := o.owners.Get(o.p.TenantID+"/"+u.ID, u.Data, decodeOwner)
	if err != nil {
		return mailbox{}, err
	}
	mb := mailbox{tenant: o.p.TenantID, user: u.ID, name: who.name, address: who.address}
	if provisioned {
		return mb, nil
	}
	return mb, o.provision(mb)
}

// userAndMarker reads the user whose id is userParam together with its mailbox's
// marker (see provision): one round trip for both on PostgreSQL, for the usual
// case of a user named by id. found is false when no live user has that id.
func (o *op) userAndMarker(userParam string) (u store.Object, provisioned, found bool, err error) {
	key := strings.ToLower(userParam)
	both, ok, err := o.tx.GetObjects(o.ctx, []store.ObjectKey{
		{Tenant: o.p.TenantID, Kind: identity.KindUser, ID: key},
		{Tenant: o.p.TenantID, Kind: kindContactFolder, ID: change.WellKnownContactFolderID(key)},
	})
	if err != nil || !ok[0] || both[0].Deleted {
		return store.Object{}, false, false, err
	}
	return both[0], ok[1], true, nil
}

// owner is what a mailbox shows of its user: the name and address that messages it
// sends carry.
type owner struct{ name, address string }

func decodeOwner(data []byte) (owner, error) {
	var doc struct {
		DisplayName string `json:"displayName"`
		Mail        string `json:"mail"`
		UPN         string `json:"userPrincipalName"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return owner{}, err
	}
	if doc.Mail == "" {
		return owner{doc.DisplayName, doc.UPN}, nil
	}
	return owner{doc.DisplayName, doc.Mail}, nil
}

// provision creates the mailbox's well-known mail folders and default contact folder
// the first time the mailbox is used. They are written together, so the contact
// folder, written last, marks a provisioned mailbox.
func (o *op) provision(mb mailbox) error {
	marker := change.WellKnownContactFolderID(mb.user)
	_, err := o.tx.GetObject(o.ctx, mb.tenant, kindContactFolder, marker)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if !o.write {
		return errProvision
	}
	root := rootFolderID(mb.user)
	for _, wk := range wellKnownFolders {
		doc := map[string]any{"id": change.WellKnownFolderID(mb.user, wk.name), "displayName": wk.display, "parentFolderId": root, "isHidden": false}
		if err := o.insertIfMissing(&store.Object{Tenant: mb.tenant, Kind: kindMailFolder, ID: doc["id"].(string), Owner: mb.user, Parent: root, Alt: wk.name}, doc); err != nil {
			return err
		}
	}
	doc := map[string]any{"id": marker, "displayName": "Contacts", "parentFolderId": contactRootID(mb.user)}
	return o.insertIfMissing(&store.Object{Tenant: mb.tenant, Kind: kindContactFolder, ID: marker, Owner: mb.user, Parent: contactRootID(mb.user), Alt: "contacts"}, doc)
}

func (o *op) insertIfMissing(obj *store.Object, doc map[string]any) error {
	if _, err := o.tx.GetObject(o.ctx, obj.Tenant, obj.Kind, obj.ID); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	data, err := docjson.Marshal(doc)
	if err != nil {
		return err
	}
	obj.Data, obj.Created, obj.Updated = data, o.now, o.now
	return o.tx.InsertObject(o.ctx, obj)
}

// getItem loads an item of the mailbox. Items of other mailboxes are not found.
func (o *op) getItem(mb mailbox, kind, id string) (store.Object, map[string]any, error) {
	obj, err := o.tx.GetObject(o.ctx, mb.tenant, kind, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (obj.Owner != mb.user || obj.Deleted)) {
		return store.Object{}, nil, graph.ExchangeItemNotFound()
	}
	if err != nil {
		return store.Object{}, nil, err
	}
	doc, err := rest.Decode(obj.Data)
	return obj, doc, err
}

// itemType says how changes to one kind of Outlook item are recorded.
type itemType struct {
	kind      string
	odataType string // notification resourceData @odata.type
	segment   string // the collection in the notification resource: Messages, Events, Contacts
	// sortBy is the property of the collection's default order, kept in the store's
	// sort key so that pages are read from an index ("" for kinds listed in memory).
	sortBy string
}

// sortKey is the store sort key of doc: its sortBy property, whose timestamps sort
// as strings in time order.
func (t itemType) sortKey(doc map[string]any) string {
	if t.sortBy == "" {
		return ""
	}
	s, _ := doc[t.sortBy].(string)
	return s
}

var (
	messageType = itemType{kind: kindMessage, odataType: "#Microsoft.Graph.Message", segment: "Messages", sortBy: "receivedDateTime"}
	eventType   = itemType{kind: kindEvent, odataType: "#Microsoft.Graph.Event", segment: "Events"}
	contactType = itemType{kind: kindContact, odataType: "#Microsoft.Graph.Contact", segment: "Contacts"}
)

// stamp gives doc a new change key (and etag) and modification time, as Exchange does
// on every write.
func (o *op) stamp(doc map[string]any) (etag string) {
	key := newChangeKey()
	etag = `W/"` + key + `"`
	doc["changeKey"] = key
	doc["@odata.etag"] = etag
	doc["lastModifiedDateTime"] = o.now.Format(timeLayout)
	return etag
}

// insertItem stores a new item and records its "created" change on topics.
func (o *op) insertItem(t itemType, mb mailbox, parent string, doc map[string]any, topics []string) error {
	etag := o.stamp(doc)
	data, err := docjson.Marshal(doc)
	if err != nil {
		return err
	}
	o.stored = data
	id := doc["id"].(string)
	if err := o.tx.InsertObject(o.ctx, &store.Object{Tenant: mb.tenant, Kind: t.kind, ID: id, Owner: mb.user, Parent: parent, Data: data, Sort: t.sortKey(doc), Created: o.now, Updated: o.now}); err != nil {
		return err
	}
	return o.record(t, mb, id, store.Created, topics, nil, data, etag)
}

// updateItem replaces an item's document and records an "updated" change on topics.
func (o *op) updateItem(t itemType, mb mailbox, obj store.Object, doc map[string]any, topics []string) error {
	etag := o.stamp(doc)
	data, err := docjson.Marshal(doc)
	if err != nil {
		return err
	}
	o.stored = data
	before := obj.Data
	obj.Data, obj.Updated, obj.Sort = data, o.now, t.sortKey(doc)
	if err := o.tx.UpdateObject(o.ctx, &obj); err != nil {
		return err
	}
	return o.record(t, mb, obj.ID, store.Updated, topics, before, data, etag)
}

// deleteItem removes an item, with a message's attachments, and records its
// "deleted" change on topics.
func (o *op) deleteItem(t itemType, mb mailbox, obj store.Object, topics []string) error {
	if t.kind == kindMessage {
		if err := o.deleteAttachments(mb, obj.ID); err != nil {
			return err
		}
	}
	if err := o.tx.DeleteObject(o.ctx, mb.tenant, t.kind, obj.ID); err != nil {
		return err
	}
	var tag struct {
		ETag string `json:"@odata.etag"`
	}
	json.Unmarshal(obj.Data, &tag)
	return o.record(t, mb, obj.ID, store.Deleted, topics, obj.Data, nil, tag.ETag)
}

// record appends the change of an item; etag is the item's @odata.etag after the
// change, or before it for a deletion.
func (o *op) record(t itemType, mb mailbox, id, changeType string, topics []string, before, after []byte, etag string) error {
	resource := "Users/" + mb.user + "/" + t.segment + "/" + id
	n := change.Notice{Resource: resource, ODataType: t.odataType, ODataID: resource, ETag: etag, ID: id, Rich: true}
	return change.Record(o.ctx, o.tx, mb.tenant, t.kind, id, changeType, topics, before, after, n, o.now)
}

// checkIfMatch refuses a write whose If-Match names another version of the item.
func checkIfMatch(c *httpapi.Ctx, doc map[string]any) error {
	want := strings.TrimSpace(c.R.Header.Get("If-Match"))
	if want == "" || want == "*" {
		return nil
	}
	have, _ := doc["@odata.etag"].(string)
	if want == have || `W/`+want == have {
		return nil
	}
	return graph.Errorf(http.StatusPreconditionFailed, codeIrresolvable, "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.")
}

// newID returns a new item id: a prefix in the shape of Exchange ids and 32 bytes
// (its creation time, then random; see sortid), URL-safe so that it can go into a
// path without escaping.
func newID(prefix string) string {
	return sortid.Base64(prefix, 32)
}

func newChangeKey() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "CQAAABYAAAA" + base64.RawURLEncoding.EncodeToString(b)
}

// rootFolderID is the id of a mailbox's folder root (msgfolderroot), the parent of the
// top-level folders. It is never stored.
func rootFolderID(user string) string { return change.WellKnownFolderID(user, "msgfolderroot") }

// contactRootID is the parent of a mailbox's top-level contact folders; never stored.
func contactRootID(user string) string { return change.WellKnownContactFolderID(user + ":root") }

// userPath is the @odata.context prefix of a mailbox: users('id').
func userPath(mb mailbox) string { return "users('" + mb.user + "')" }

func invalidRequestCode(code, format string, args ...any) error {
	return graph.Errorf(http.StatusBadRequest, code, format, args...)
}

func jsonBytes(doc map[string]any) ([]byte, error) { return docjson.Marshal(doc) }
