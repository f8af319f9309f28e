package odata

import (
	"context"
	"strconv"
	"strings"
	"unicode"

	"github.com/CiscoM31/godata"
)

// maxFilterLen bounds the text ParseFilter accepts. Request URLs are limited to a few
// kilobytes anyway; the bound keeps godata's quadratic corners (building long lists)
// cheap on hostile input.
const maxFilterLen = 4096

// maxDepth bounds the nesting of a filter, so that neither compiling nor matching it
// recurses without limit.
const maxDepth = 64

// maxLambdaDepth bounds how deep any/all may nest. Each level multiplies the work of
// a match by the size of the collection it ranges over, so deeper nesting would let
// one filter stall the notification path (a/any(x: a/any(y: a/any(z: ...))) is
// exponential in the depth). Graph's own filters use one level.
const maxLambdaDepth = 2

// The grammar is godata's: its tokenizer engine and its shunting-yard parser, which
// yields a parse tree that compile turns into cond and operand values. We drive them
// with our own token rules and operator table instead of godata's global ones, because
// the global ones:
//   - split or rename identifiers that begin with a keyword (nullable becomes null
//     followed by able; "date eq ..." reads date as the date() function), which would
//     misread real property names;
//   - know dozens of functions and arithmetic operators we do not evaluate, which we
//     would rather reject by name ("unknown function 'tolower'");
//   - are package globals that any other importer may change through
//     godata.DefineCustomFunctions.
//
// The rules below are tried in order and the first match wins, so literals that look
// like identifiers or numbers (GUIDs, dates, enum members, keywords) come first.
var (
	filterTokenizer = newFilterTokenizer()
	filterGrammar   = newFilterGrammar()
)

func newFilterTokenizer() *godata.Tokenizer {
	t := &godata.Tokenizer{}
	t.Add(`^[[:xdigit:]]{8}-[[:xdigit:]]{4}-[[:xdigit:]]{4}-[[:xdigit:]]{4}-[[:xdigit:]]{12}\b`, godata.ExpressionTokenGuid)
	t.Add(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?\b`, godata.ExpressionTokenDateTime)
	t.Add(`^[0-9]{4}-[0-9]{2}-[0-9]{2}\b`, godata.ExpressionTokenDate)
	t.Add(`^\(`, godata.ExpressionTokenOpenParen)
	t.Add(`^\)`, godata.ExpressionTokenCloseParen)
	// '/' before any( or all( separates a collection from its lambda.
	t.Add(`^(?P<token>/)(?i:any|all)\s*\(`, godata.ExpressionTokenLambdaNav)
	t.Add(`^/`, godata.ExpressionTokenNav)
	// godata's parser knows only ',' as an argument separator; the lambda's ':' is one.
	t.AddWithSubstituteFunc(`^:`, godata.ExpressionTokenColon, func(string) string { return "," })
	t.Add(`^,`, godata.ExpressionTokenComma)
	// A name is a function only when an opening parenthesis follows; otherwise it is a
	// property. Rules marked (?i) lower-case the token, so AND reads as and.
	t.Add(`(?i)^(?P<token>any|all)\s*\(`, godata.ExpressionTokenLambda)
	t.Add(`(?i)^(?P<token>contains|startswith|endswith)\s*\(`, godata.ExpressionTokenFunc)
	t.Add(`(?i)^(?P<token>eq|ne|gt|ge|lt|le|and|or|not|in)\b`, godata.ExpressionTokenLogical)
	t.Add(`(?i)^null\b`, godata.ExpressionTokenNull)
	t.Add(`(?i)^(true|false)\b`, godata.ExpressionTokenBoolean)
	t.Add(`^-?[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?\b`, godata.ExpressionTokenFloat)
	t.Add(`^-?[0-9]+([eE][+-]?[0-9]+)?\b`, godata.ExpressionTokenInteger)
	// Strings keep their quotes until compile, because the parser recognises
	// parentheses and commas by token text: the string '(' must not read as one.
	t.Add(`^'(''|[^'])*'`, godata.ExpressionTokenString)
	// An enum member with its type, microsoft.graph.importance'high', is a string.
	t.Add(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+'(''|[^'])*'`, godata.ExpressionTokenString)
	t.Add(`^[A-Za-z_][A-Za-z0-9_]*`, godata.ExpressionTokenLiteral)
	t.Ignore(`^\s+`, godata.ExpressionTokenWhitespace)
	return t
}

func newFilterGrammar() *godata.Parser {
	p := godata.EmptyParser().WithLiteralToken(godata.ExpressionTokenLiteral)
	// Precedences follow the OData ABNF, as godata's own table does.
	p.DefineOperator("/", 2, godata.OpAssociationLeft, 8)
	p.DefineOperator("in", 2, godata.OpAssociationLeft, 8).WithListExprPreference(true)
	p.DefineOperator("not", 1, godata.OpAssociationRight, 7)
	for _, op := range []string{"gt", "ge", "lt", "le"} {
		p.DefineOperator(op, 2, godata.OpAssociationLeft, 4)
	}
	p.DefineOperator("eq", 2, godata.OpAssociationLeft, 3)
	p.DefineOperator("ne", 2, godata.OpAssociationLeft, 3)
	p.DefineOperator("and", 2, godata.OpAssociationLeft, 2)
	p.DefineOperator("or", 2, godata.OpAssociationLeft, 1)
	// Functions accept any small number of arguments here so that compile, not
	// godata, reports a wrong count, in our wording.
	for _, fn := range []string{"contains", "startswith", "endswith", "any", "all"} {
		p.DefineFunction(fn, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, true)
	}
	return p
}

// ParseFilter compiles a $filter expression. The error, always an *Error, has a
// message meant for the client, such as
// "Invalid filter clause: unexpected 'eqq' after 'isRead'".
func ParseFilter(s string) (*Filter, error) {
	if strings.TrimSpace(s) == "" {
		return nil, filterError("the filter is empty")
	}
	if len(s) > maxFilterLen {
		return nil, filterError("the filter is longer than %d characters", maxFilterLen)
	}
	ctx := context.Background()
	tokens, err := filterTokenizer.Tokenize(ctx, s)
	if err != nil {
		return nil, explain(s, tokens, err)
	}
	if err := checkEmptyParens(tokens); err != nil {
		return nil, err
	}
	postfix, err := filterGrammar.InfixToPostfix(ctx, tokens)
	if err != nil {
		return nil, explain(s, tokens, err)
	}
	tree, err := filterGrammar.PostfixToTree(ctx, postfix)
	if err != nil {
		return nil, explain(s, tokens, err)
	}
	if tree == nil || tree.Token == nil {
		return nil, filterError("syntax error")
	}
	var c compiler
	root, err := c.cond(tree, 0)
	if err != nil {
		return nil, err
	}
	return &Filter{text: s, root: root, props: c.props, vars: c.maxVars}, nil
}

func filterError(format string, args ...any) *Error {
	return optionError("$filter", "Invalid filter clause: ", format, args...)
}

// checkEmptyParens rejects "()" anywhere but after a function or in "x in ()":
// godata's parser drops an empty parenthesis pair without a trace, which would let
// "isRead eq true ()" through.
func checkEmptyParens(tokens []*godata.Token) error {
	for i := 1; i < len(tokens); i++ {
		if tokens[i].Type != godata.ExpressionTokenCloseParen || tokens[i-1].Type != godata.ExpressionTokenOpenParen {
			continue
		}
		if i >= 2 {
			switch prev := tokens[i-2]; prev.Type {
			case godata.ExpressionTokenFunc, godata.ExpressionTokenLambda, godata.ExpressionTokenLiteral:
				continue
			case godata.ExpressionTokenLogical:
				if prev.Value == "in" {
					continue
				}
			}
		}
		return filterError("unexpected '()'")
	}
	return nil
}

// explain rewords godata's errors, which are written for Go programmers, into
// messages for the client. Unknown errors become a plain "syntax error".
func explain(s string, tokens []*godata.Token, err error) *Error {
	msg := err.Error()
	e := filterError("syntax error")
	switch {
	case strings.HasPrefix(msg, "Token '") && strings.HasSuffix(msg, "' is invalid"):
		rest := strings.TrimSuffix(strings.TrimPrefix(msg, "Token '"), "' is invalid")
		pos := len(s) - len(rest)
		if rest != "" && rest[0] == '\'' {
			e = filterError("unterminated string literal at position %d", pos)
		} else {
			e = filterError("unexpected '%s' at position %d", firstWord(rest), pos)
		}
	case strings.Contains(strings.ToLower(msg), "mismatched parenthesis"):
		e = filterError("unbalanced parentheses")
	case strings.HasPrefix(msg, "invalid token sequence: "):
		seq := strings.TrimPrefix(msg, "invalid token sequence: ")
		e = filterError("unexpected '%s'", seq)
		for i := 1; i < len(tokens); i++ {
			if tokens[i-1].Value+" "+tokens[i].Value == seq {
				e = filterError("unexpected '%s' after '%s'", tokens[i].Value, tokens[i-1].Value)
				break
			}
		}
	case strings.HasPrefix(msg, "insufficient number of operands for operator "):
		e = filterError("operator %s is missing an operand", strings.TrimPrefix(msg, "insufficient number of operands for operator "))
	case strings.HasPrefix(msg, "Function ") && strings.HasSuffix(msg, "must be followed by '('"):
		e = filterError("function %s", strings.TrimPrefix(msg, "Function "))
	case msg == "Parse error":
		e = filterError("unexpected ',' outside a function's arguments")
	}
	e.Err = err
	return e
}

// firstWord returns s up to its first space, shortened for an error message.
func firstWord(s string) string {
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		s = s[:i]
	}
	if r := []rune(s); len(r) > 20 {
		s = string(r[:20]) + "…"
	}
	return s
}

// compiler turns godata's parse tree into cond and operand values, checking on the
// way everything the parser lets through: operand counts, what may be compared, which
// names are functions, which are range variables.
type compiler struct {
	props   []string
	vars    []rangeVar // the lambdas enclosing the node being compiled, outermost first
	maxVars int
}

type rangeVar struct {
	name string
	coll string // the collection's path from the document root, for Properties
}

var compareOps = map[string]compareOp{
	"eq": opEq, "ne": opNe, "gt": opGt, "ge": opGe, "lt": opLt, "le": opLe,
}

var stringFuncs = map[string]func(s, t string) bool{
	"contains":   containsFold,
	"startswith": hasPrefixFold,
	"endswith":   hasSuffixFold,
}

func (c *compiler) cond(n *godata.ParseNode, depth int) (cond, error) {
	if depth > maxDepth {
		return nil, filterError("the filter is nested more than %d levels deep", maxDepth)
	}
	tok := n.Token
	switch tok.Type {
	case godata.ExpressionTokenLogical:
		switch tok.Value {
		case "and", "or":
			if len(n.Children) != 2 {
				return nil, filterError("operator '%s' is missing an operand", tok.Value)
			}
			left, err := c.cond(n.Children[0], depth+1)
			if err != nil {
				return nil, err
			}
			right, err := c.cond(n.Children[1], depth+1)
			if err != nil {
				return nil, err
			}
			if tok.Value == "and" {
				return andCond{left, right}, nil
			}
			return orCond{left, right}, nil
		case "not":
			if len(n.Children) != 1 {
				return nil, filterError("operator 'not' is missing an operand")
			}
			inner, err := c.cond(n.Children[0], depth+1)
			if err != nil {
				return nil, err
			}
			return notCond{inner}, nil
		case "in":
			return c.in(n, depth)
		}
		op, ok := compareOps[tok.Value]
		if !ok || len(n.Children) != 2 {
			break
		}
		left, right, err := c.operands(n, depth)
		if err != nil {
			return nil, err
		}
		return compareCond{op: op, left: left, right: right}, nil
	case godata.ExpressionTokenFunc:
		if len(n.Children) != 2 {
			return nil, filterError("function '%s' takes 2 arguments, not %d", tok.Value, len(n.Children))
		}
		left, right, err := c.operands(n, depth)
		if err != nil {
			return nil, err
		}
		return stringFunc{name: tok.Value, test: stringFuncs[tok.Value], left: left, right: right}, nil
	case godata.ExpressionTokenLambda:
		return nil, filterError("'%s' must follow a collection property, as in tags/%[1]s(t: t eq 'x')", tok.Value)
	case godata.ExpressionTokenLambdaNav:
		return c.lambda(n, depth)
	case godata.ExpressionTokenBoolean:
		return constCond(tok.Value == "true"), nil
	case godata.ExpressionTokenLiteral, godata.ExpressionTokenNav:
		p, _, err := c.path(n)
		if err != nil {
			return nil, err
		}
		return truthCond{p}, nil
	}
	return nil, filterError("%s is not a boolean expression", quoted(n))
}

// operands compiles the two children of a comparison or function call.
func (c *compiler) operands(n *godata.ParseNode, depth int) (operand, operand, error) {
	left, err := c.operand(n.Children[0], depth+1)
	if err != nil {
		return nil, nil, err
	}
	right, err := c.operand(n.Children[1], depth+1)
	if err != nil {
		return nil, nil, err
	}
	return left, right, nil
}

func (c *compiler) operand(n *godata.ParseNode, depth int) (operand, error) {
	switch n.Token.Type {
	case godata.ExpressionTokenLiteral, godata.ExpressionTokenNav:
		p, _, err := c.path(n)
		if err != nil {
			return nil, err
		}
		return p, nil
	case godata.TokenTypeListExpr:
		return nil, filterError("a list of values may only follow 'in'")
	case godata.ExpressionTokenLogical, godata.ExpressionTokenFunc, godata.ExpressionTokenLambda, godata.ExpressionTokenLambdaNav:
		return nil, filterError("%s cannot be compared: only properties and literal values can", quoted(n))
	}
	v, err := literalValue(n)
	if err != nil {
		return nil, err
	}
	return literal{v}, nil
}

// in compiles "x in (v1, v2, ...)"; the list may hold only literal values.
func (c *compiler) in(n *godata.ParseNode, depth int) (cond, error) {
	if len(n.Children) != 2 {
		return nil, filterError("operator 'in' is missing an operand")
	}
	left, err := c.operand(n.Children[0], depth+1)
	if err != nil {
		return nil, err
	}
	list := n.Children[1]
	if list.Token.Type != godata.TokenTypeListExpr {
		return nil, filterError("'in' must be followed by a list of values in parentheses")
	}
	if len(list.Children) == 0 {
		return nil, filterError("the list after 'in' is empty")
	}
	set := make([]value, 0, len(list.Children))
	for _, item := range list.Children {
		v, err := literalValue(item)
		if err != nil {
			return nil, err
		}
		set = append(set, v)
	}
	return inCond{left: left, set: set}, nil
}

// lambda compiles coll/any(), coll/any(x: cond) and coll/all(x: cond).
func (c *compiler) lambda(n *godata.ParseNode, depth int) (cond, error) {
	if len(n.Children) != 2 {
		return nil, filterError("syntax error")
	}
	coll, collPath, err := c.path(n.Children[0])
	if err != nil {
		return nil, err
	}
	fn := n.Children[1]
	all := fn.Token.Value == "all"
	switch len(fn.Children) {
	case 0:
		if all {
			return nil, filterError("'all' needs a range variable and a condition, as in tags/all(t: t ne 'x')")
		}
		return lambdaCond{coll: coll}, nil
	case 2:
	default:
		return nil, filterError("'%s' takes a range variable and a condition, as in tags/%[1]s(t: t eq 'x')", fn.Token.Value)
	}
	if len(c.vars) >= maxLambdaDepth {
		return nil, filterError("any and all may be nested at most %d deep", maxLambdaDepth)
	}
	v := fn.Children[0]
	if v.Token.Type != godata.ExpressionTokenLiteral || len(v.Children) > 0 {
		return nil, filterError("%s is not a valid range variable name", quoted(v))
	}
	c.vars = append(c.vars, rangeVar{name: v.Token.Value, coll: collPath})
	c.maxVars = max(c.maxVars, len(c.vars))
	pred, err := c.cond(fn.Children[1], depth+1)
	c.vars = c.vars[:len(c.vars)-1]
	if err != nil {
		return nil, err
	}
	return lambdaCond{coll: coll, all: all, pred: pred}, nil
}

// path compiles a property path and records it for Properties. It returns the path
// spelled from the document root as well.
func (c *compiler) path(n *godata.ParseNode) (*path, string, error) {
	segs, err := pathSegments(n, nil)
	if err != nil {
		return nil, "", err
	}
	p := &path{scope: -1, segs: segs}
	full := strings.Join(segs, "/")
	// Range variables, like property names, are matched ignoring case; the innermost
	// one wins.
	for i := len(c.vars) - 1; i >= 0; i-- {
		if strings.EqualFold(c.vars[i].name, segs[0]) {
			p.scope, p.segs = i, segs[1:]
			full = strings.Join(append([]string{c.vars[i].coll}, p.segs...), "/")
			break
		}
	}
	c.addProp(full)
	return p, full, nil
}

func (c *compiler) addProp(full string) {
	for _, p := range c.props {
		if strings.EqualFold(p, full) {
			return
		}
	}
	c.props = append(c.props, full)
}

// pathSegments flattens the left-leaning tree godata builds for a/b/c.
func pathSegments(n *godata.ParseNode, segs []string) ([]string, error) {
	switch n.Token.Type {
	case godata.ExpressionTokenLiteral:
		if len(n.Children) > 0 {
			// godata reads name(...) as a call of a function it does not know.
			return nil, filterError("unknown function '%s'", n.Token.Value)
		}
		return append(segs, n.Token.Value), nil
	case godata.ExpressionTokenNav:
		if len(n.Children) != 2 {
			return nil, filterError("syntax error")
		}
		segs, err := pathSegments(n.Children[0], segs)
		if err != nil {
			return nil, err
		}
		last := n.Children[1]
		if last.Token.Type != godata.ExpressionTokenLiteral || len(last.Children) > 0 {
			return nil, filterError("%s is not a property name", quoted(last))
		}
		return append(segs, last.Token.Value), nil
	}
	return nil, filterError("%s is not a property", quoted(n))
}

// literalValue compiles a literal token into the value it stands for.
func literalValue(n *godata.ParseNode) (value, error) {
	tok := n.Token
	switch tok.Type {
	case godata.ExpressionTokenString:
		// Drop an enum member's type prefix, then the quotes; '' stands for '.
		s := tok.Value[strings.IndexByte(tok.Value, '\'')+1 : len(tok.Value)-1]
		return value{kind: kindString, s: strings.ReplaceAll(s, "''", "'")}, nil
	case godata.ExpressionTokenGuid:
		return value{kind: kindString, s: tok.Value}, nil
	case godata.ExpressionTokenInteger, godata.ExpressionTokenFloat:
		f, err := strconv.ParseFloat(tok.Value, 64)
		if err != nil {
			return value{}, filterError("number %s is out of range", tok.Value)
		}
		return value{kind: kindNumber, n: f}, nil
	case godata.ExpressionTokenBoolean:
		return value{kind: kindBool, b: tok.Value == "true"}, nil
	case godata.ExpressionTokenNull:
		return value{}, nil
	case godata.ExpressionTokenDateTime, godata.ExpressionTokenDate:
		t, ok := parseTime(tok.Value)
		if !ok {
			return value{}, filterError("'%s' is not a valid date or time", tok.Value)
		}
		return value{kind: kindTime, t: t}, nil
	}
	return value{}, filterError("%s is not a literal value", quoted(n))
}

// describe names a parse node in an error message.
func describe(n *godata.ParseNode) string {
	switch {
	case n.Token.Type == godata.TokenTypeListExpr:
		return "(...)"
	case n.Token.Type == godata.ExpressionTokenNav || n.Token.Type == godata.ExpressionTokenLambdaNav:
		if len(n.Children) == 2 {
			return describe(n.Children[0]) + "/" + describe(n.Children[1])
		}
	case n.Token.Type == godata.ExpressionTokenLogical && len(n.Children) == 2:
		return describe(n.Children[0]) + " " + n.Token.Value + " " + describe(n.Children[1])
	case n.Token.Type == godata.ExpressionTokenLogical && len(n.Children) == 1:
		return n.Token.Value + " " + describe(n.Children[0])
	case len(n.Children) > 0:
		return n.Token.Value + "(...)"
	}
	return n.Token.Value
}

// quoted is describe in single quotes, unless it is a string literal that has its own.
func quoted(n *godata.ParseNode) string {
	d := describe(n)
	if n.Token.Type == godata.ExpressionTokenString {
		return d
	}
	return "'" + d + "'"
}
