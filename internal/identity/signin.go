package identity

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/store"
)

// The sign-in pages (the authorization endpoint's and /devicelogin) are plain server
// rendered forms. They ask for the password, as Entra does: the fixture's passwords
// are known to whoever runs graphhook, and a page that signs in without one would let
// any local page that can post a form mint tokens for any user.

// csrfCookie carries the token every sign-in form repeats in a hidden field. The
// cookie is SameSite=Strict, so a form posted from another site does not carry it.
const csrfCookie = "graphhook_signin"

// csrfToken returns the request's CSRF token, setting a new cookie when it has none.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := randomToken(24)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return tok
}

// checkCSRF reports whether a posted form carries the token of its cookie.
func checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("csrf"))) == 1
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// handleID is the store id of a code: its hash, so the store never holds a usable code.
func handleID(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// account is a user the sign-in page offers.
type account struct {
	TenantID, TenantName, UPN, Name string
}

// signInTenants are the tenants whose users may sign in through an authority.
func (s *Service) signInTenants(kind tenantSegment, tenant Tenant) []Tenant {
	consumers, _ := s.Tenant(ConsumersTenant)
	switch kind {
	case segTenant:
		return []Tenant{tenant}
	case segConsumers:
		return []Tenant{consumers}
	}
	out := s.Tenants()
	if kind == segCommon {
		out = append(out, consumers)
	}
	return out
}

// accounts lists the users the sign-in page offers for an app: those of the tenants
// the authority covers that registered or consented to the app, and personal accounts.
func (s *Service) accounts(ctx context.Context, tenants []Tenant, app App) ([]account, error) {
	var out []account
	err := s.st.View(ctx, func(tx store.Tx) error {
		for _, t := range tenants {
			if t.ID != ConsumersTenant && !t.Consented(app) {
				continue
			}
			objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: t.ID, Kind: KindUser, Limit: 100})
			if err != nil {
				return err
			}
			for _, o := range objs {
				var u storedUser
				if json.Unmarshal(o.Data, &u) == nil && u.enabled() {
					out = append(out, account{TenantID: t.ID, TenantName: t.DisplayName, UPN: u.UserPrincipalName, Name: u.DisplayName})
				}
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b account) int {
		return cmp.Or(strings.Compare(a.TenantName, b.TenantName), strings.Compare(a.UPN, b.UPN))
	})
	return out, err
}

// signInUser checks a user name and password against the tenants an authority covers
// and the app's consent; the error is for the page.
func (s *Service) signInUser(ctx context.Context, tenants []Tenant, app App, username, password string) (Tenant, storedUser, *OAuthError) {
	for _, t := range tenants {
		u, err := s.userByUPN(ctx, t.ID, username)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return t, u, errTransient()
		}
		if _, oerr := s.checkSignIn(ctx, t.ID, u, password); oerr != nil {
			return t, u, oerr
		}
		if t.ID != ConsumersTenant && !t.Consented(app) {
			return t, u, errNoConsent(app, "the tenant "+t.Domain)
		}
		return t, u, nil
	}
	where := "any directory this sign-in covers"
	if len(tenants) == 1 {
		where = "the " + tenants[0].Domain + " directory"
	}
	return Tenant{}, storedUser{}, errNoUser(username, where)
}

// pageData fills the sign-in page template.
type pageData struct {
	Title    string
	AppName  string
	Action   string
	Hidden   map[string]string
	CSRF     string
	Accounts []account
	Username string
	UserCode string
	AskCode  bool
	Error    string
	Done     string
}

var signInPage = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} - graphhook</title>
<style>body{font-family:sans-serif;max-width:34em;margin:3em auto}label{display:block;margin:.8em 0 .2em}
input[type=text],input[type=password]{width:100%;padding:.4em}.err{color:#a4262c}table{border-collapse:collapse;margin:.5em 0}td{padding:.1em .6em .1em 0}</style>
</head><body>
<h1>{{.Title}}</h1>
{{if .Done}}<p id="done">{{.Done}}</p>{{else}}
{{if .AppName}}<p>to continue to <b>{{.AppName}}</b></p>{{end}}
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}{{if .AskCode}}<label for="otc">Code</label><input type="text" id="otc" name="otc" value="{{.UserCode}}" autocomplete="off">
{{end}}<label for="username">Account</label><input type="text" id="username" name="username" value="{{.Username}}" list="accounts" autocomplete="username">
<datalist id="accounts">{{range .Accounts}}<option value="{{.UPN}}">{{.Name}}</option>{{end}}</datalist>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password">
<p><button type="submit">Sign in</button></p>
</form>
{{if .Accounts}}<p>Accounts of this graphhook:</p><table>{{range .Accounts}}<tr><td>{{.Name}}</td><td>{{.UPN}}</td><td>{{.TenantName}}</td></tr>{{end}}</table>{{end}}
{{end}}</body></html>
`))

func renderPage(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action *")
	w.WriteHeader(status)
	signInPage.Execute(w, d)
}

// errorPage shows an error Entra shows on its own page instead of returning it to the
// app (an unknown app or redirect URI: sending the browser there would be unsafe).
func errorPage(w http.ResponseWriter, status int, e *OAuthError) {
	renderPage(w, status, pageData{Title: "Sign in", Error: e.Description})
}

// cleanUserCode normalises a user code as typed: case, spaces and dashes do not matter.
func cleanUserCode(code string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
}
