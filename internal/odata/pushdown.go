package odata

import (
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// PropFunc tells which properties a collection lets the store filter and order by:
// given a path as a filter spells it ('/'-separated, any case), it returns the
// property as stored, or false.
type PropFunc func(path string) (store.Prop, bool)

// StoreCond translates f into a condition the store evaluates (store.Cond) with the
// meaning Match gives it, so that a listing is filtered by the database. What cannot
// be said exactly (a lambda, a number, a string ordering, a non-ASCII string, a
// property props does not know) is left out: exact is false when anything was, and
// the store's answer is then a superset the caller must Match again. nil means
// nothing could be translated.
//
// Only the top level's and-ed conditions may be left out; inside or and not a
// condition is translated whole or not at all, so the result never drops a match.
func (f *Filter) StoreCond(props PropFunc) (c *store.Cond, exact bool) {
	return push(f.root, props, false)
}

// push translates c; strict asks for all or nothing.
func push(c cond, props PropFunc, strict bool) (*store.Cond, bool) {
	switch c := c.(type) {
	case andCond:
		l, lexact := push(c.left, props, strict)
		r, rexact := push(c.right, props, strict)
		switch {
		case l != nil && r != nil:
			return &store.Cond{Op: store.CondAnd, Sub: []store.Cond{*l, *r}}, lexact && rexact
		case strict:
			return nil, false
		case l != nil:
			return l, false
		case r != nil:
			return r, false
		}
		return nil, false
	case orCond:
		l, _ := push(c.left, props, true)
		r, _ := push(c.right, props, true)
		if l == nil || r == nil {
			return nil, false
		}
		return &store.Cond{Op: store.CondOr, Sub: []store.Cond{*l, *r}}, true
	case notCond:
		inner, _ := push(c.inner, props, true)
		if inner == nil {
			return nil, false
		}
		return &store.Cond{Op: store.CondNot, Sub: []store.Cond{*inner}}, true
	case constCond:
		if c {
			return &store.Cond{Op: store.CondAnd}, true
		}
		return &store.Cond{Op: store.CondOr}, true
	case truthCond:
		p, ok := propOf(c.path, props)
		if !ok || p.Type != store.PropBool {
			return nil, false
		}
		return &store.Cond{Op: store.CondEq, Prop: p, Value: true}, true
	case compareCond:
		return pushCompare(c, props)
	case inCond:
		pth, ok := c.left.(*path)
		if !ok {
			return nil, false
		}
		p, ok := propOf(pth, props)
		if !ok {
			return nil, false
		}
		values := make([]any, len(c.set))
		for i, v := range c.set {
			sv, ok := eqValue(p, v)
			if !ok {
				return nil, false
			}
			values[i] = sv
		}
		return &store.Cond{Op: store.CondIn, Prop: p, Values: values}, true
	case stringFunc:
		pth, ok := c.left.(*path)
		lit, isLit := c.right.(literal)
		if !ok || !isLit || c.name != "startswith" || lit.v.kind != kindString || !ascii(lit.v.s) {
			return nil, false
		}
		p, ok := propOf(pth, props)
		if !ok || p.Type == store.PropBool {
			return nil, false
		}
		return &store.Cond{Op: store.CondPrefix, Prop: p, Value: lit.v.s}, true
	}
	return nil, false
}

// pushCompare translates eq, ne, gt, ge, lt and le between a property and a literal.
func pushCompare(c compareCond, props PropFunc) (*store.Cond, bool) {
	op := c.op
	pth, ok := c.left.(*path)
	lit, isLit := c.right.(literal)
	if !ok || !isLit {
		// The literal on the left: 'x' lt p is p gt 'x'.
		pth, ok = c.right.(*path)
		lit, isLit = c.left.(literal)
		op = map[compareOp]compareOp{opEq: opEq, opNe: opNe, opGt: opLt, opGe: opLe, opLt: opGt, opLe: opGe}[op]
	}
	if !ok || !isLit {
		return nil, false
	}
	p, ok := propOf(pth, props)
	if !ok {
		return nil, false
	}
	if lit.v.kind == kindTime {
		return pushTime(p, op, lit.v.t)
	}
	if op != opEq && op != opNe {
		if lit.v.kind == kindNull {
			// Nothing orders against null: the comparison is false for every object.
			return &store.Cond{Op: store.CondOr}, true
		}
		return nil, false
	}
	v, ok := eqValue(p, lit.v)
	if !ok {
		return nil, false
	}
	eq := store.Cond{Op: store.CondEq, Prop: p, Value: v}
	if op == opNe {
		return &store.Cond{Op: store.CondNot, Sub: []store.Cond{eq}}, true
	}
	return &eq, true
}

// pushTime compares a time property with an instant, as text in the property's
// layout; an instant the layout cannot write exactly (a fraction of a second the
// layout drops) is not translated.
func pushTime(p store.Prop, op compareOp, t time.Time) (*store.Cond, bool) {
	if p.Type != store.PropTime || p.Layout == "" {
		return nil, false
	}
	s := t.UTC().Format(p.Layout)
	if back, err := time.Parse(p.Layout, s); err != nil || !back.Equal(t) {
		return nil, false
	}
	cmp := func(op store.CondOp) store.Cond { return store.Cond{Op: op, Prop: p, Value: s} }
	eq := store.Cond{Op: store.CondAnd, Sub: []store.Cond{cmp(store.CondGe), cmp(store.CondLe)}}
	switch op {
	case opEq:
		return &eq, true
	case opNe:
		return &store.Cond{Op: store.CondNot, Sub: []store.Cond{eq}}, true
	case opGt:
		c := cmp(store.CondGt)
		return &c, true
	case opGe:
		c := cmp(store.CondGe)
		return &c, true
	case opLt:
		c := cmp(store.CondLt)
		return &c, true
	default:
		c := cmp(store.CondLe)
		return &c, true
	}
}

// eqValue is the store value eq compares a property of type p with: a string (ASCII,
// which store.Fold compares as EqualFold does) for a string or time property, a bool
// for a bool property, nil for null.
func eqValue(p store.Prop, v value) (any, bool) {
	switch v.kind {
	case kindNull:
		return nil, true
	case kindString:
		return v.s, p.Type != store.PropBool && ascii(v.s)
	case kindBool:
		return v.b, p.Type == store.PropBool
	}
	return nil, false
}

// propOf finds a document path (not a lambda's range variable) among props.
func propOf(p *path, props PropFunc) (store.Prop, bool) {
	if p.scope >= 0 || props == nil {
		return store.Prop{}, false
	}
	name := ""
	for i, s := range p.segs {
		if i > 0 {
			name += "/"
		}
		name += s
	}
	return props(name)
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// StoreOrder translates $orderby keys into the store's, or returns false when one of
// them is not a string or time property of props. The store orders strings by
// store.Fold and byte order, which is SortDocs' order only for store.Plain strings:
// the caller must make sure that the values it lists are (the store's
// store.CondUnplain finds the others).
func StoreOrder(keys []OrderKey, props PropFunc) ([]store.OrderKey, bool) {
	out := make([]store.OrderKey, 0, len(keys))
	for _, k := range keys {
		p, ok := props(k.Property)
		if !ok || p.Type == store.PropBool {
			return nil, false
		}
		out = append(out, store.OrderKey{Prop: p, Desc: k.Desc})
	}
	return out, true
}
