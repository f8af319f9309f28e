package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/graph"
)

// Sessions are stateless: the cookie holds its issue time and a random nonce, signed
// with a key derived from the admin key. Every node of a shared database (all started
// with one admin key) accepts every node's sessions, a restart keeps them, and a new
// admin key ends them all. The CSRF token is a second MAC of the same payload, so the
// server recognises it without storing it either.

// cookieName is the session cookie. Its path is /_graphhook/, so it never travels
// with Graph API or token requests.
const cookieName = "graphhook_dashboard"

// csrfHeader carries the CSRF token on the front end's state-changing requests; the
// sign-out form repeats it in the csrfField hidden field.
const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf"
)

// session is a verified session cookie.
type session struct {
	payload []byte
	issued  time.Time
}

func (d *Dashboard) mac(label string, payload []byte) []byte {
	h := hmac.New(sha256.New, d.key)
	h.Write([]byte(label))
	h.Write(payload)
	return h.Sum(nil)
}

// newSession returns a new session cookie's value.
func (d *Dashboard) newSession() string {
	payload := make([]byte, 8+16)
	binary.BigEndian.PutUint64(payload, uint64(d.cfg.Now().Unix()))
	rand.Read(payload[8:])
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(d.mac("session", payload))
}

// session returns r's valid session, if any.
func (d *Dashboard) session(r *http.Request) (session, bool) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return session{}, false
	}
	p, m, ok := strings.Cut(c.Value, ".")
	if !ok {
		return session{}, false
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	sum, err2 := enc.DecodeString(m)
	if err1 != nil || err2 != nil || len(payload) != 24 || !hmac.Equal(sum, d.mac("session", payload)) {
		return session{}, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(payload)), 0)
	if age := d.cfg.Now().Sub(issued); age < -time.Minute || age > d.cfg.SessionLifetime {
		return session{}, false
	}
	return session{payload: payload, issued: issued}, true
}

// csrf is the session's CSRF token.
func (d *Dashboard) csrf(s session) string {
	return base64.RawURLEncoding.EncodeToString(d.mac("csrf", s.payload))
}

func (d *Dashboard) csrfOK(s session, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && hmac.Equal(got, d.mac("csrf", s.payload))
}

// setCookie sets (or, with value "", clears) the session cookie.
func setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: value, Path: "/_graphhook/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

// crossSite reports whether r comes from a page of another origin. SameSite=Strict
// keeps the cookie off requests from other sites, but every port of 127.0.0.1 is the
// same site: a page served by any local program could otherwise use the session. The
// browser's Sec-Fetch-Site and Origin headers name the requesting page; a request
// without either (curl, an old browser's GET) is not a browser's cross-origin one.
//
// Sec-Fetch-Site decides where the browser sends it; Origin is checked only without
// it (a "null" origin, sent from privacy-sensitive contexts, is refused).
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || !strings.EqualFold(u.Host, r.Host)
}

// changesState reports whether method may change state; those need the CSRF token.
func changesState(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// Authorize lets a signed-in browser use the admin API: a valid session from the
// dashboard's own origin, with the CSRF token in the X-CSRF-Token header on a request
// that changes state.
func (d *Dashboard) Authorize(r *http.Request) (bool, error) {
	s, ok := d.session(r)
	if !ok {
		return false, nil
	}
	if crossSite(r) {
		return false, graph.Errorf(http.StatusForbidden, graph.CodeAccessDenied, "The dashboard's session is refused on a request from another origin.")
	}
	if changesState(r.Method) && !d.csrfOK(s, r.Header.Get(csrfHeader)) {
		return false, graph.Errorf(http.StatusForbidden, graph.CodeAccessDenied, "A dashboard request that changes state needs the session's CSRF token in the %s header.", csrfHeader)
	}
	return true, nil
}
