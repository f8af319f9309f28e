package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/postgres"
)

// TestChangeLogNeverSkips runs writers on different topics at once, with no lock
// between them, while readers take positions in the log as delta rounds do: the end
// of the log (LastSeq, a "from now" token) and the last change of a page
// (ListChanges). A position must never be passed by a change that commits later: a
// delta round that continued from it would skip that change for ever. Seqs taken
// from a counter in the order writers ask for them, as BIGSERIAL gives them, fail
// this at once (a writer that took seq 9 commits after one that took seq 10).
func TestChangeLogNeverSkips(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, postgres.Config{URL: pgtest.URL(t), MaxConns: 24})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const writers, each = 8, 30
	topic := func(w int) string { return fmt.Sprintf("users/u%d/messages", w) }
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- s.Update(ctx, func(tx store.Tx) error {
					// The object first: the transaction is under way (it has its id)
					// well before it appends its change, as a workload's is.
					o := store.Object{Tenant: "t", Kind: "message", ID: fmt.Sprintf("m%d-%d", w, i), Owner: fmt.Sprintf("u%d", w), Data: []byte(`{}`)}
					if err := tx.InsertObject(ctx, &o); err != nil {
						return err
					}
					topics := []string{topic(w)}
					if i%3 == 0 {
						// Some changes touch a topic that every writer shares too.
						topics = append(topics, "users")
					}
					return tx.AppendChange(ctx, &store.Change{Tenant: "t", Kind: "message", ID: o.ID, ChangeType: store.Created, Topics: topics})
				})
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	topics := []string{"users"}
	for w := range writers {
		topics = append(topics, topic(w))
	}
	// An end position handed out, with the changes at or below it that were
	// visible then: no other may ever show up at or below it.
	type mark struct {
		last int64
		seen map[int64]bool
	}
	var marks []mark
	// A reader per topic pages from the log's end at the start, a few changes at a
	// time, as delta rounds do; it must end up with every change after its start.
	pos := map[string]int64{}
	paged := map[string][]int64{}
	var start int64
	if err := s.View(ctx, func(tx store.Tx) (err error) { start, err = tx.LastSeq(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	for _, tp := range topics {
		pos[tp] = start
	}
	reads := 0
	read := func() {
		reads++
		err := s.View(ctx, func(tx store.Tx) error {
			if reads%2 == 0 {
				// Another statement first: the log is then read below the snapshot's
				// own horizon, not the live one taken before it.
				if _, err := tx.GetObject(ctx, "t", "message", "none"); !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("GetObject = %v, want ErrNotFound", err)
				}
			}
			last, err := tx.LastSeq(ctx)
			if err != nil {
				return err
			}
			m := mark{last: last, seen: map[int64]bool{}}
			for _, tp := range topics {
				all, err := tx.ListChanges(ctx, "t", tp, 0, 0)
				if err != nil {
					return err
				}
				for _, c := range all {
					if c.Seq <= last {
						m.seen[c.Seq] = true
					}
				}
				page, err := tx.ListChanges(ctx, "t", tp, pos[tp], 3)
				if err != nil {
					return err
				}
				for _, c := range page {
					paged[tp] = append(paged[tp], c.Seq)
					pos[tp] = c.Seq
				}
			}
			marks = append(marks, m)
			return nil
		})
		if err != nil {
			t.Fatalf("View: %v", err)
		}
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		read()
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Update = %v, want nil", err)
		}
	}
	// Every writer has returned: the readers catch up with the whole log.
	for more := true; more; {
		before := len(marks[len(marks)-1].seen)
		read()
		more = len(marks[len(marks)-1].seen) != before
		for _, tp := range topics {
			var page []store.Change
			if err := s.View(ctx, func(tx store.Tx) (err error) {
				page, err = tx.ListChanges(ctx, "t", tp, pos[tp], 1)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			more = more || len(page) > 0
		}
	}

	final := map[string][]int64{}
	all := map[int64]bool{}
	if err := s.View(ctx, func(tx store.Tx) error {
		for _, tp := range topics {
			changes, err := tx.ListChanges(ctx, "t", tp, 0, 0)
			if err != nil {
				return err
			}
			for _, c := range changes {
				final[tp] = append(final[tp], c.Seq)
				all[c.Seq] = true
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each {
		t.Fatalf("changes in the log = %d, want %d", len(all), writers*each)
	}
	for _, m := range marks {
		for seq := range all {
			if seq <= m.last && !m.seen[seq] {
				t.Fatalf("seq %d committed after LastSeq had handed out %d: a delta token taken there skips it", seq, m.last)
			}
		}
	}
	for _, tp := range topics {
		var want []int64
		for _, seq := range final[tp] {
			if seq > start {
				want = append(want, seq)
			}
		}
		if !slices.Equal(paged[tp], want) {
			t.Errorf("topic %s paged from %d: %d changes %v, want %d %v", tp, start, len(paged[tp]), paged[tp], len(want), want)
		}
	}
	t.Logf("%d reads, %d changes", len(marks), len(all))
}

// openChurning opens a store on a test database while transactions of another
// database of the same server keep starting and ending (see churn); both stop when
// the test ends.
func openChurning(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	t.Cleanup(churn(t, pgtest.URL(t)))
	return s
}

// TestChangeLogReadsYourWrites: a change is in the log for a reader that begins
// after its transaction committed, while transactions of another database on the
// same server keep starting and ending. A horizon read from the reader's snapshot
// alone must count those that end before it can tell where they ran; the live
// horizon, taken before the snapshot, need not.
func TestChangeLogReadsYourWrites(t *testing.T) {
	readYourWrites(t, false)
}

// TestChangeLogReadsYourWritesAfterOtherReads: the same for a reader that reads an
// object before the log, as a delta request does, and says so with
// store.ReadsChangeLog. Its snapshot is taken by that first read; the horizon the
// snapshot alone gives counts the other database's transactions that ended since,
// which hold it below the change under this churn.
func TestChangeLogReadsYourWritesAfterOtherReads(t *testing.T) {
	readYourWrites(t, true)
}

// readYourWrites appends changes one by one under another database's churn and
// reads each back in a new view: the log first, or, with objectFirst, the changed
// object first in a view marked store.ReadsChangeLog.
func readYourWrites(t *testing.T, objectFirst bool) {
	ctx := context.Background()
	s := openChurning(t)
	for i := range 150 {
		topic := fmt.Sprintf("users/u%d/messages", i)
		id := fmt.Sprint(i)
		var c store.Change
		if err := s.Update(ctx, func(tx store.Tx) error {
			if objectFirst {
				o := store.Object{Tenant: "t", Kind: "message", ID: id, Data: []byte(`{}`)}
				if err := tx.InsertObject(ctx, &o); err != nil {
					return err
				}
			}
			c = store.Change{Tenant: "t", Kind: "message", ID: id, ChangeType: store.Created, Topics: []string{topic}}
			return tx.AppendChange(ctx, &c)
		}); err != nil {
			t.Fatal(err)
		}
		vctx := ctx
		if objectFirst {
			vctx = store.ReadsChangeLog(ctx)
		}
		if err := s.View(vctx, func(tx store.Tx) error {
			if objectFirst {
				if _, err := tx.GetObject(ctx, "t", "message", id); err != nil {
					return err
				}
			}
			last, err := tx.LastSeq(ctx)
			if err != nil {
				return err
			}
			changes, err := tx.ListChanges(ctx, "t", topic, 0, 0)
			if err != nil {
				return err
			}
			mustSeeChange(t, i, c, changes, last)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// mustSeeChange fails the test unless a read that began after change i (c) had
// committed found it on its topic, and a LastSeq at or past it.
func mustSeeChange(t *testing.T, i int, c store.Change, changes []store.Change, last int64) {
	t.Helper()
	if len(changes) != 1 || changes[0].Seq != c.Seq || last < c.Seq {
		t.Fatalf("read after change %d (seq %d) committed: %d changes, LastSeq %d; want it, and LastSeq at or past it", i, c.Seq, len(changes), last)
	}
}

// churn keeps transactions of another database on the same server starting and
// ending until the returned function is called.
func churn(t *testing.T, url string) (stop func()) {
	t.Helper()
	ctx := context.Background()
	other, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, `CREATE TABLE churn (n INT)`); err != nil {
		t.Fatal(err)
	}
	churnCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for churnCtx.Err() == nil {
				other.ExecContext(churnCtx, `INSERT INTO churn VALUES (1)`)
			}
		}()
	}
	return func() { cancel(); wg.Wait(); other.Close() }
}
