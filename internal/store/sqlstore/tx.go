package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// Tx implements store.Tx over one database transaction (or one savepoint of it).
type Tx struct {
	s *Store
	q *sql.Tx
	// cached marks a transaction of the group-commit writer, whose statements come
	// from the statement cache (see stmtCache for why only the writer's).
	cached   bool
	readOnly bool
	// signal is set when the transaction wrote something a waiter on Committed cares
	// about (a change or a queued notification).
	signal bool
	// after are the functions AfterCommit registered, run once the transaction has
	// committed.
	after []func()
	// issued tells that a statement ran in the transaction: its snapshot is taken.
	// live is the horizon the dialect's LiveHorizon gave before that (0: none); see
	// (*Tx).seqBound.
	issued bool
	live   int64
	// retry keeps the first statement error that may make the whole transaction
	// worth running again (see Config.Retryable and RetryUniqueViolations), whatever
	// fn did with it.
	retry error
	// rank is the count of changes appendInOne wrote in this transaction.
	rank int
	// prefetched are the subscriptions on the topics of the change being appended,
	// read with it for the change hook (see appendInOne).
	prefetched *prefetchedSubs
	// shard is 1 + the row of an object's totals this transaction adds to, 0 until
	// drawn (see totalsShard).
	shard int
}

// note remembers a statement error that may call for a retry and returns err
// unchanged.
func (t *Tx) note(err error) error {
	if err == nil || t.retry != nil {
		return err
	}
	c := t.s.cfg
	if (c.Retryable != nil && c.Retryable(err)) || c.connLost(err) || (c.RetryUniqueViolations && t.s.d.IsUniqueViolation != nil && t.s.d.IsUniqueViolation(err)) {
		t.retry = err
	}
	return err
}

var _ store.Tx = (*Tx)(nil)

// MarkSignal asks for a Committed signal after this transaction commits.
func (t *Tx) MarkSignal() { t.signal = true }

// Exec runs a statement written with '?' placeholders.
func (t *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if t.readOnly {
		return nil, ErrReadOnly
	}
	t.issued = true
	ctx, err := t.s.statementContext(ctx)
	if err != nil {
		return nil, err
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	var res sql.Result
	if st == nil {
		res, err = t.q.ExecContext(ctx, t.s.d.Q(query), args...)
	} else {
		res, err = st.ExecContext(ctx, args...)
	}
	return res, t.note(err)
}

// stmt returns the cached statement for query bound to this transaction, or nil when
// the cache is full.
func (t *Tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if !t.cached {
		return nil, nil
	}
	st, err := t.s.stmts.get(ctx, t.s.cfg.Writer, t.s.d.Q(query))
	if err != nil || st == nil {
		return nil, err
	}
	return t.q.StmtContext(ctx, st), nil
}

// Query runs a query written with '?' placeholders.
func (t *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.issued = true
	ctx, err := t.s.statementContext(ctx)
	if err != nil {
		return nil, err
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	var rows *sql.Rows
	if st == nil {
		rows, err = t.q.QueryContext(ctx, t.s.d.Q(query), args...)
	} else {
		rows, err = st.QueryContext(ctx, args...)
	}
	return rows, t.note(err)
}

// QueryRow runs a one-row query written with '?' placeholders.
func (t *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	t.issued = true
	ctx, err := t.s.statementContext(ctx)
	if err != nil {
		// The Row carries ctx's error, as database/sql's own check would give it.
		return t.q.QueryRowContext(ctx, t.s.d.Q(query), args...)
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return t.q.QueryRowContext(ctx, t.s.d.Q(query), args...)
	}
	if st == nil {
		return t.q.QueryRowContext(ctx, t.s.d.Q(query), args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// AfterCommit implements store.Tx.
func (t *Tx) AfterCommit(fn func()) { t.after = append(t.after, fn) }

// committed runs what AfterCommit registered.
func (t *Tx) committed() {
	for _, fn := range t.after {
		fn()
	}
}

// statementContext is the context to run a statement under: ctx, or, when the
// dialect's statements run uninterrupted, one that cannot be cancelled, once ctx
// has been checked.
func (s *Store) statementContext(ctx context.Context) (context.Context, error) {
	if !s.d.Uninterrupted {
		return ctx, nil
	}
	if err := ctx.Err(); err != nil {
		return ctx, err
	}
	return context.WithoutCancel(ctx), nil
}

// Dialect returns the dialect in use.
func (t *Tx) Dialect() *Dialect { return t.s.d }

func (t *Tx) translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if t.s.d.IsUniqueViolation != nil && t.s.d.IsUniqueViolation(err) {
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return err
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

const objectCols = `tenant, kind, id, owner, parent, alt, deleted, version, created, updated, data, sort`

func scanObject(sc interface{ Scan(...any) error }) (store.Object, error) {
	var o store.Object
	var deleted int
	var created, updated int64
	err := sc.Scan(&o.Tenant, &o.Kind, &o.ID, &o.Owner, &o.Parent, &o.Alt, &deleted, &o.Version, &created, &updated, &o.Data, &o.Sort)
	o.Deleted = deleted != 0
	o.Created, o.Updated = fromNanos(created), fromNanos(updated)
	return o, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// GetObject implements store.ObjectTx.
func (t *Tx) GetObject(ctx context.Context, tenant, kind, id string) (store.Object, error) {
	c := t.writeCache()
	if c != nil {
		if hit, ok := c.object(tenant, kind, id, false); ok {
			return hit.get()
		}
	}
	o, err := scanObject(t.QueryRow(ctx, `SELECT `+objectCols+` FROM `+t.s.d.objects(kind)+` WHERE tenant = ? AND kind = ? AND id = ?`, tenant, kind, id))
	err = t.translate(err)
	if c != nil && (err == nil || errors.Is(err, store.ErrNotFound)) {
		c.putObject(tenant, kind, id, false, cachedObject{o: o, found: err == nil})
	}
	return o, err
}

// GetObjects implements store.ObjectTx. Without the write cache (whose lookups
// cost no statement) the keys are read in one statement, a UNION ALL of a lookup
// by primary key each.
func (t *Tx) GetObjects(ctx context.Context, keys []store.ObjectKey) ([]store.Object, []bool, error) {
	out := make([]store.Object, len(keys))
	found := make([]bool, len(keys))
	if len(keys) < 2 || t.writeCache() != nil {
		for i, k := range keys {
			o, err := t.GetObject(ctx, k.Tenant, k.Kind, k.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, nil, err
			}
			out[i], found[i] = o, err == nil
		}
		return out, found, nil
	}
	var q strings.Builder
	args := make([]any, 0, 3*len(keys))
	for i, k := range keys {
		if i > 0 {
			q.WriteString(` UNION ALL `)
		}
		fmt.Fprintf(&q, `SELECT %d, %s FROM %s WHERE tenant = ? AND kind = ? AND id = ?`, i, objectCols, t.s.d.objects(k.Kind))
		args = append(args, k.Tenant, k.Kind, k.ID)
	}
	rows, err := t.Query(ctx, q.String(), args...)
	if err != nil {
		return nil, nil, t.translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		o, err := scanObject(seqFirst{rows, &i, nil})
		if err != nil {
			return nil, nil, err
		}
		out[i], found[i] = o, true
	}
	if err := rows.Err(); err != nil {
		return nil, nil, t.translate(err)
	}
	return out, found, nil
}

// GetObjectByAlt implements store.ObjectTx.
func (t *Tx) GetObjectByAlt(ctx context.Context, tenant, kind, alt string) (store.Object, error) {
	if hit, ok := t.prefetchedApp(tenant, kind, alt); ok {
		return hit.get()
	}
	c := t.writeCache()
	if c != nil {
		if hit, ok := c.object(tenant, kind, alt, true); ok {
			return hit.get()
		}
	}
	o, err := scanObject(t.QueryRow(ctx, `SELECT `+objectCols+` FROM `+t.s.d.objects(kind)+t.s.d.index("objects_alt")+` WHERE tenant = ? AND kind = ? AND alt = ? AND deleted = 0 ORDER BY alt, id LIMIT 1`, tenant, kind, alt))
	err = t.translate(err)
	if c != nil && (err == nil || errors.Is(err, store.ErrNotFound)) {
		c.putObject(tenant, kind, alt, true, cachedObject{o: o, found: err == nil})
	}
	return o, err
}

// writeCache returns the store's write cache when this is a transaction of the
// group-commit writer that may use it, else nil.
func (t *Tx) writeCache() *writeCache {
	if !t.cached || t.readOnly {
		return nil
	}
	return t.s.wcache
}

// wroteObject tells the write cache, and the objects read with a change, before a
// write, that an object of kind changes.
func (t *Tx) wroteObject(kind string) {
	if p := t.prefetched; p != nil && kind == t.s.cfg.SubscriberKind {
		p.apps = nil
	}
	if c := t.writeCache(); c != nil {
		c.wroteObject(kind)
	}
}

func objectWhere(q store.ObjectQuery, paging bool) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	add("tenant = ?", q.Tenant)
	if lit, ok := kindLiteral(q.Kind); ok && (q.Where != nil || q.OrderBy != nil || q.ByCreated || !paging && countIndex(q) != "") {
		where = append(where, lit)
	} else if q.Kind != "" {
		add("kind = ?", q.Kind)
	}
	conds, cargs := columnConds(q, "")
	where, args = append(where, conds...), append(args, cargs...)
	if paging && q.AfterID != "" && q.OrderBy == nil {
		add("id > ?", q.AfterID)
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// columnConds are q's conditions on the objects' own columns other than tenant and
// kind (Kinds, owner, parent, alt, deleted), for the table prefix names ("" or
// "o."), with their arguments in order.
func columnConds(q store.ObjectQuery, prefix string) ([]string, []any) {
	var conds []string
	var args []any
	if len(q.Kinds) > 0 {
		conds = append(conds, prefix+"kind IN ("+placeholders(len(q.Kinds))+")")
		for _, k := range q.Kinds {
			args = append(args, k)
		}
	}
	for _, c := range [...]struct{ col, v string }{{"owner", q.Owner}, {"parent", q.Parent}, {"alt", q.Alt}} {
		if c.v != "" {
			conds = append(conds, prefix+c.col+" = ?")
			args = append(args, c.v)
		}
	}
	conds, args = append(conds, prefix+"deleted = ?"), append(args, boolInt(q.Deleted))
	for _, b := range q.SortBounds {
		if op, ok := sortBoundOps[b.Op]; ok {
			conds = append(conds, prefix+"sort "+op+" ?")
			args = append(args, b.Value)
		}
	}
	return conds, args
}

// sortBoundOps spell the comparisons a store.SortBound may ask for.
var sortBoundOps = map[store.CondOp]string{store.CondLt: "<", store.CondLe: "<=", store.CondGt: ">", store.CondGe: ">="}

// pageClause is the LIMIT and OFFSET of a listing of q, with their arguments.
func pageClause(q store.ObjectQuery) (string, []any) {
	var clause string
	var args []any
	if q.Limit > 0 || q.Offset > 0 {
		// LIMIT -1 (SQLite) and LIMIT ALL (PostgreSQL) differ; a cap past any
		// collection's size reads the same on both.
		clause += ` LIMIT ?`
		args = append(args, cmp.Or(q.Limit, math.MaxInt32))
	}
	if q.Offset > 0 {
		clause += ` OFFSET ?`
		args = append(args, q.Offset)
	}
	return clause, args
}

// objectOrder is the ORDER BY of a listing: by id, by the sort key then id, or by
// the creation time then id, in one direction so that one index (objects_owner_sort,
// objects_parent_sort, one of createdIndexes) is read forwards or backwards and a
// page costs its own size.
//
// Ordering by id alone tempts a planner without statistics (a fresh SQLite file)
// into walking the primary key, reading the whole kind for one owner's page; the
// column the query fixes is named first so that its index is seen to give the
// order too.
func objectOrder(q store.ObjectQuery) string {
	switch {
	case q.ByCreated && q.Desc:
		return ` ORDER BY created / 100 DESC, id DESC`
	case q.ByCreated:
		return ` ORDER BY created / 100, id`
	case !q.BySort && q.Alt != "":
		return ` ORDER BY alt, id`
	case !q.BySort && q.Parent != "":
		return ` ORDER BY parent, id`
	case !q.BySort && q.Owner != "":
		return ` ORDER BY owner, id`
	case !q.BySort:
		return ` ORDER BY id`
	case q.Desc:
		return ` ORDER BY sort DESC, id DESC`
	default:
		return ` ORDER BY sort, id`
	}
}

// objectIndex is the index a listing of q reads: the narrowest its equalities
// fix, in the order it asks for ("" for none of them). An alt key, a lookup key,
// is narrower than an owner or a parent (a list's name among a site's lists).
func objectIndex(q store.ObjectQuery) string {
	switch {
	case q.ByCreated && q.Parent != "":
		return createdIndexes[q.Kind]
	case q.ByCreated:
		return ""
	case q.Parent != "" && q.BySort:
		return "objects_parent_sort"
	case q.Owner != "" && q.BySort:
		return "objects_owner_sort"
	case q.Alt != "":
		return "objects_alt"
	case q.Parent != "":
		return "objects_parent"
	case q.Owner != "":
		return "objects_owner"
	}
	return ""
}

// createdIndexes name the indexes of a parent's objects by creation time (the
// expression created / 100 that objectOrder writes, then id), by kind: migration
// 021's, of drive items (a folder's children by createdDateTime).
var createdIndexes = map[string]string{"driveItem": "objects_driveitem_created"}

// objectTable is the table that q's objects are read from: their kind's (see
// Dialect.objects), or objects for several kinds.
func objectTable(d *Dialect, q store.ObjectQuery) string {
	if len(q.Kinds) > 0 {
		return "objects"
	}
	return d.objects(q.Kind)
}

// listQuery is the SELECT that ListObjects runs for q. A sort-key page past $skip
// is read in two statements (see seekQueries); listQuery returns neither.
func listQuery(d *Dialect, q store.ObjectQuery) (string, []any, error) {
	if q.Via != nil {
		return viaListQuery(d, q)
	}
	where, args, order, index, err := listParts(d, q)
	if err != nil {
		return "", nil, err
	}
	page, pargs := pageClause(q)
	return `SELECT ` + objectCols + ` FROM ` + objectTable(d, q) + d.index(index) + where + order + page, append(args, pargs...), nil
}

// listParts are the WHERE clause (with its arguments), the ORDER BY and the index of
// the statements that read q's objects.
func listParts(d *Dialect, q store.ObjectQuery) (where string, args []any, order, index string, err error) {
	where, args = objectWhere(q, true)
	if where, args, err = dataWhere(d, q, where, args); err != nil {
		return "", nil, "", "", err
	}
	order, index = objectOrder(q), cmp.Or(whereIndex(q), objectIndex(q))
	if q.OrderBy != nil {
		if order, index, err = dataOrder(d, q, index); err != nil {
			return "", nil, "", "", err
		}
	}
	return where, args, order, index, nil
}

// seeks tells whether q is a page in sort-key order past $skip, which ListObjects
// reads with seekQueries rather than OFFSET.
func seeks(q store.ObjectQuery) bool {
	return q.BySort && q.OrderBy == nil && q.Offset > 0 && q.Via == nil
}

// seekQueries are the two statements of a page in sort-key order that starts past
// q.Offset objects ($skip). OFFSET would read each skipped object whole (the table
// is keyed by id, so each is a lookup of its own: 10 ms for 500 messages). Instead
// first finds the page's first (sort, id) in the index alone, and page starts
// there, read from the same index; its last two placeholders before the limit take
// that (sort, id). The two are separate statements because a bound that is a
// subquery's row narrows SQLite's index range by sort alone: every object sharing
// the boundary's sort value was then read and discarded one by one, and a bench
// mailbox with hundreds of messages per received second spent 70 ms on a page.
func seekQueries(d *Dialect, q store.ObjectQuery) (first string, firstArgs []any, page string, pageArgs func(sort, id string) []any, err error) {
	where, args, order, index, err := listParts(d, q)
	if err != nil {
		return "", nil, "", nil, err
	}
	cmpOp := ">="
	if q.Desc {
		cmpOp = "<="
	}
	first = `SELECT sort, id FROM ` + objectTable(d, q) + d.index(index) + where + order + ` LIMIT 1 OFFSET ?`
	page = `SELECT ` + objectCols + ` FROM ` + objectTable(d, q) + d.index(index) + where +
		` AND (sort, id) ` + cmpOp + ` (?, ?)` + order + ` LIMIT ?`
	limit := cmp.Or(q.Limit, math.MaxInt32)
	return first, append(slices.Clip(args), q.Offset), page, func(sort, id string) []any {
		return append(slices.Clip(args), sort, id, limit)
	}, nil
}

// ListObjects implements store.ObjectTx.
func (t *Tx) ListObjects(ctx context.Context, q store.ObjectQuery) ([]store.Object, error) {
	query, args, err := listQuery(t.s.d, q)
	if seeks(q) {
		query, args, err = t.seekPage(ctx, q)
	}
	if err != nil || query == "" {
		return nil, err
	}
	rows, err := t.Query(ctx, query, args...)
	if err != nil {
		return nil, t.translate(err)
	}
	defer rows.Close()
	var out []store.Object
	for rows.Next() {
		o, err := scanObject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// seekPage finds where q's page starts (seekQueries) and returns the statement that
// reads it, or "" when the page starts past the end.
func (t *Tx) seekPage(ctx context.Context, q store.ObjectQuery) (string, []any, error) {
	first, firstArgs, page, pageArgs, err := seekQueries(t.s.d, q)
	if err != nil {
		return "", nil, err
	}
	var sort, id string
	err = t.QueryRow(ctx, first, firstArgs...).Scan(&sort, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, t.translate(err)
	}
	return page, pageArgs(sort, id), nil
}

// countQuery is the SELECT that CountObjects runs for q.
func countQuery(d *Dialect, q store.ObjectQuery) (string, []any, error) {
	if q.Via != nil {
		return viaCountQuery(d, q)
	}
	where, args := objectWhere(q, false)
	where, args, err := dataWhere(d, q, where, args)
	if err != nil {
		return "", nil, err
	}
	return `SELECT COUNT(*) FROM ` + objectTable(d, q) + d.index(cmp.Or(whereIndex(q), countIndex(q))) + where, args, nil
}

// CountObjects implements store.ObjectTx.
func (t *Tx) CountObjects(ctx context.Context, q store.ObjectQuery) (int, error) {
	query, args, err := countQuery(t.s.d, q)
	if err != nil {
		return 0, err
	}
	var n int
	err = t.QueryRow(ctx, query, args...).Scan(&n)
	return n, t.translate(err)
}

// InsertObject implements store.ObjectTx.
func (t *Tx) InsertObject(ctx context.Context, o *store.Object) error {
	now := time.Now().UTC()
	if o.Created.IsZero() {
		o.Created = now
	}
	if o.Updated.IsZero() {
		o.Updated = o.Created
	}
	o.Version = 1
	t.wroteObject(o.Kind)
	_, err := t.Exec(ctx, `INSERT INTO `+t.s.d.objects(o.Kind)+` (`+objectCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.Tenant, o.Kind, o.ID, o.Owner, o.Parent, o.Alt, boolInt(o.Deleted), o.Version, nanos(o.Created), nanos(o.Updated), o.Data, o.Sort)
	return t.translate(err)
}

// UpdateObject implements store.ObjectTx.
func (t *Tx) UpdateObject(ctx context.Context, o *store.Object) error {
	if o.Updated.IsZero() {
		o.Updated = time.Now().UTC()
	}
	t.wroteObject(o.Kind)
	res, err := t.Exec(ctx, `UPDATE `+t.s.d.objects(o.Kind)+` SET owner = ?, parent = ?, alt = ?, deleted = ?, version = version + 1, updated = ?, data = ?, sort = ?
		WHERE tenant = ? AND kind = ? AND id = ? AND version = ?`,
		o.Owner, o.Parent, o.Alt, boolInt(o.Deleted), nanos(o.Updated), o.Data, o.Sort, o.Tenant, o.Kind, o.ID, o.Version)
	if err != nil {
		return t.translate(err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		o.Version++
		return nil
	}
	if _, err := t.GetObject(ctx, o.Tenant, o.Kind, o.ID); err != nil {
		return err
	}
	return store.ErrVersionMismatch
}

// DeleteObject implements store.ObjectTx.
func (t *Tx) DeleteObject(ctx context.Context, tenant, kind, id string) error {
	t.wroteObject(kind)
	res, err := t.Exec(ctx, `DELETE FROM `+t.s.d.objects(kind)+` WHERE tenant = ? AND kind = ? AND id = ?`, tenant, kind, id)
	if err != nil {
		return t.translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// Blobs are stored as parts numbered from 0 (see migration 006); a blob is the
// concatenation of its parts in seq order.

// PutBlob implements store.BlobTx.
func (t *Tx) PutBlob(ctx context.Context, key string, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	if err := t.DeleteBlob(ctx, key); err != nil {
		return err
	}
	_, err := t.Exec(ctx, `INSERT INTO blob_parts (key, seq, data) VALUES (?, 0, ?)`, key, data)
	return t.translate(err)
}

// GetBlob implements store.BlobTx.
func (t *Tx) GetBlob(ctx context.Context, key string) ([]byte, error) {
	rows, err := t.Query(ctx, `SELECT data FROM blob_parts WHERE key = ? ORDER BY seq`, key)
	if err != nil {
		return nil, t.translate(err)
	}
	defer rows.Close()
	var data []byte
	found := false
	for rows.Next() {
		var part []byte
		if err := rows.Scan(&part); err != nil {
			return nil, t.translate(err)
		}
		if !found {
			data, found = part, true
			continue
		}
		data = append(data, part...)
	}
	if err := rows.Err(); err != nil {
		return nil, t.translate(err)
	}
	if !found {
		return nil, store.ErrNotFound
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// DeleteBlob implements store.BlobTx.
func (t *Tx) DeleteBlob(ctx context.Context, key string) error {
	_, err := t.Exec(ctx, `DELETE FROM blob_parts WHERE key = ?`, key)
	return t.translate(err)
}

// nextPart returns the seq the next part of key gets (0 for an absent blob).
func (t *Tx) nextPart(ctx context.Context, key string) (int64, error) {
	var next int64
	err := t.QueryRow(ctx, `SELECT COALESCE(MAX(seq) + 1, 0) FROM blob_parts WHERE key = ?`, key).Scan(&next)
	return next, t.translate(err)
}

// AppendBlob implements store.BlobTx: the piece becomes the blob's last part, so
// nothing already stored is read or rewritten.
func (t *Tx) AppendBlob(ctx context.Context, key string, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	next, err := t.nextPart(ctx, key)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, `INSERT INTO blob_parts (key, seq, data) VALUES (?, ?, ?)`, key, next, data)
	return t.translate(err)
}

// ConcatBlob implements store.BlobTx by renumbering src's parts after dst's last
// one: the database moves the rows, no content is read into the process.
func (t *Tx) ConcatBlob(ctx context.Context, dst, src string) error {
	if dst == src {
		return fmt.Errorf("%w: concatenating blob %q to itself", store.ErrConflict, dst)
	}
	next, err := t.nextPart(ctx, dst)
	if err != nil {
		return err
	}
	res, err := t.Exec(ctx, `UPDATE blob_parts SET key = ?, seq = seq + ? WHERE key = ?`, dst, next, src)
	if err != nil {
		return t.translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}
