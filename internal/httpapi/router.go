package httpapi

import (
	"net/url"
	"sort"
	"strings"
)

// Router matches Graph-style paths. Literal segments match case-insensitively (Graph
// accepts mailFolders and MailFolders alike); {name} captures one segment; a pattern
// segment {name}: captures a segment that ends in ':' (item-path syntax,
// items/{id}:/a/b.txt:/content). Literals win over captures at each level.
//
// Paths are split by SplitPath first, so key syntax (users('id')) and colon paths
// (root:/a/b.txt:) arrive as plain segments.
type Router struct {
	root *node
}

type node struct {
	literal map[string]*node // lower-case literal → child
	param   *node
	colon   *node             // {name}: segment
	routes  map[string]*Route // by method
}

// Route is one registered handler.
type Route struct {
	Method  string
	Pattern string
	Handler HandlerFunc
	Options RouteOptions
	names   []string
}

// RouteOptions tune one route.
type RouteOptions struct {
	// MaxBody caps the request body in bytes (default: the server's MaxBody).
	MaxBody int64
	// RawBody accepts any content type (file uploads); JSON routes refuse anything but
	// application/json with 415.
	RawBody bool
	// NoAuth serves the route without a bearer token.
	NoAuth bool
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{root: &node{}} }

// Handle registers h for method and pattern (segments separated by '/', no leading
// slash needed). It panics on a duplicate, which is a programming error.
func (r *Router) Handle(method, pattern string, h HandlerFunc, opts ...RouteOptions) {
	n := r.root
	var names []string
	for _, seg := range strings.Split(strings.Trim(pattern, "/"), "/") {
		switch {
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}:"):
			names = append(names, seg[1:len(seg)-2])
			if n.colon == nil {
				n.colon = &node{}
			}
			n = n.colon
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			names = append(names, seg[1:len(seg)-1])
			if n.param == nil {
				n.param = &node{}
			}
			n = n.param
		default:
			if n.literal == nil {
				n.literal = map[string]*node{}
			}
			key := strings.ToLower(seg)
			if n.literal[key] == nil {
				n.literal[key] = &node{}
			}
			n = n.literal[key]
		}
	}
	if n.routes == nil {
		n.routes = map[string]*Route{}
	}
	if _, dup := n.routes[method]; dup {
		panic("httpapi: duplicate route " + method + " " + pattern)
	}
	rt := &Route{Method: method, Pattern: pattern, Handler: h, names: names}
	if len(opts) > 0 {
		rt.Options = opts[0]
	}
	n.routes[method] = rt
}

// match finds the node for segs. It returns the node, the captured values, and the
// index of the first segment that matched nothing (-1 when the whole path matched).
func (r *Router) match(segs []string) (*node, []string, int) {
	var vals []string
	deepest := 0
	var walk func(n *node, i int) *node
	walk = func(n *node, i int) *node {
		if i > deepest {
			deepest = i
		}
		if i == len(segs) {
			if n.routes != nil {
				return n
			}
			return nil
		}
		seg := segs[i]
		if c := n.literal[strings.ToLower(seg)]; c != nil {
			if found := walk(c, i+1); found != nil {
				return found
			}
		}
		if n.colon != nil && strings.HasSuffix(seg, ":") && len(seg) > 1 {
			vals = append(vals, seg[:len(seg)-1])
			if found := walk(n.colon, i+1); found != nil {
				return found
			}
			vals = vals[:len(vals)-1]
		}
		if n.param != nil && seg != "" {
			vals = append(vals, seg)
			if found := walk(n.param, i+1); found != nil {
				return found
			}
			vals = vals[:len(vals)-1]
		}
		return nil
	}
	if n := walk(r.root, 0); n != nil {
		return n, vals, -1
	}
	return nil, nil, deepest
}

// methods lists the methods a node serves, sorted (for the Allow header).
func (n *node) methods() []string {
	var out []string
	for m := range n.routes {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// SplitPath turns a Graph path (after the version segment) into segments:
//   - key syntax: users('a b') → users, a b; messages('AAM=') → messages, AAM=;
//     mailFolders('inbox') → mailFolders, inbox; a bare key without quotes too;
//   - colon paths: root:/a/b.txt:/content → root:, a/b.txt, content, and
//     items/{id}:/new.txt:/content → items, {id}:, new.txt, content;
//   - percent-encoding is decoded per segment.
func SplitPath(p string) ([]string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil, nil
	}
	raw := strings.Split(p, "/")
	var out []string
	for i := 0; i < len(raw); i++ {
		seg, err := url.PathUnescape(raw[i])
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(seg, ":") && i+1 < len(raw) {
			// A colon path runs until a segment ending in ':' or the end.
			out = append(out, seg)
			var parts []string
			j := i + 1
			for ; j < len(raw); j++ {
				part, err := url.PathUnescape(raw[j])
				if err != nil {
					return nil, err
				}
				if strings.HasSuffix(part, ":") {
					parts = append(parts, strings.TrimSuffix(part, ":"))
					break
				}
				parts = append(parts, part)
			}
			out = append(out, strings.Join(parts, "/"))
			i = j
			continue
		}
		if open := strings.IndexByte(seg, '('); open > 0 && strings.HasSuffix(seg, ")") {
			name, key := seg[:open], seg[open+1:len(seg)-1]
			if k, ok := unquoteKey(key); ok {
				out = append(out, name)
				if k != "" {
					out = append(out, k)
				}
				continue
			}
		}
		out = append(out, seg)
	}
	return out, nil
}

// unquoteKey reads a key literal: 'text' (with ” for a quote), a bare token, or
// id='text'.
func unquoteKey(k string) (string, bool) {
	if _, v, ok := strings.Cut(k, "="); ok && !strings.HasPrefix(k, "'") {
		k = v
	}
	if len(k) >= 2 && k[0] == '\'' && k[len(k)-1] == '\'' {
		return strings.ReplaceAll(k[1:len(k)-1], "''", "'"), true
	}
	if strings.ContainsAny(k, "'(),") {
		return "", false
	}
	return k, true
}
