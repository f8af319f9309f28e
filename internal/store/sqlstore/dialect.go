package sqlstore

import (
	"context"
	"embed"
	"strconv"
	"strings"
	"sync"
)

//go:embed migrations
var migrationsFS embed.FS

// Dialect is what differs between backends.
type Dialect struct {
	// Name is "sqlite" or "postgres"; it picks the migrations folder.
	Name string
	// DollarParams rebinds '?' placeholders to $1, $2, … .
	DollarParams bool
	// IsUniqueViolation reports whether err is a unique-constraint failure.
	IsUniqueViolation func(error) bool
	// SkipLocked is appended to claim sub-selects ("FOR UPDATE SKIP LOCKED" on
	// PostgreSQL, "" on SQLite where the single writer already serialises claims).
	SkipLocked string
	// SeqHorizon, when set, is an SQL expression for the first change seq that a
	// transaction the current snapshot does not see may still commit: ListChanges
	// and LastSeq read only below it. Without it a reader could see seq 10 before a
	// slower transaction commits seq 9, and a delta token taken at 10 would skip 9 for
	// ever. PostgreSQL derives seqs from transaction ids and the horizon from the
	// snapshot (migration 011), so that concurrent writers need no lock;
	// SQLite's single writer commits seqs in order and needs none.
	SeqHorizon string
	// LiveHorizon, when set, returns a seq below which every change is final for any
	// snapshot taken after it returns, read from the transactions running then. A
	// snapshot's own horizon must count a transaction that ended after the snapshot
	// was taken but before it could be told apart from a writer of the log; taken
	// before the snapshot, this one need not, and it lets a reader see the changes
	// committed before it began (read your writes). It runs on a connection of its
	// own; ListChanges, LastSeq and FirstSeq call it when they are a transaction's
	// first statement, and read below it instead of below SeqHorizon.
	LiveHorizon func(ctx context.Context) (int64, error)
	// IndexHints names the index a listing must read (SQLite's INDEXED BY): a
	// fresh SQLite file has no statistics, and its planner would rather walk the
	// primary key in id order than read one owner's or folder's index. PostgreSQL
	// keeps statistics itself (autovacuum) and takes no hints.
	IndexHints bool
	// ObjectPartitions maps a kind to the partition of objects that holds its rows,
	// where objects is partitioned by kind (PostgreSQL, migration 022), and
	// OtherObjects is the partition of every other kind. A statement about one kind
	// names its partition: it then opens only that partition's indexes, and needs no
	// pruning. Nil: objects is one table.
	ObjectPartitions map[string]string
	OtherObjects     string
	// WritableCTE tells that the database runs INSERTs inside WITH (PostgreSQL):
	// AppendChange then writes a change, its topics and reads its subscriptions in
	// one statement (see appendInOne).
	WritableCTE bool
	// TotalsShards is how many rows an object's totals may spread over (see
	// store.TotalsTx.AddTotals); 0 or 1 keeps one row, enough for SQLite's single
	// writer.
	TotalsShards int
	// LastInsertID reads the ids an INSERT assigned from the driver's
	// LastInsertId instead of a RETURNING clause. SQLite runs RETURNING through a
	// temporary table opened for each statement, which cost more than the insert
	// itself (BenchmarkChangeWrite); its AUTOINCREMENT ids of one multi-row INSERT
	// are consecutive (each row takes one more than the largest id ever used, and
	// the single writer lets nobody in between), so the last id gives them all.
	// PostgreSQL's driver has no LastInsertId.
	LastInsertID bool
	// Uninterrupted runs statements under a context that cannot be cancelled, after
	// checking the caller's: go-sqlite3 hands every statement run under a
	// cancellable context to a goroutine of its own, to interrupt it when the
	// context ends, and database/sql does the same for every result set and read
	// transaction. Those hand-offs cost the writer more than SQLite's statements
	// did. SQLite's statements are local and short, so a cancelled request stops at
	// its next statement instead. PostgreSQL's driver needs the context to give up
	// on a server that does not answer.
	Uninterrupted bool

	mu    sync.Mutex
	cache map[string]string
}

// Q rebinds a statement for the dialect, caching the result.
func (d *Dialect) Q(query string) string {
	if !d.DollarParams {
		return query
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if q, ok := d.cache[query]; ok {
		return q
	}
	var b strings.Builder
	n := 0
	inString := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inString = !inString
			b.WriteByte(c)
		case c == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	if d.cache == nil {
		d.cache = map[string]string{}
	}
	d.cache[query] = b.String()
	return b.String()
}

// objects is the table a statement about objects of kind reads or writes: the kind's
// partition, where objects is partitioned, else objects itself. kind "" stands for
// several kinds.
func (d *Dialect) objects(kind string) string {
	if d.ObjectPartitions == nil || kind == "" {
		return "objects"
	}
	if t, ok := d.ObjectPartitions[kind]; ok {
		return t
	}
	return d.OtherObjects
}

// index is the clause that makes a query on objects read the named index, where the
// dialect takes hints ("" when it does not, or name is "").
func (d *Dialect) index(name string) string {
	if !d.IndexHints || name == "" {
		return ""
	}
	return " INDEXED BY " + name
}
