package odata

import "strings"

// Filter is a compiled $filter expression. It is immutable once ParseFilter returns it,
// so one Filter may be matched from many goroutines at once.
type Filter struct {
	text  string
	root  cond
	props []string
	// vars is the deepest nesting of any/all lambdas, the number of range variables
	// live at once; it sizes the variable stack Match hands down.
	vars int
}

// Match reports whether doc satisfies the filter. doc is a JSON object as
// encoding/json decodes it; a property the document lacks reads as null.
func (f *Filter) Match(doc map[string]any) bool {
	if f.vars == 0 {
		return f.root.match(doc, nil)
	}
	return f.root.match(doc, make([]any, 0, f.vars))
}

// String returns the filter text as the client wrote it.
func (f *Filter) String() string { return f.text }

// Properties lists the property paths the filter reads, '/'-separated, spelled as the
// filter spells them, each once, in order of first appearance. Paths read through a
// lambda's range variable are spelled from the document root, and the collection itself
// is listed too: mentions/any(u: u/mentioned/user/id eq 'x') reads "mentions" and
// "mentions/mentioned/user/id".
func (f *Filter) Properties() []string {
	return append([]string(nil), f.props...)
}

// cond is a compiled boolean expression. vars holds the elements the enclosing
// lambdas' range variables are bound to, outermost first.
type cond interface {
	match(doc map[string]any, vars []any) bool
}

// operand is a compiled expression that yields a value.
type operand interface {
	eval(doc map[string]any, vars []any) value
}

type andCond struct{ left, right cond }

func (c andCond) match(doc map[string]any, vars []any) bool {
	return c.left.match(doc, vars) && c.right.match(doc, vars)
}

type orCond struct{ left, right cond }

func (c orCond) match(doc map[string]any, vars []any) bool {
	return c.left.match(doc, vars) || c.right.match(doc, vars)
}

type notCond struct{ inner cond }

func (c notCond) match(doc map[string]any, vars []any) bool {
	return !c.inner.match(doc, vars)
}

type constCond bool

func (c constCond) match(map[string]any, []any) bool { return bool(c) }

// truthCond is a boolean property used as a condition on its own: $filter=isRead.
type truthCond struct{ path *path }

func (c truthCond) match(doc map[string]any, vars []any) bool {
	b, ok := c.path.resolve(doc, vars).(bool)
	return b && ok
}

type compareOp uint8

const (
	opEq compareOp = iota
	opNe
	opGt
	opGe
	opLt
	opLe
)

// compareCond is one of eq, ne, gt, ge, lt, le. ne is the negation of eq, so it is
// true when either side is null and the other is not; the ordering operators are
// false whenever the sides are not comparable (see compare).
type compareCond struct {
	op          compareOp
	left, right operand
}

func (c compareCond) match(doc map[string]any, vars []any) bool {
	a, b := c.left.eval(doc, vars), c.right.eval(doc, vars)
	switch c.op {
	case opEq:
		return equal(a, b)
	case opNe:
		return !equal(a, b)
	}
	n, ok := compare(a, b)
	if !ok {
		return false
	}
	switch c.op {
	case opGt:
		return n > 0
	case opGe:
		return n >= 0
	case opLt:
		return n < 0
	default:
		return n <= 0
	}
}

// inCond is "x in (v1, v2, ...)", true when x eq one of the values.
type inCond struct {
	left operand
	set  []value
}

func (c inCond) match(doc map[string]any, vars []any) bool {
	v := c.left.eval(doc, vars)
	for _, w := range c.set {
		if equal(v, w) {
			return true
		}
	}
	return false
}

// stringFunc is contains, startswith or endswith. Both arguments must be strings, and
// they are compared ignoring case, like eq on strings.
type stringFunc struct {
	name        string // contains, startswith or endswith
	test        func(s, t string) bool
	left, right operand
}

func (c stringFunc) match(doc map[string]any, vars []any) bool {
	a, b := c.left.eval(doc, vars), c.right.eval(doc, vars)
	return a.kind == kindString && b.kind == kindString && c.test(a.s, b.s)
}

// lambdaCond is coll/any(x: pred) or coll/all(x: pred); pred is nil for coll/any().
// A property that is missing, null or not an array is an empty collection: any is
// false on it and all is true.
type lambdaCond struct {
	coll *path
	all  bool
	pred cond
}

func (c lambdaCond) match(doc map[string]any, vars []any) bool {
	items, _ := c.coll.resolve(doc, vars).([]any)
	if c.pred == nil {
		return len(items) > 0
	}
	vars = append(vars, nil)
	slot := len(vars) - 1
	for _, item := range items {
		vars[slot] = item
		if c.pred.match(doc, vars) != c.all {
			return !c.all
		}
	}
	return c.all
}

type literal struct{ v value }

func (l literal) eval(map[string]any, []any) value { return l.v }

// path is a property path, read from the document or, inside a lambda, from the
// element a range variable is bound to.
type path struct {
	// scope is -1 for the document, otherwise the index in vars of the range variable
	// the path starts with.
	scope int
	segs  []string
}

func (p *path) eval(doc map[string]any, vars []any) value {
	return valueOf(p.resolve(doc, vars))
}

func (p *path) resolve(doc map[string]any, vars []any) any {
	var cur any = doc
	if p.scope >= 0 {
		cur = vars[p.scope]
	}
	for _, seg := range p.segs {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = lookup(m, seg)
	}
	return cur
}

// lookup reads a property by name ignoring case, as Graph does. The exact spelling is
// tried first, so the usual case costs one map access.
func lookup(m map[string]any, name string) any {
	if v, ok := m[name]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}
