package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// AdminUI is a browser front end of the admin API (package dashboard). A browser
// cannot send the admin key as a bearer header on every request, so the front end
// trades it for a session cookie; the admin API then accepts that session in place of
// the key, under the front end's own cross-site rules.
type AdminUI interface {
	// ServeUI serves the front end's own paths under /_graphhook/ (rest is the escaped
	// path after that prefix, "" for the dashboard itself) and reports whether rest was
	// one of them; the admin API's routes never are.
	ServeUI(w http.ResponseWriter, r *http.Request, rest string) bool
	// Authorize tells whether r is authorised by a browser session. ok is false with a
	// nil refusal when r carries no session (the admin key is then required); a
	// non-nil refusal is the error to answer when r carries a session it may not use
	// this way (no CSRF token on a change, another site's request).
	Authorize(r *http.Request) (ok bool, refusal error)
}

// SetAdminUI serves ui under /_graphhook/ and lets its sessions stand in for the admin
// key. Call it before the server serves.
func (s *Server) SetAdminUI(ui AdminUI) { s.ui = ui }

// adminKeyOK reports whether the Authorization header carries the admin key.
func (s *Server) adminKeyOK(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	key := strings.TrimSpace(strings.TrimPrefix(auth, "Bearer "))
	return s.cfg.AdminKey != "" && strings.HasPrefix(auth, "Bearer ") &&
		subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.AdminKey)) == 1
}
