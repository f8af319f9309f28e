// Package dashboard is graphhook's web dashboard at /_graphhook/: a small front end
// embedded in the binary (HTML, plain JavaScript and CSS, no build step, nothing
// fetched from elsewhere) over the admin API. It shows tenants, apps and users with
// ready-to-copy token commands, subscriptions, the live delivery log with replay, a
// trigger button per resource type, the clock, lifecycle events and faults.
//
// Sign-in trades the admin key for a session cookie (HttpOnly, SameSite=Strict,
// Secure over HTTPS) and a CSRF token; httpapi then accepts the session in place of
// the admin key (see Authorize), so the front end calls the same JSON endpoints as
// scripts do. A request that changes state needs the CSRF token and must come from
// the dashboard's own origin: every port of 127.0.0.1 is one "site" to a browser, so
// SameSite alone would let any local page post with the cookie.
//
// In the strict profile no secret is ever shown: not the admin key, not a client
// secret, not a password (token commands carry placeholders instead).
package dashboard

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

//go:embed ui
var assets embed.FS

// Config configures the dashboard.
type Config struct {
	// AdminKey is the key sign-in asks for (required); sessions are signed with a key
	// derived from it.
	AdminKey string
	// Profile is the server profile, "dev" (default) or "strict"; strict never shows
	// a secret.
	Profile string
	// Fixture is the tenant fixture the server applied (its file or the demo): the
	// store keeps only hashes of secrets and passwords, so the dev profile shows them
	// from here. Nil shows none.
	Fixture *identity.Fixture
	// SessionLifetime is how long a sign-in lasts (default 12 hours).
	SessionLifetime time.Duration
	// Now tells the time of sessions (default time.Now). Sessions follow real time,
	// not the server clock that the dev profile moves forward on request.
	Now func() time.Time
}

// Dashboard serves the web dashboard; it implements httpapi.AdminUI.
type Dashboard struct {
	cfg   Config
	key   []byte // session MAC key, derived from the admin key
	ident *identity.Service
	st    store.Store
	pages *template.Template
}

// New returns the dashboard.
func New(cfg Config, ident *identity.Service, st store.Store) (*Dashboard, error) {
	if cfg.AdminKey == "" {
		return nil, errors.New("dashboard: AdminKey is required")
	}
	cfg.Profile = cmp.Or(cfg.Profile, "dev")
	if cfg.Profile != "dev" && cfg.Profile != "strict" {
		return nil, fmt.Errorf("dashboard: profile must be dev or strict, not %q", cfg.Profile)
	}
	cfg.SessionLifetime = cmp.Or(cfg.SessionLifetime, 12*time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	pages, err := template.ParseFS(assets, "ui/*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	sum := sha256.Sum256([]byte("graphhook dashboard session\x00" + cfg.AdminKey))
	return &Dashboard{cfg: cfg, key: sum[:], ident: ident, st: st, pages: pages}, nil
}

// showSecrets reports whether secrets may be shown (the dev profile only).
func (d *Dashboard) showSecrets() bool { return d.cfg.Profile == "dev" }

// ServeUI serves the dashboard page (rest ""), sign-in and sign-out, and the assets
// under ui/.
func (d *Dashboard) ServeUI(w http.ResponseWriter, r *http.Request, rest string) bool {
	switch {
	case rest == "":
		d.serveIndex(w, r)
	case rest == "ui/signin":
		d.serveSignIn(w, r)
	case rest == "ui/signout":
		d.serveSignOut(w, r)
	case strings.HasPrefix(rest, "ui/"):
		d.serveAsset(w, r, strings.TrimPrefix(rest, "ui/"))
	default:
		return false
	}
	return true
}

// pageHeaders keep the pages from running anything but the dashboard's own script
// and from being framed by another page.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

type pageData struct {
	Profile string
	CSRF    string
	Error   string
}

func (d *Dashboard) render(w http.ResponseWriter, status int, name string, data pageData) {
	pageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	d.pages.ExecuteTemplate(w, name, data)
}

func (d *Dashboard) serveIndex(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_graphhook" {
		http.Redirect(w, r, "/_graphhook/", http.StatusMovedPermanently)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s, ok := d.session(r)
	if !ok {
		d.render(w, http.StatusOK, "signin.html", pageData{Profile: d.cfg.Profile})
		return
	}
	d.render(w, http.StatusOK, "index.html", pageData{Profile: d.cfg.Profile, CSRF: d.csrf(s)})
}

func (d *Dashboard) serveSignIn(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Redirect(w, r, "/_graphhook/", http.StatusSeeOther)
		return
	}
	// A page of another origin must not sign the browser in (to a session it
	// would then watch through the clock or the log).
	if crossSite(r) {
		d.render(w, http.StatusForbidden, "signin.html", pageData{Profile: d.cfg.Profile, Error: "Sign-in from another origin is refused."})
		return
	}
	key := r.PostFormValue("key")
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(key)), []byte(d.cfg.AdminKey)) != 1 {
		d.render(w, http.StatusUnauthorized, "signin.html", pageData{Profile: d.cfg.Profile, Error: "That is not the admin key this server was started with."})
		return
	}
	setCookie(w, r, d.newSession(), int(d.cfg.SessionLifetime/time.Second))
	http.Redirect(w, r, "/_graphhook/", http.StatusSeeOther)
}

func (d *Dashboard) serveSignOut(w http.ResponseWriter, r *http.Request) {
	s, ok := d.session(r)
	if r.Method != http.MethodPost || !ok {
		http.Redirect(w, r, "/_graphhook/", http.StatusSeeOther)
		return
	}
	if crossSite(r) || !d.csrfOK(s, r.PostFormValue(csrfField)) {
		http.Error(w, "sign-out needs the dashboard's CSRF token", http.StatusForbidden)
		return
	}
	setCookie(w, r, "", -1)
	http.Redirect(w, r, "/_graphhook/", http.StatusSeeOther)
}

var assetTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
}

// serveAsset serves the script and the style sheet; they hold no secret, so they are
// served without a session (the sign-in page uses the style sheet).
func (d *Dashboard) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	ct, ok := assetTypes[path.Ext(name)]
	var data []byte
	if ok && !strings.Contains(name, "/") {
		var err error
		data, err = assets.ReadFile("ui/" + name)
		ok = err == nil
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(data)
}

// Routes registers the admin endpoints the dashboard adds: a tenant's apps and users
// with their token commands.
func (d *Dashboard) Routes(r *httpapi.Router) {
	r.Handle("GET", "tenants/{tenant}/apps", d.listApps)
	r.Handle("GET", "tenants/{tenant}/users", d.listUsers)
}
