package identity

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/graphhook/graphhook/internal/nearest"
)

// permissionsTSV is Microsoft Graph's published permission catalog: one name a line
// with the permission types it exists for. Kept as data so that it can be regenerated
// from the reference instead of edited by hand.
//
//go:embed permissions.tsv
var permissionsTSV []byte

// Permission is one Microsoft Graph permission name and the permission types it
// exists for: a delegated permission is a scope ("scp"), an application permission a
// role ("roles").
type Permission struct {
	Name              string // canonical casing, as Entra writes it in tokens
	DelegatedWork     bool
	DelegatedPersonal bool
	Application       bool
	ScopeID           string // delegated permission id, where published
	RoleID            string // application permission id, where published
}

// Delegated reports whether the permission exists as a delegated permission.
func (p Permission) Delegated() bool { return p.DelegatedWork || p.DelegatedPersonal }

// unlistedPermissions are names Graph enforces that its published permission
// reference leaves out; graphhook's subscription API needs them.
var unlistedPermissions = []Permission{
	{Name: "Subscription.Read.All", DelegatedWork: true},
}

// Catalog is the set of Microsoft Graph permission names.
type Catalog struct {
	byLower map[string]Permission
	names   []string
}

// Permissions returns the Graph permission catalog. It is parsed once, on first use,
// and never changes after.
var Permissions = sync.OnceValue(func() *Catalog {
	c, err := parseCatalog(permissionsTSV)
	if err != nil {
		panic("identity: built-in permission catalog is invalid: " + err.Error())
	}
	return c
})

func parseCatalog(data []byte) (*Catalog, error) {
	c := &Catalog{byLower: map[string]Permission{}}
	add := func(p Permission) {
		c.byLower[strings.ToLower(p.Name)] = p
		c.names = append(c.names, p.Name)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	header := true
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if header {
			header = false
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("permissions.tsv:%d: %d columns, want 6", line, len(f))
		}
		add(Permission{Name: f[0], DelegatedWork: f[1] == "yes", DelegatedPersonal: f[2] == "yes", Application: f[3] == "yes", ScopeID: f[4], RoleID: f[5]})
	}
	for _, p := range unlistedPermissions {
		if _, ok := c.byLower[strings.ToLower(p.Name)]; !ok {
			add(p)
		}
	}
	return c, sc.Err()
}

// Lookup finds a permission by name, ignoring case as Entra does.
func (c *Catalog) Lookup(name string) (Permission, bool) {
	p, ok := c.byLower[strings.ToLower(name)]
	return p, ok
}

// Len is the number of names in the catalog.
func (c *Catalog) Len() int { return len(c.names) }

// CheckDelegated returns the canonical name of a delegated permission, or an error
// that says what is wrong and suggests a name.
func (c *Catalog) CheckDelegated(name string) (string, error) {
	return c.check(name, "delegated", Permission.Delegated)
}

// CheckApplication returns the canonical name of an application permission, or an
// error that says what is wrong and suggests a name.
func (c *Catalog) CheckApplication(name string) (string, error) {
	return c.check(name, "application", func(p Permission) bool { return p.Application })
}

func (c *Catalog) check(name, kind string, exists func(Permission) bool) (string, error) {
	if p, ok := c.Lookup(name); ok {
		if exists(p) {
			return p.Name, nil
		}
		other := "application"
		if kind == "application" {
			other = "delegated"
		}
		return "", fmt.Errorf("permission %q exists only as %s permission, not as %s permission", p.Name, article(other), article(kind))
	}
	best, bestDist := "", -1
	for _, n := range c.names {
		p := c.byLower[strings.ToLower(n)]
		if !exists(p) {
			continue
		}
		if d := nearest.Distance(strings.ToLower(name), strings.ToLower(n)); bestDist < 0 || d < bestDist {
			best, bestDist = n, d
		}
	}
	if best != "" && bestDist <= max(3, len(name)/3) {
		return "", fmt.Errorf("unknown Graph permission %q (did you mean %q?)", name, best)
	}
	return "", fmt.Errorf("unknown Graph permission %q", name)
}

func article(kind string) string {
	if kind == "application" {
		return "an application"
	}
	return "a delegated"
}
