package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

//go:embed demo.yaml
var demoFixture []byte

// DemoFixture returns the built-in demo tenant.
func DemoFixture() *Fixture {
	f, err := ParseFixture(bytes.NewReader(demoFixture), "demo.yaml")
	if err != nil {
		panic("identity: built-in demo fixture is invalid: " + err.Error())
	}
	return f
}

// UserDoc builds the stored JSON of a directory user from fixture values, in Graph's
// user shape (every property the directory workload serves, unset ones null).
func UserDoc(u FixtureUser, created string) map[string]any {
	enabled := true
	if u.AccountEnabled != nil {
		enabled = *u.AccountEnabled
	}
	phones := u.BusinessPhones
	if phones == nil {
		phones = []string{}
	}
	return map[string]any{
		"id":                strings.ToLower(u.ID),
		"displayName":       u.DisplayName,
		"givenName":         nullable(u.GivenName),
		"surname":           nullable(u.Surname),
		"mail":              nullable(u.Mail),
		"userPrincipalName": u.UserPrincipalName,
		"jobTitle":          nullable(u.JobTitle),
		"department":        nullable(u.Department),
		"officeLocation":    nullable(u.OfficeLocation),
		"mobilePhone":       nullable(u.MobilePhone),
		"businessPhones":    phones,
		"preferredLanguage": nil,
		"accountEnabled":    enabled,
		"createdDateTime":   created,
	}
}

// GroupDoc builds the stored JSON of a group from fixture values.
func GroupDoc(g FixtureGroup, created string) map[string]any {
	types := g.GroupTypes
	if types == nil {
		types = []string{}
	}
	unified := false
	for _, t := range types {
		if strings.EqualFold(t, "Unified") {
			unified = true
		}
	}
	mailEnabled, securityEnabled := unified, !unified
	if g.MailEnabled != nil {
		mailEnabled = *g.MailEnabled
	}
	if g.SecurityEnabled != nil {
		securityEnabled = *g.SecurityEnabled
	}
	nick := g.MailNickname
	if nick == "" {
		nick = strings.ToLower(strings.ReplaceAll(g.DisplayName, " ", ""))
	}
	visibility := any(nil)
	if unified {
		visibility = "Public"
	}
	if g.Visibility != "" {
		visibility = g.Visibility
	}
	return map[string]any{
		"id":              strings.ToLower(g.ID),
		"displayName":     g.DisplayName,
		"description":     nullable(g.Description),
		"mailNickname":    nick,
		"mail":            nil,
		"groupTypes":      types,
		"mailEnabled":     mailEnabled,
		"securityEnabled": securityEnabled,
		"visibility":      visibility,
		"createdDateTime": created,
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// IsGroupMember reports whether user is a member or an owner of group: who may read
// a group's conversations and a team's messages.
func IsGroupMember(ctx context.Context, tx store.Tx, tenant, group, user string) (bool, error) {
	for _, kind := range []string{KindMember, KindOwner} {
		_, err := tx.GetObject(ctx, tenant, kind, MembershipID(group, user))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	return false, nil
}

// MembershipID is the store id of a member or owner link.
func MembershipID(groupID, objectID string) string {
	return strings.ToLower(groupID) + "|" + strings.ToLower(objectID)
}

// ApplyFixture stores the fixture's tenants, apps, users, groups and personal accounts.
// It is idempotent: tenants and apps are brought in line with the file (secrets and
// permissions may change between runs), user passwords are reset to the file's, and
// users, groups and memberships are created only when missing, so that changes made
// through the API survive a restart.
func (s *Service) ApplyFixture(ctx context.Context, f *Fixture) error {
	now := s.cfg.Clock.Now()
	created := now.Format("2006-01-02T15:04:05Z")
	err := s.st.Update(ctx, func(tx store.Tx) error {
		for _, t := range f.Tenants {
			tid := strings.ToLower(t.ID)
			var consented []string
			for _, id := range t.ConsentedApps {
				consented = append(consented, strings.ToLower(id))
			}
			tdoc, _ := json.Marshal(Tenant{ID: tid, DisplayName: t.DisplayName, Domain: strings.ToLower(t.Domain), ConsentedApps: consented})
			if err := upsert(ctx, tx, &store.Object{Tenant: "", Kind: KindTenant, ID: tid, Alt: strings.ToLower(t.Domain), Data: tdoc}); err != nil {
				return err
			}
			for _, a := range t.Apps {
				app := App{
					ClientID: strings.ToLower(a.ClientID), TenantID: tid, DisplayName: a.DisplayName,
					ApplicationPermissions: canonical(a.ApplicationPermissions), DelegatedPermissions: canonical(a.DelegatedPermissions),
					ServicePrincipalID: ServicePrincipalID(tid, a.ClientID),
					PublicClient:       a.PublicClient, RedirectURIs: a.RedirectURIs,
				}
				if a.ClientSecret != "" {
					app.SecretSalt = make([]byte, 16)
					rand.Read(app.SecretSalt)
					app.SecretHash = hashSecret(app.SecretSalt, a.ClientSecret)
				}
				adoc, _ := json.Marshal(app)
				if err := upsert(ctx, tx, &store.Object{Tenant: "", Kind: KindApp, ID: app.ClientID, Owner: tid, Alt: app.ClientID, Data: adoc}); err != nil {
					return err
				}
			}
			for _, u := range t.Users {
				if err := applyUser(ctx, tx, tid, u, created, now); err != nil {
					return err
				}
			}
			for _, g := range t.Groups {
				gid := strings.ToLower(g.ID)
				gdoc, _ := json.Marshal(GroupDoc(g, created))
				if err := insertIfMissing(ctx, tx, &store.Object{Tenant: tid, Kind: KindGroup, ID: gid, Alt: strings.ToLower(g.DisplayName), Data: gdoc}); err != nil {
					return err
				}
				for kind, ids := range map[string][]string{KindMember: g.Members, KindOwner: g.Owners} {
					for _, id := range ids {
						link, _ := json.Marshal(map[string]string{"groupId": gid, "objectId": strings.ToLower(id), "type": "user"})
						if err := insertIfMissing(ctx, tx, &store.Object{Tenant: tid, Kind: kind, ID: MembershipID(gid, id), Owner: gid, Parent: strings.ToLower(id), Data: link}); err != nil {
							return err
						}
					}
				}
			}
		}
		for _, u := range f.PersonalAccounts {
			if err := applyUser(ctx, tx, ConsumersTenant, u, created, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("identity: apply fixture: %w", err)
	}
	return s.reloadTenants(ctx)
}

func applyUser(ctx context.Context, tx store.Tx, tid string, u FixtureUser, created string, now time.Time) error {
	uid := strings.ToLower(u.ID)
	doc := UserDoc(u, created)
	if tid == ConsumersTenant {
		// Personal accounts have no directory properties.
		for _, k := range []string{"jobTitle", "department", "officeLocation", "accountEnabled", "createdDateTime"} {
			delete(doc, k)
		}
	}
	udoc, _ := json.Marshal(doc)
	if err := insertIfMissing(ctx, tx, &store.Object{Tenant: tid, Kind: KindUser, ID: uid, Alt: strings.ToLower(u.UserPrincipalName), Data: udoc}); err != nil {
		return err
	}
	var roles []string
	for _, r := range u.DirectoryRoles {
		roles = append(roles, roleTemplateIDs[r])
	}
	c, existed, err := readCredential(ctx, tx, tid, uid)
	if err != nil {
		return err
	}
	// Re-applying an unchanged fixture keeps the credential, and with it every
	// refresh token; a new password revokes them.
	if !existed || !secretMatches(c.Salt, c.Hash, u.Password) {
		c.Salt = make([]byte, 16)
		rand.Read(c.Salt)
		c.Hash = hashSecret(c.Salt, u.Password)
		if existed {
			c.ChangedAt = now
		}
	}
	c.Roles = roles
	cdoc, _ := json.Marshal(c)
	return upsert(ctx, tx, &store.Object{Tenant: tid, Kind: KindCredential, ID: uid, Data: cdoc})
}

// HashedPassword is a password salted and hashed, ready for SetPassword. Hashing
// is deliberately slow, so it is done before the store transaction (HashPassword),
// not inside it where every other write would wait for it.
type HashedPassword struct {
	salt, hash []byte
}

// HashPassword salts and hashes password for SetPassword.
func HashPassword(password string) HashedPassword {
	salt := make([]byte, 16)
	rand.Read(salt)
	return HashedPassword{salt: salt, hash: hashSecret(salt, password)}
}

// SetPassword stores a user's password (the directory workload calls it when a user
// is created with a passwordProfile or changes it). Changing a password at now
// revokes the refresh tokens issued before; the user's directory roles stay.
func SetPassword(ctx context.Context, tx store.Tx, tid, userID string, password HashedPassword, now time.Time) error {
	uid := strings.ToLower(userID)
	c, existed, err := readCredential(ctx, tx, tid, uid)
	if err != nil {
		return err
	}
	c.Salt, c.Hash = password.salt, password.hash
	if existed {
		c.ChangedAt = now
	}
	cdoc, _ := json.Marshal(c)
	return upsert(ctx, tx, &store.Object{Tenant: tid, Kind: KindCredential, ID: uid, Data: cdoc})
}

// readCredential reads a user's stored credential; existed is false when there is none.
func readCredential(ctx context.Context, tx store.Tx, tid, uid string) (c credential, existed bool, err error) {
	o, err := tx.GetObject(ctx, tid, KindCredential, uid)
	if errors.Is(err, store.ErrNotFound) {
		return credential{}, false, nil
	}
	if err != nil {
		return credential{}, false, err
	}
	if err := json.Unmarshal(o.Data, &c); err != nil {
		return credential{}, false, fmt.Errorf("credential of %s: %w", uid, err)
	}
	return c, true, nil
}

// canonical spells permission names as the catalog does (tokens carry Entra's
// casing); ParseFixture has done so already, fixtures built in code may not have.
func canonical(names []string) []string {
	out := []string{}
	for _, n := range names {
		if p, ok := Permissions().Lookup(n); ok {
			n = p.Name
		}
		out = append(out, n)
	}
	return out
}

func upsert(ctx context.Context, tx store.Tx, o *store.Object) error {
	cur, err := tx.GetObject(ctx, o.Tenant, o.Kind, o.ID)
	if errors.Is(err, store.ErrNotFound) {
		return tx.InsertObject(ctx, o)
	}
	if err != nil {
		return err
	}
	o.Version = cur.Version
	o.Created = cur.Created
	return tx.UpdateObject(ctx, o)
}

func insertIfMissing(ctx context.Context, tx store.Tx, o *store.Object) error {
	_, err := tx.GetObject(ctx, o.Tenant, o.Kind, o.ID)
	if errors.Is(err, store.ErrNotFound) {
		return tx.InsertObject(ctx, o)
	}
	return err
}
