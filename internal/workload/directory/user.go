package directory

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"
	"unicode"

	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// createdLayout is how Entra writes createdDateTime: whole seconds, UTC.
const createdLayout = "2006-01-02T15:04:05Z"

func (w *Workload) listUsers(c *httpapi.Ctx) error {
	return w.serveKind(c, readAllUsers, identity.KindUser, userSchema, "users")
}

func (w *Workload) countUsers(c *httpapi.Ctx) error {
	return w.countKind(c, readAllUsers, identity.KindUser, userSchema)
}

func (w *Workload) getUser(c *httpapi.Ctx) error {
	p := c.Principal
	fields, err := userSchema.parseSelect(c.Query("$select"))
	if err != nil {
		return err
	}
	var o store.Object
	var doc map[string]any
	err = rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
		var err error
		if o, err = lookupUser(ctx, tx, p.TenantID, c.Param("user")); err != nil {
			return err
		}
		if !canReadUser(p, o.ID) {
			return accessDenied()
		}
		doc, err = decodeView(o, userSchema)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, entity(c, odata.Select(doc, fields), "users/$entity", o))
}

func (w *Workload) createUser(c *httpapi.Ctx) error {
	p := c.Principal
	if err := inDirectory(p, writeAllUsers); err != nil {
		return err
	}
	in, err := readInput(c, userSchema)
	if err != nil {
		return err
	}
	if err := userSchema.require(in, "accountEnabled", "displayName", "mailNickname", "passwordProfile", "userPrincipalName"); err != nil {
		return err
	}
	password, err := passwordOf(in["passwordProfile"])
	if err != nil {
		return err
	}
	delete(in, "passwordProfile")
	if err := w.checkUserValues(p.TenantID, in); err != nil {
		return err
	}
	hashed := identity.HashPassword(password)
	id := newObjectID()
	in["id"] = id
	in["createdDateTime"] = c.Now.UTC().Format(createdLayout)
	doc := userSchema.view(in)
	upn := strings.ToLower(doc["userPrincipalName"].(string))
	var o store.Object
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		if err := upnFree(ctx, tx, p.TenantID, upn, ""); err != nil {
			return err
		}
		var err error
		o, err = writeObject(ctx, tx, store.Object{Tenant: p.TenantID, Kind: identity.KindUser, ID: id, Alt: upn, Created: c.Now, Updated: c.Now}, doc)
		if err != nil {
			return err
		}
		if err := identity.SetPassword(ctx, tx, p.TenantID, id, hashed, c.Now); err != nil {
			return err
		}
		return record(ctx, tx, changeRecord{tenant: p.TenantID, kind: identity.KindUser, id: id, changeType: store.Created, after: doc, at: c.Now})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, entity(c, doc, "users/$entity", o))
}

// selfServiceDenied are the properties a signed-in user may not change on their own
// account without an administrator's permission.
var selfServiceDenied = []string{"accountEnabled", "userPrincipalName", "passwordProfile", "mailNickname", "mail", "employeeId"}

func (w *Workload) updateUser(c *httpapi.Ctx) error {
	p := c.Principal
	if p.Type == identity.DelegatedPersonal {
		return accessDenied()
	}
	in, err := readInput(c, userSchema)
	if err != nil {
		return err
	}
	password := ""
	if pp, ok := in["passwordProfile"]; ok {
		if password, err = passwordOf(pp); err != nil {
			return err
		}
		delete(in, "passwordProfile")
	}
	if err := w.checkUserValues(p.TenantID, in); err != nil {
		return err
	}
	var hashed identity.HashedPassword
	if password != "" {
		hashed = identity.HashPassword(password)
	}
	err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
		o, err := lookupUser(ctx, tx, p.TenantID, c.Param("user"))
		if err != nil {
			return err
		}
		if !canWriteUser(p, o.ID) {
			return accessDenied()
		}
		if !p.Has(writeAllUsers...) {
			for _, name := range selfServiceDenied {
				if _, ok := in[name]; ok || (name == "passwordProfile" && password != "") {
					return accessDenied()
				}
			}
		}
		if err := checkIfMatch(c, o); err != nil {
			return err
		}
		before, err := decodeView(o, userSchema)
		if err != nil {
			return err
		}
		after := maps.Clone(before)
		maps.Copy(after, in)
		if upn, ok := in["userPrincipalName"].(string); ok && !strings.EqualFold(upn, o.Alt) {
			if err := upnFree(ctx, tx, p.TenantID, strings.ToLower(upn), o.ID); err != nil {
				return err
			}
			o.Alt = strings.ToLower(upn)
		}
		if password != "" {
			if err := identity.SetPassword(ctx, tx, p.TenantID, o.ID, hashed, c.Now); err != nil {
				return err
			}
		}
		return saveUpdate(ctx, tx, o, before, after, c.Now)
	})
	if err != nil {
		return err
	}
	return c.NoContent()
}

// deleteUser moves the user to the recycle bin (/directory/deletedItems), from which
// it can be restored or deleted for good. Its group memberships are kept for a restore
// but not listed meanwhile.
func (w *Workload) deleteUser(c *httpapi.Ctx) error {
	return w.deleteOne(c, writeAllUsers, lookupUser, "user", nil)
}

// checkUserValues checks the values that have rules beyond their type.
func (w *Workload) checkUserValues(tenant string, in map[string]any) error {
	for _, name := range []string{"displayName", "userPrincipalName", "mailNickname", "accountEnabled"} {
		if v, ok := in[name]; ok && (v == nil || v == "") {
			return userSchema.invalid(name)
		}
	}
	if upn, ok := in["userPrincipalName"].(string); ok {
		t, _ := w.ident.Tenant(tenant)
		if err := checkUPN(upn, t.Domain); err != nil {
			return err
		}
	}
	if nick, ok := in["mailNickname"].(string); ok && !validNickname(nick) {
		return userSchema.invalid("mailNickname")
	}
	return nil
}

// checkUPN checks a user principal name: alias@domain, the alias at most 64
// characters of the set Entra allows, the domain one of the tenant's.
func checkUPN(upn, domain string) error {
	alias, dom, ok := strings.Cut(upn, "@")
	if !ok || alias == "" || len(alias) > 64 || strings.Contains(dom, "@") || strings.HasPrefix(alias, ".") || strings.HasSuffix(alias, ".") {
		return userSchema.invalid("userPrincipalName")
	}
	for _, r := range alias {
		if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".-_'!#^~", r))) {
			return userSchema.invalid("userPrincipalName")
		}
	}
	if !strings.EqualFold(dom, domain) {
		return badRequest("The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.")
	}
	return nil
}

// validNickname applies Exchange's alias rules: 1 to 64 ASCII characters without
// spaces or any of @()\[]";:<>,
func validNickname(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || r <= ' ' || strings.ContainsRune(`@()\[]";:<>,`, r) {
			return false
		}
	}
	return true
}

// upnFree refuses a user principal name that a live user other than self holds.
func upnFree(ctx context.Context, tx store.Tx, tenant, upn, self string) error {
	o, err := tx.GetObjectByAlt(ctx, tenant, identity.KindUser, upn)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if o.ID == self {
		return nil
	}
	return badRequest("Another object with the same value for property userPrincipalName already exists.")
}

// passwordOf reads a passwordProfile and checks the password against Entra's default
// policy: 8 to 256 characters from at least three of lower case, upper case, digits
// and symbols.
func passwordOf(v any) (string, error) {
	pp, _ := v.(map[string]any)
	for k, val := range pp {
		switch k {
		case "password":
		case "forceChangePasswordNextSignIn", "forceChangePasswordNextSignInWithMfa":
			if _, ok := val.(bool); !ok {
				return "", userSchema.invalid("passwordProfile")
			}
		default:
			return "", badRequest("Property '%s' does not exist as a declared property or extension property.", k)
		}
	}
	pw, ok := pp["password"].(string)
	if !ok || pw == "" {
		return "", userSchema.invalid("passwordProfile")
	}
	var lower, upper, digit, symbol int
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			symbol = 1
		}
	}
	if n := len([]rune(pw)); n < 8 || n > 256 || lower+upper+digit+symbol < 3 {
		return "", badRequest("The specified password does not comply with password complexity requirements. Please provide a different password.")
	}
	return pw, nil
}
