package sqlstore

import (
	"context"
	mrand "math/rand/v2"
	"strings"

	"github.com/graphhook/graphhook/internal/store"
)

// Totals live in object_totals (migration 013), one row per object and shard; an
// object's totals are the sums over its rows.

// totalsShard is the row of an object's totals this transaction adds to: one drawn
// once per transaction, so that a transaction adding to the same folder many times
// (a copied subtree) writes one row of it, and two concurrent transactions seldom
// write the same one.
func (t *Tx) totalsShard() int {
	if n := t.s.d.TotalsShards; n > 1 && t.shard == 0 {
		t.shard = 1 + mrand.IntN(n)
	}
	return max(t.shard-1, 0)
}

// AddTotals implements store.TotalsTx.
func (t *Tx) AddTotals(ctx context.Context, tenant, kind, id string, delta store.Totals) error {
	if delta == (store.Totals{}) {
		return nil
	}
	_, err := t.Exec(ctx, `INSERT INTO object_totals (tenant, kind, id, shard, total_size, total_count) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, kind, id, shard) DO UPDATE SET total_size = object_totals.total_size + excluded.total_size,
		total_count = object_totals.total_count + excluded.total_count`,
		tenant, kind, id, t.totalsShard(), delta.Size, delta.Count)
	return t.translate(err)
}

// totalsBatch caps the ids of one GetTotals statement. Batches are padded to a
// power of two so that the statements stay few (the writer caches them).
const totalsBatch = 128

// GetTotals implements store.TotalsTx.
func (t *Tx) GetTotals(ctx context.Context, tenant, kind string, ids []string) (map[string]store.Totals, error) {
	out := make(map[string]store.Totals, len(ids))
	for len(ids) > 0 {
		batch := ids[:min(len(ids), totalsBatch)]
		ids = ids[len(batch):]
		n := 1
		for n < len(batch) {
			n *= 2
		}
		args := []any{tenant, kind}
		for i := range n {
			args = append(args, batch[min(i, len(batch)-1)])
		}
		rows, err := t.Query(ctx, `SELECT id, SUM(total_size), SUM(total_count) FROM object_totals
			WHERE tenant = ? AND kind = ? AND id IN (?`+strings.Repeat(", ?", n-1)+`) GROUP BY id`, args...)
		if err != nil {
			return nil, t.translate(err)
		}
		for rows.Next() {
			var id string
			var tot store.Totals
			if err := rows.Scan(&id, &tot.Size, &tot.Count); err != nil {
				rows.Close()
				return nil, t.translate(err)
			}
			out[id] = tot
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, t.translate(err)
		}
	}
	return out, nil
}

// DeleteTotals implements store.TotalsTx.
func (t *Tx) DeleteTotals(ctx context.Context, tenant, kind, id string) error {
	_, err := t.Exec(ctx, `DELETE FROM object_totals WHERE tenant = ? AND kind = ? AND id = ?`, tenant, kind, id)
	return t.translate(err)
}
