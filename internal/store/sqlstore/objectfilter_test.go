package sqlstore

import (
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
)

// TestMalformedConds: a condition the store cannot read is an error, on both
// dialects, never a panic or a statement that reads something else.
func TestMalformedConds(t *testing.T) {
	p := store.Prop{Path: "displayName"}
	for _, c := range []store.Cond{
		{Op: store.CondNot},
		{Op: store.CondNot, Sub: []store.Cond{{Op: store.CondAnd}, {Op: store.CondAnd}}},
		{Op: store.CondPrefix, Prop: p, Value: true},
		{Op: store.CondGe, Prop: p},
		{Op: store.CondEq, Prop: p, Value: 3.5},
		{Op: store.CondIn, Prop: p, Values: []any{"a", 1}},
		{Op: 200},
		{Op: store.CondAnd, Sub: []store.Cond{{Op: store.CondOr, Sub: []store.Cond{{Op: 99}}}}},
		{Op: store.CondEq, Prop: store.Prop{Path: "a') OR 1=1 --"}, Value: "x"},
		{Op: store.CondUnplain, Prop: store.Prop{Path: "a//b"}},
		{Op: store.CondNot, Sub: []store.Cond{{Op: store.CondPrefix, Prop: store.Prop{Path: "a.b"}, Value: "x"}}},
	} {
		for _, pg := range []bool{false, true} {
			var args []any
			if sql, err := (jsonExpr{pg: pg}).cond(c, false, &args); err == nil {
				t.Errorf("cond(%+v, pg=%v) = %q, want an error", c, pg, sql)
			}
		}
	}
}

// TestCondArgs: every placeholder of a translated condition has its argument, and
// string values are folded as the indexed expressions are.
func TestCondArgs(t *testing.T) {
	p := store.Prop{Path: "a/b"}
	c := store.Cond{Op: store.CondOr, Sub: []store.Cond{
		{Op: store.CondIn, Prop: p, Values: []any{"X\u212a", nil, "y"}},
		{Op: store.CondNot, Sub: []store.Cond{{Op: store.CondPrefix, Prop: p, Value: "Ab"}}},
		{Op: store.CondLt, Prop: p, Value: "2026"},
	}}
	for _, pg := range []bool{false, true} {
		var args []any
		sql, err := jsonExpr{pg: pg}.cond(c, false, &args)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(sql, "?"); n != len(args) {
			t.Errorf("pg=%v: %d placeholders, %d args: %s", pg, n, len(args), sql)
		}
		want := []any{"xk", "y", "ab", "2026"}
		for i := range want {
			if i >= len(args) || args[i] != want[i] {
				t.Errorf("pg=%v: args = %v, want %v", pg, args, want)
				break
			}
		}
	}
}

// TestMalformedOrder: an order by a path that is not identifiers is an error.
func TestMalformedOrder(t *testing.T) {
	for _, pg := range []bool{false, true} {
		if sql, err := (jsonExpr{pg: pg}).order([]store.OrderKey{{Prop: store.Prop{Path: "x'; DROP TABLE objects; --"}}}, false); err == nil {
			t.Errorf("order(pg=%v) = %q, want an error", pg, sql)
		}
	}
}
