package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/store"
)

// AppendChange implements store.ChangeTx.
func (t *Tx) AppendChange(ctx context.Context, c *store.Change) error {
	if t.readOnly {
		return ErrReadOnly
	}
	if c.Time.IsZero() {
		c.Time = time.Now().UTC()
	}
	topics, err := docjson.Marshal(c.Topics)
	if err != nil {
		return err
	}
	if t.s.d.WritableCTE {
		if err := t.appendInOne(ctx, c, string(topics)); err != nil {
			return err
		}
	} else if err := t.appendInTwo(ctx, c, string(topics)); err != nil {
		return err
	}
	t.signal = true
	if h := t.s.hook; h != nil {
		err := h(ctx, t, c)
		t.prefetched = nil
		return err
	}
	return nil
}

// appendInTwo inserts the change, then its topic rows, and sets c.Seq.
func (t *Tx) appendInTwo(ctx context.Context, c *store.Change, topics string) error {
	const insert = `INSERT INTO changes (tenant, kind, id, change_type, topics, time, before, after, extra)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	args := []any{c.Tenant, c.Kind, c.ID, c.ChangeType, topics, nanos(c.Time), c.Before, c.After, c.Extra}
	if t.s.d.LastInsertID {
		res, err := t.Exec(ctx, insert, args...)
		if err != nil {
			return t.translate(err)
		}
		if c.Seq, err = res.LastInsertId(); err != nil {
			return err
		}
	} else if err := t.QueryRow(ctx, insert+` RETURNING seq`, args...).Scan(&c.Seq); err != nil {
		return t.translate(err)
	}
	return t.insertTopics(ctx, c)
}

// insertTopics indexes c under each of its topics, in one statement: a change
// touches several (the item, its folder, the mailbox, the /me forms).
func (t *Tx) insertTopics(ctx context.Context, c *store.Change) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO change_topics (tenant, topic, seq) VALUES `)
	args := make([]any, 0, 3*len(c.Topics))
	for i, topic := range c.Topics {
		if slices.Contains(c.Topics[:i], topic) {
			continue
		}
		if len(args) > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
		args = append(args, c.Tenant, topic, c.Seq)
	}
	if len(args) == 0 {
		return nil
	}
	_, err := t.Exec(ctx, b.String(), args...)
	return t.translate(err)
}

const changeCols = `c.seq, c.tenant, c.kind, c.id, c.change_type, c.topics, c.time, c.before, c.after, c.extra`

// ListChanges implements store.ChangeTx.
func (t *Tx) ListChanges(ctx context.Context, tenant, topic string, after int64, limit int) ([]store.Change, error) {
	query := `SELECT ` + changeCols + ` FROM change_topics ct JOIN changes c ON c.seq = ct.seq
		WHERE ct.tenant = ? AND ct.topic = ? AND ct.seq > ?`
	args := []any{tenant, topic, after}
	// Only final seqs: a later read must not find one below what this one returned.
	bound, barg, err := t.seqBound(ctx, "ct.seq")
	if err != nil {
		return nil, err
	}
	if bound != "" {
		query += ` AND ` + bound
		args = append(args, barg...)
	}
	query += ` ORDER BY ct.seq`
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := t.Query(ctx, query, args...)
	if err != nil {
		return nil, t.translate(err)
	}
	defer rows.Close()
	var out []store.Change
	for rows.Next() {
		var c store.Change
		var topics string
		var tm int64
		if err := rows.Scan(&c.Seq, &c.Tenant, &c.Kind, &c.ID, &c.ChangeType, &topics, &tm, &c.Before, &c.After, &c.Extra); err != nil {
			return nil, err
		}
		c.Time = fromNanos(tm)
		if err := json.Unmarshal([]byte(topics), &c.Topics); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LastSeq implements store.ChangeTx: the newest final seq (see Dialect.SeqHorizon),
// so that a token taken there is never passed by a change still to commit.
func (t *Tx) LastSeq(ctx context.Context) (int64, error) {
	query := `SELECT COALESCE(MAX(seq), 0) FROM changes`
	bound, args, err := t.seqBound(ctx, "seq")
	if err != nil {
		return 0, err
	}
	if bound != "" {
		query += ` WHERE ` + bound
	}
	var n int64
	err = t.QueryRow(ctx, query, args...).Scan(&n)
	return n, t.translate(err)
}

// seqBound is the condition that keeps col below the seqs that transactions this
// one does not see may still commit ("" when the dialect has no SeqHorizon), and
// its arguments: the dialect's LiveHorizon when it was taken before the snapshot,
// else the snapshot's own horizon.
func (t *Tx) seqBound(ctx context.Context, col string) (string, []any, error) {
	h := t.s.d.SeqHorizon
	if h == "" {
		return "", nil, nil
	}
	if err := t.takeLiveHorizon(ctx); err != nil {
		return "", nil, err
	}
	if t.live > 0 {
		return col + " < ?", []any{t.live}, nil
	}
	return col + " < " + h, nil, nil
}

// takeLiveHorizon asks the dialect's LiveHorizon when no statement has run yet: the
// snapshot, taken by the next one, comes after it.
func (t *Tx) takeLiveHorizon(ctx context.Context) error {
	if t.issued || t.live > 0 || t.s.d.LiveHorizon == nil {
		return nil
	}
	live, err := t.s.d.LiveHorizon(ctx)
	t.live = live
	return err
}

// FirstSeq implements store.ChangeTx.
func (t *Tx) FirstSeq(ctx context.Context) (int64, error) {
	// A delta page starts here: the LastSeq and ListChanges after it read below the
	// live horizon only if it is taken before this first statement.
	if err := t.takeLiveHorizon(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := t.QueryRow(ctx, `SELECT COALESCE(MIN(seq), 0) FROM changes`).Scan(&n)
	return n, t.translate(err)
}

// prunedTopics is the DELETE of the topic rows of the changes older than its one
// argument, but the newest: each looked up by its key.
func prunedTopics(d *Dialect) string {
	pruned := ` FROM changes c %s WHERE c.time < ? AND c.seq < (SELECT MAX(seq) FROM changes)`
	if d.Name == "sqlite" {
		return `DELETE FROM change_topics WHERE (tenant, topic, seq) IN (SELECT c.tenant, j.value, c.seq` +
			fmt.Sprintf(pruned, `, json_each(c.topics) AS j`) + `)`
	}
	return `DELETE FROM change_topics ct USING (SELECT c.tenant, j.topic, c.seq` +
		fmt.Sprintf(pruned, `CROSS JOIN LATERAL json_array_elements_text(c.topics::json) AS j(topic)`) +
		`) p WHERE ct.tenant = p.tenant AND ct.topic = p.topic AND ct.seq = p.seq`
}

// PruneChanges implements store.ChangeTx.
func (t *Tx) PruneChanges(ctx context.Context, before time.Time) (int, error) {
	// The newest change always stays: LastSeq reads the log's end from it, and a delta
	// token taken at that end must stay valid however long the log stays quiet.
	// A pruned change's topic rows are found by their key, from the topics the change
	// lists (the log keeps no index of topic rows by seq: each change would write its
	// topics into it too).
	if _, err := t.Exec(ctx, prunedTopics(t.s.d), nanos(before)); err != nil {
		return 0, t.translate(err)
	}
	res, err := t.Exec(ctx, `DELETE FROM changes WHERE time < ? AND seq < (SELECT MAX(seq) FROM changes)`, nanos(before))
	if err != nil {
		return 0, t.translate(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
