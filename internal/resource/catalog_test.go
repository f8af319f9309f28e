package resource_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/testserver"
)

func resolveNothing(*resource.Resolver, []string) (resource.Target, error) {
	return resource.Target{}, nil
}

func TestNewCatalogRefusesBadDescriptors(t *testing.T) {
	tests := []struct {
		name string
		ds   []resource.Descriptor
		want string
	}{
		{"no type", []resource.Descriptor{{}}, "has no type"},
		{"twice", []resource.Descriptor{{Type: "a"}, {Type: "a"}}, `type "a" is described twice`},
		{"no resolve", []resource.Descriptor{{Type: "a", Paths: []resource.Path{{Pattern: "as"}}}}, "needs a pattern and a resolve function"},
		{"empty segment", []resource.Descriptor{{Type: "a", Paths: []resource.Path{{Pattern: "as//x", Resolve: resolveNothing}}}}, "has an empty segment"},
	}
	for _, tt := range tests {
		if _, err := resource.NewCatalog(tt.ds); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewCatalog(%s) = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestCatalogMatch(t *testing.T) {
	c, err := resource.NewCatalog(testserver.Resources())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, typ, pattern string
		ids                []string
	}{
		{"users", "user", "users", nil},
		{"Users/u1/MailFolders/inbox/messages", "message", "users/{user}/mailFolders/{folder}/messages", []string{"u1", "inbox"}},
		{"teams/getAllMessages", "chatMessage", "teams/getAllMessages", nil},
		{"drives/d1/items/root", "driveItem", "drives/{drive}/items/{item}", []string{"d1", "root"}},
		{"users/u1/calendar", "", "", nil},
	}
	for _, tt := range tests {
		d, p, ids := c.Match(strings.Split(tt.path, "/"))
		if tt.typ == "" {
			if p != nil {
				t.Errorf("Match(%s) = %s, want no match", tt.path, p.Pattern)
			}
			continue
		}
		if d == nil || d.Type != tt.typ || p.Pattern != tt.pattern || !slices.Equal(ids, tt.ids) {
			t.Errorf("Match(%s) = %v %v %v, want %s %s %v", tt.path, d, p, ids, tt.typ, tt.pattern, tt.ids)
		}
	}
}

func TestPathMe(t *testing.T) {
	for pattern, want := range map[string]string{
		"users/{user}/messages":             "me/messages",
		"users/{user}":                      "me",
		"users":                             "",
		"chats/{chat}/messages":             "",
		"users/{user}/chats/getAllMessages": "me/chats/getAllMessages",
	} {
		p := resource.Path{Pattern: pattern}
		if got := p.Me(); got != want {
			t.Errorf("Path{%s}.Me() = %q, want %q", pattern, got, want)
		}
	}
}

// TestWorkloadDescriptors checks what every workload's descriptors promise: sample
// changes of allowed change types, each path variant a permission row, and every
// lifetime at least the 45-minute floor.
func TestWorkloadDescriptors(t *testing.T) {
	c, err := resource.NewCatalog(testserver.Resources())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range c.Descriptors() {
		if len(d.Samples) == 0 {
			t.Errorf("%s: no sample change", d.Type)
		}
		for _, s := range d.Samples {
			if !slices.Contains(d.ChangeTypes, s.ChangeType) {
				t.Errorf("%s: sample of change type %q, which the resource does not allow", d.Type, s.ChangeType)
			}
			if len(s.Requests) == 0 || (!s.Admin && s.Permission == "") {
				t.Errorf("%s: sample %+v lacks requests or a permission", d.Type, s)
			}
			for _, r := range s.Requests {
				if r.Method == "" || r.Path == "" {
					t.Errorf("%s: sample request %+v lacks a method or path", d.Type, r)
				}
			}
		}
		for _, p := range d.Paths {
			if !slices.ContainsFunc(d.Permissions, func(r resource.Permission) bool { return r.Variant == p.Variant }) {
				t.Errorf("%s: path %s has no permission row for variant %q", d.Type, p.Pattern, p.Variant)
			}
		}
		if d.MaxLifetime < 45*time.Minute || d.Workload == "" {
			t.Errorf("%s: MaxLifetime %v, Workload %q; want at least 45 minutes and a name", d.Type, d.MaxLifetime, d.Workload)
		}
	}
}
