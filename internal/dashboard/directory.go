package dashboard

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

// The placeholders token commands carry where a secret is not shown.
const (
	secretPlaceholder   = "<client secret>"
	passwordPlaceholder = "<password>"
)

// fixtureApp returns the fixture's entry for a client id.
func (d *Dashboard) fixtureApp(clientID string) (identity.FixtureApp, bool) {
	if d.cfg.Fixture == nil {
		return identity.FixtureApp{}, false
	}
	for _, t := range d.cfg.Fixture.Tenants {
		for _, a := range t.Apps {
			if strings.EqualFold(a.ClientID, clientID) {
				return a, true
			}
		}
	}
	return identity.FixtureApp{}, false
}

// fixturePassword returns a user's password as the fixture gives it.
func (d *Dashboard) fixturePassword(tenantID, upn string) (string, bool) {
	if d.cfg.Fixture == nil {
		return "", false
	}
	for _, t := range d.cfg.Fixture.Tenants {
		if !strings.EqualFold(t.ID, tenantID) {
			continue
		}
		for _, u := range t.Users {
			if strings.EqualFold(u.UserPrincipalName, upn) {
				return u.Password, u.Password != ""
			}
		}
	}
	return "", false
}

// secret returns the app's client secret when it may be shown.
func (d *Dashboard) secret(app identity.App) (string, bool) {
	if !d.showSecrets() || !app.HasSecret() {
		return "", false
	}
	fa, ok := d.fixtureApp(app.ClientID)
	return fa.ClientSecret, ok && fa.ClientSecret != ""
}

// apps returns the apps registered in a tenant, by display name.
func (d *Dashboard) apps(c *httpapi.Ctx, tenantID string) ([]identity.App, error) {
	var apps []identity.App
	err := d.st.View(c.R.Context(), func(tx store.Tx) error {
		objs, err := tx.ListObjects(c.R.Context(), store.ObjectQuery{Kind: identity.KindApp, Owner: tenantID})
		for _, o := range objs {
			var a identity.App
			if json.Unmarshal(o.Data, &a) == nil {
				apps = append(apps, a)
			}
		}
		return err
	})
	slices.SortFunc(apps, func(x, y identity.App) int { return strings.Compare(x.DisplayName, y.DisplayName) })
	return apps, err
}

// tokenURL is the tenant's token endpoint as the dashboard's user reaches it.
func tokenURL(c *httpapi.Ctx, tenantID string) string {
	return c.PublicURL() + "/" + tenantID + "/oauth2/v2.0/token"
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/@%+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// curl writes a token request as a command to paste into a shell.
func curl(url string, form [][2]string) string {
	var b strings.Builder
	b.WriteString("curl -s -X POST " + shellQuote(url))
	for _, kv := range form {
		b.WriteString(" -d " + shellQuote(kv[0]+"="+kv[1]))
	}
	return b.String()
}

const graphDefault = "https://graph.microsoft.com/.default"

func (d *Dashboard) listApps(c *httpapi.Ctx) error {
	t, err := admin.Tenant(d.ident, c.Param("tenant"))
	if err != nil {
		return err
	}
	apps, err := d.apps(c, t.ID)
	if err != nil {
		return err
	}
	value := make([]map[string]any, 0, len(apps))
	for _, a := range apps {
		v := map[string]any{
			"clientId": a.ClientID, "tenantId": a.TenantID, "displayName": a.DisplayName,
			"publicClient": a.PublicClient, "hasSecret": a.HasSecret(),
			"applicationPermissions": nonNil(a.ApplicationPermissions), "delegatedPermissions": nonNil(a.DelegatedPermissions),
			"redirectUris": nonNil(a.RedirectURIs),
		}
		if a.HasSecret() && len(a.ApplicationPermissions) > 0 {
			secret, shown := d.secret(a)
			if shown {
				v["clientSecret"] = secret
			} else {
				secret = secretPlaceholder
			}
			v["tokenCommand"] = curl(tokenURL(c, t.ID), [][2]string{
				{"grant_type", "client_credentials"}, {"client_id", a.ClientID}, {"client_secret", secret}, {"scope", graphDefault},
			})
		} else if secret, shown := d.secret(a); shown {
			v["clientSecret"] = secret
		}
		value = append(value, v)
	}
	return c.JSON(http.StatusOK, map[string]any{"value": value})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (d *Dashboard) listUsers(c *httpapi.Ctx) error {
	t, err := admin.Tenant(d.ident, c.Param("tenant"))
	if err != nil {
		return err
	}
	apps, err := d.apps(c, t.ID)
	if err != nil {
		return err
	}
	// A user's token comes from the password grant through the tenant's first app
	// with delegated permissions (a confidential one presents its secret).
	var delegated *identity.App
	for i, a := range apps {
		if len(a.DelegatedPermissions) > 0 && (delegated == nil || !a.PublicClient && delegated.PublicClient) {
			delegated = &apps[i]
		}
	}
	const limit = 500
	var objs []store.Object
	err = d.st.View(c.R.Context(), func(tx store.Tx) error {
		var err error
		objs, err = tx.ListObjects(c.R.Context(), store.ObjectQuery{Tenant: t.ID, Kind: identity.KindUser, Limit: limit})
		return err
	})
	if err != nil {
		return err
	}
	value := make([]map[string]any, 0, len(objs))
	for _, o := range objs {
		var u struct {
			ID                string `json:"id"`
			UserPrincipalName string `json:"userPrincipalName"`
			DisplayName       string `json:"displayName"`
		}
		if json.Unmarshal(o.Data, &u) != nil {
			continue
		}
		v := map[string]any{"id": u.ID, "userPrincipalName": u.UserPrincipalName, "displayName": u.DisplayName}
		password, known := d.fixturePassword(t.ID, u.UserPrincipalName)
		if known && d.showSecrets() {
			v["password"] = password
		} else {
			password = passwordPlaceholder
		}
		if delegated != nil {
			form := [][2]string{{"grant_type", "password"}, {"client_id", delegated.ClientID}}
			if delegated.HasSecret() {
				secret, shown := d.secret(*delegated)
				if !shown {
					secret = secretPlaceholder
				}
				form = append(form, [2]string{"client_secret", secret})
			}
			form = append(form, [2]string{"username", u.UserPrincipalName}, [2]string{"password", password}, [2]string{"scope", graphDefault})
			v["tokenCommand"] = curl(tokenURL(c, t.ID), form)
		}
		value = append(value, v)
	}
	return c.JSON(http.StatusOK, map[string]any{"value": value})
}
