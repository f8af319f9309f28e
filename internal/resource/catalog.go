package resource

import (
	"errors"
	"fmt"
	"strings"
)

// Catalog is a set of descriptors, checked and indexed for lookups.
type Catalog struct {
	byType map[string]*Descriptor
	paths  []compiled
	all    []*Descriptor
}

type compiled struct {
	segs []string // lower-case literals, "" for a capture
	desc *Descriptor
	path *Path
}

// NewCatalog checks ds (unique non-empty types, well-formed paths, a resolve
// function per path) and indexes them. Paths are tried in the order given.
func NewCatalog(ds []Descriptor) (*Catalog, error) {
	c := &Catalog{byType: map[string]*Descriptor{}}
	var errs []error
	for i := range ds {
		d := &ds[i]
		if d.Type == "" {
			errs = append(errs, fmt.Errorf("resource: descriptor %d has no type", i))
			continue
		}
		if _, dup := c.byType[d.Type]; dup {
			errs = append(errs, fmt.Errorf("resource: type %q is described twice", d.Type))
			continue
		}
		c.byType[d.Type] = d
		c.all = append(c.all, d)
		for j := range d.Paths {
			p := &d.Paths[j]
			if p.Pattern == "" || p.Resolve == nil {
				errs = append(errs, fmt.Errorf("resource: %s path %d needs a pattern and a resolve function", d.Type, j))
				continue
			}
			var segs []string
			for s := range strings.SplitSeq(p.Pattern, "/") {
				if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
					s = ""
				} else if s == "" {
					errs = append(errs, fmt.Errorf("resource: %s path %q has an empty segment", d.Type, p.Pattern))
				}
				segs = append(segs, strings.ToLower(s))
			}
			c.paths = append(c.paths, compiled{segs: segs, desc: d, path: p})
		}
	}
	return c, errors.Join(errs...)
}

// Lookup returns the descriptor of a resource type, nil when the catalog has none.
func (c *Catalog) Lookup(typ string) *Descriptor {
	if c == nil {
		return nil
	}
	return c.byType[typ]
}

// Descriptors returns the descriptors in the order given.
func (c *Catalog) Descriptors() []*Descriptor { return c.all }

// Match finds the path segs name and returns it with its descriptor and the
// captured ids; nil when no path matches.
func (c *Catalog) Match(segs []string) (*Descriptor, *Path, []string) {
	for _, cp := range c.paths {
		if len(cp.segs) != len(segs) {
			continue
		}
		var ids []string
		ok := true
		for i, s := range cp.segs {
			if s == "" {
				if segs[i] == "" {
					ok = false
					break
				}
				ids = append(ids, segs[i])
			} else if !strings.EqualFold(s, segs[i]) {
				ok = false
				break
			}
		}
		if ok {
			return cp.desc, cp.path, ids
		}
	}
	return nil, nil, nil
}
