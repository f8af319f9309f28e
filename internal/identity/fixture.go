package identity

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Fixture is the tenant fixture: tenants with their apps, users and groups, and
// personal Microsoft accounts. It is applied idempotently at start (see Apply).
type Fixture struct {
	Tenants          []FixtureTenant `yaml:"tenants"`
	PersonalAccounts []FixtureUser   `yaml:"personalAccounts"`
}

// FixtureTenant is one work or school tenant.
type FixtureTenant struct {
	ID          string         `yaml:"id"`
	Domain      string         `yaml:"domain"`
	DisplayName string         `yaml:"displayName"`
	Apps        []FixtureApp   `yaml:"apps"`
	Users       []FixtureUser  `yaml:"users"`
	Groups      []FixtureGroup `yaml:"groups"`
	// ConsentedApps are client ids of other tenants' (multi-tenant) apps this
	// tenant's administrator consented to: their users may sign in to them, and the
	// apps may get application tokens for this tenant. Default none.
	ConsentedApps []string `yaml:"consentedApps"`
}

// FixtureApp is an app registration with its granted permissions.
type FixtureApp struct {
	ClientID               string   `yaml:"clientId"`
	ClientSecret           string   `yaml:"clientSecret"`
	DisplayName            string   `yaml:"displayName"`
	ApplicationPermissions []string `yaml:"applicationPermissions"`
	DelegatedPermissions   []string `yaml:"delegatedPermissions"`
	// PublicClient marks an app that cannot keep a secret (a CLI, a desktop or
	// single-page app): it signs users in without a client secret, through the device
	// code, authorization code (with PKCE) or password grant. Default false, and then
	// clientSecret is required.
	PublicClient bool `yaml:"publicClient"`
	// RedirectURIs are where the authorization endpoint may send a code back. Public
	// clients may also use any port of http://localhost, as Entra allows.
	RedirectURIs []string `yaml:"redirectUris"`
}

// FixtureUser is a work or school user, or a personal account.
type FixtureUser struct {
	ID                string   `yaml:"id"`
	UserPrincipalName string   `yaml:"userPrincipalName"`
	Password          string   `yaml:"password"`
	DisplayName       string   `yaml:"displayName"`
	Mail              string   `yaml:"mail"`
	GivenName         string   `yaml:"givenName"`
	Surname           string   `yaml:"surname"`
	JobTitle          string   `yaml:"jobTitle"`
	Department        string   `yaml:"department"`
	OfficeLocation    string   `yaml:"officeLocation"`
	MobilePhone       string   `yaml:"mobilePhone"`
	BusinessPhones    []string `yaml:"businessPhones"`
	AccountEnabled    *bool    `yaml:"accountEnabled"`
	// DirectoryRoles are Microsoft Entra roles of a work or school user; graphhook
	// knows "Global Administrator" (it widens what Subscription.Read.All shows).
	DirectoryRoles []string `yaml:"directoryRoles"`
}

// FixtureGroup is a group with its members and owners (user ids).
type FixtureGroup struct {
	ID              string   `yaml:"id"`
	DisplayName     string   `yaml:"displayName"`
	Description     string   `yaml:"description"`
	MailNickname    string   `yaml:"mailNickname"`
	GroupTypes      []string `yaml:"groupTypes"`
	MailEnabled     *bool    `yaml:"mailEnabled"`
	SecurityEnabled *bool    `yaml:"securityEnabled"`
	Visibility      string   `yaml:"visibility"`
	Members         []string `yaml:"members"`
	Owners          []string `yaml:"owners"`
}

// FixtureError names the file, line and key of a mistake in a fixture.
type FixtureError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *FixtureError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID in its 8-4-4-4-12 form.
func IsGUID(s string) bool { return guidRE.MatchString(s) }

// keys allowed at each level of the fixture; anything else is refused, so a typo does
// not silently drop a setting.
var fixtureKeys = map[string][]string{
	"root":   {"tenants", "personalAccounts"},
	"tenant": {"id", "domain", "displayName", "apps", "users", "groups", "consentedApps"},
	"app":    {"clientId", "clientSecret", "displayName", "applicationPermissions", "delegatedPermissions", "publicClient", "redirectUris"},
	"user":   {"id", "userPrincipalName", "password", "displayName", "mail", "givenName", "surname", "jobTitle", "department", "officeLocation", "mobilePhone", "businessPhones", "accountEnabled", "directoryRoles"},
	"group":  {"id", "displayName", "description", "mailNickname", "groupTypes", "mailEnabled", "securityEnabled", "visibility", "members", "owners"},
}

// ParseFixture reads a fixture. name is used in error messages (the file's path).
func ParseFixture(r io.Reader, name string) (*Fixture, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &FixtureError{File: name, Line: 1, Key: "tenants", Msg: "the fixture is empty"}
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := fixtureParser{file: name}
	root := doc.Content[0]
	if err := p.checkMap(root, "root", "(document)"); err != nil {
		return nil, err
	}
	var f Fixture
	if err := root.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := p.validate(root, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

type fixtureParser struct {
	file string
}

func (p *fixtureParser) errAt(n *yaml.Node, key, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &FixtureError{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// checkMap checks that n is a mapping with only the allowed keys of level, and
// recurses into the lists it knows.
func (p *fixtureParser) checkMap(n *yaml.Node, level, where string) error {
	if n.Kind != yaml.MappingNode {
		return p.errAt(n, where, "expected a mapping")
	}
	allowed := fixtureKeys[level]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			return p.errAt(k, k.Value, "unknown key (allowed here: %s)", strings.Join(allowed, ", "))
		}
		child := map[string]string{"tenants": "tenant", "personalAccounts": "user", "apps": "app", "users": "user", "groups": "group"}[k.Value]
		if child == "" {
			continue
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue
		}
		if v.Kind != yaml.SequenceNode {
			return p.errAt(v, k.Value, "expected a list")
		}
		for _, item := range v.Content {
			if err := p.checkMap(item, child, k.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// field returns the value node of key in mapping n (nil if absent).
func field(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func item(n *yaml.Node, key string, i int) *yaml.Node {
	l := field(n, key)
	if l == nil || i >= len(l.Content) {
		return n
	}
	return l.Content[i]
}

func lineOf(n *yaml.Node, key string) *yaml.Node {
	if v := field(n, key); v != nil {
		return v
	}
	return n
}

func (p *fixtureParser) validate(root *yaml.Node, f *Fixture) error {
	ids := map[string]bool{}
	upns := map[string]bool{}
	checkID := func(n *yaml.Node, id string) error {
		if !IsGUID(id) {
			return p.errAt(lineOf(n, "id"), "id", "%q is not a GUID", id)
		}
		if ids[strings.ToLower(id)] {
			return p.errAt(lineOf(n, "id"), "id", "%s is used twice", id)
		}
		ids[strings.ToLower(id)] = true
		return nil
	}
	checkUser := func(n *yaml.Node, u *FixtureUser) error {
		if err := checkID(n, u.ID); err != nil {
			return err
		}
		if !strings.Contains(u.UserPrincipalName, "@") {
			return p.errAt(lineOf(n, "userPrincipalName"), "userPrincipalName", "%q is not a user principal name (name@domain)", u.UserPrincipalName)
		}
		if upns[strings.ToLower(u.UserPrincipalName)] {
			return p.errAt(lineOf(n, "userPrincipalName"), "userPrincipalName", "%s is used twice", u.UserPrincipalName)
		}
		upns[strings.ToLower(u.UserPrincipalName)] = true
		if u.Password == "" {
			return p.errAt(lineOf(n, "password"), "password", "required")
		}
		if u.DisplayName == "" {
			return p.errAt(lineOf(n, "displayName"), "displayName", "required")
		}
		for i, r := range u.DirectoryRoles {
			if _, ok := roleTemplateIDs[r]; !ok {
				return p.errAt(item(n, "directoryRoles", i), "directoryRoles", "unknown directory role %q (graphhook knows: Global Administrator)", r)
			}
		}
		return nil
	}
	// checkPerms checks each name against the permission catalog for its type and
	// rewrites it in Entra's casing, the one tokens carry.
	checkPerms := func(n *yaml.Node, key string, perms []string, check func(string) (string, error)) error {
		for i, perm := range perms {
			name, err := check(perm)
			if err != nil {
				return p.errAt(item(n, key, i), key, "%v", err)
			}
			perms[i] = name
		}
		return nil
	}
	catalog := Permissions()
	if len(f.Tenants) == 0 {
		return p.errAt(root, "tenants", "at least one tenant is required")
	}
	tenantsNode := field(root, "tenants")
	for ti := range f.Tenants {
		t := &f.Tenants[ti]
		tn := tenantsNode.Content[ti]
		if err := checkID(tn, t.ID); err != nil {
			return err
		}
		if strings.EqualFold(t.ID, ConsumersTenant) {
			return p.errAt(lineOf(tn, "id"), "id", "%s is the consumers tenant; list personal accounts under personalAccounts", t.ID)
		}
		if t.Domain == "" || !strings.Contains(t.Domain, ".") {
			return p.errAt(lineOf(tn, "domain"), "domain", "%q is not a domain name", t.Domain)
		}
		if t.DisplayName == "" {
			return p.errAt(lineOf(tn, "displayName"), "displayName", "required")
		}
		for ai := range t.Apps {
			a := &t.Apps[ai]
			an := item(tn, "apps", ai)
			if err := checkID(an, a.ClientID); err != nil {
				return p.errAt(lineOf(an, "clientId"), "clientId", "%q is not a GUID used once", a.ClientID)
			}
			if a.ClientSecret == "" && !a.PublicClient {
				return p.errAt(lineOf(an, "clientSecret"), "clientSecret", "required (or publicClient: true for an app without a secret)")
			}
			if err := checkPerms(an, "applicationPermissions", a.ApplicationPermissions, catalog.CheckApplication); err != nil {
				return err
			}
			if err := checkPerms(an, "delegatedPermissions", a.DelegatedPermissions, catalog.CheckDelegated); err != nil {
				return err
			}
			for i, uri := range a.RedirectURIs {
				if u, err := url.Parse(uri); err != nil || u.Scheme == "" || u.Fragment != "" {
					return p.errAt(item(an, "redirectUris", i), "redirectUris", "%q is not an absolute URI without a fragment", uri)
				}
			}
		}
		for i, id := range t.ConsentedApps {
			if !IsGUID(id) {
				return p.errAt(item(tn, "consentedApps", i), "consentedApps", "%q is not a client id (a GUID)", id)
			}
		}
		userIDs := map[string]bool{}
		for ui := range t.Users {
			un := item(tn, "users", ui)
			if err := checkUser(un, &t.Users[ui]); err != nil {
				return err
			}
			userIDs[strings.ToLower(t.Users[ui].ID)] = true
		}
		for gi := range t.Groups {
			g := &t.Groups[gi]
			gn := item(tn, "groups", gi)
			if err := checkID(gn, g.ID); err != nil {
				return err
			}
			if g.DisplayName == "" {
				return p.errAt(lineOf(gn, "displayName"), "displayName", "required")
			}
			for _, key := range []string{"members", "owners"} {
				list := g.Members
				if key == "owners" {
					list = g.Owners
				}
				for i, id := range list {
					if !userIDs[strings.ToLower(id)] {
						return p.errAt(item(gn, key, i), key, "%s is not a user of tenant %s", id, t.ID)
					}
				}
			}
		}
	}
	for i := range f.PersonalAccounts {
		if err := checkUser(item(root, "personalAccounts", i), &f.PersonalAccounts[i]); err != nil {
			return err
		}
	}
	return nil
}
