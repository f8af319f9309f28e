package trigger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/graphhook/graphhook/internal/identity"
)

// auth says how a request authenticates: with the admin key, as an app of the tenant
// holding one of perms, or as user signed in to an app holding one of perms as a
// delegated permission.
type auth struct {
	admin bool
	user  string
	perms []string
}

func asApp(perms ...string) auth { return auth{perms: perms} }

// caller sends requests to the server's handler as a tenant's apps and users.
type caller struct {
	t      *Trigger
	tenant string
	apps   []identity.App
	tokens map[string]string // by auth key
	calls  *[]Call           // where sent requests are recorded
}

func (c *caller) token(ctx context.Context, a auth) (string, error) {
	if a.admin {
		return c.t.cfg.AdminKey, nil
	}
	key := a.user + "|" + strings.Join(a.perms, ",")
	if tok, ok := c.tokens[key]; ok {
		return tok, nil
	}
	for _, app := range c.apps {
		have := app.ApplicationPermissions
		if a.user != "" {
			have = app.DelegatedPermissions
		}
		perm, ok := holding(have, a.perms)
		if !ok {
			continue
		}
		var tok string
		var err error
		if a.user != "" {
			tok, err = c.t.cfg.Identity.MintUserToken(ctx, c.tenant, app, a.user, []string{perm})
		} else {
			tok, err = c.t.cfg.Identity.MintAppToken(c.tenant, app)
		}
		if err != nil {
			return "", err
		}
		c.tokens[key] = tok
		return tok, nil
	}
	kind := "application"
	if a.user != "" {
		kind = "delegated"
	}
	return "", badRequest("No app of tenant %s holds the %s permission %s, which this change needs; add it to an app of the tenant's fixture.", c.tenant, kind, strings.Join(a.perms, " or "))
}

// holding returns the first of want that have holds (case-insensitive).
func holding(have, want []string) (string, bool) {
	for _, w := range want {
		for _, h := range have {
			if strings.EqualFold(h, w) {
				return h, true
			}
		}
	}
	return "", false
}

// response is a request's answer.
type response struct {
	status int
	body   []byte
}

// object decodes a JSON object answer (nil when it is not one).
func (r response) object() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.body, &m) != nil {
		return nil
	}
	return m
}

// do sends one request (path after /v1.0/, or after /_graphhook/ for admin) and
// records it; an answer of 300 or more is returned as a 400 error that quotes it.
func (c *caller) do(ctx context.Context, a auth, method, path, body string) (response, error) {
	tok, err := c.token(ctx, a)
	if err != nil {
		return response{}, err
	}
	prefix := "/v1.0/"
	if a.admin {
		prefix = "/_graphhook/"
	}
	// The handler routes on the path from its root: only the public URL's host is
	// kept (a server behind a reverse proxy may name itself with a path prefix).
	host := "localhost"
	if u, err := url.Parse(c.t.cfg.Identity.PublicURL()); err == nil && u.Host != "" {
		host = u.Host
	}
	r, err := http.NewRequestWithContext(ctx, method, "http://"+host+prefix+path, strings.NewReader(body))
	if err != nil {
		return response{}, badRequest("Invalid request %s %s: %v", method, path, err)
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("User-Agent", "graphhook-trigger")
	if body != "" {
		ct := "application/json"
		if !json.Valid([]byte(body)) {
			ct = "text/plain"
		}
		r.Header.Set("Content-Type", ct)
	}
	w := httptest.NewRecorder()
	c.t.cfg.Handler.ServeHTTP(w, r)
	resp := response{status: w.Code, body: w.Body.Bytes()}
	*c.calls = append(*c.calls, Call{Method: method, Path: prefix[1:] + path, Status: w.Code})
	if w.Code >= 300 {
		return resp, badRequest("%s %s%s answered %d: %s", method, prefix, path, w.Code, graphMessage(resp.body))
	}
	return resp, nil
}

// graphMessage is the message of a Graph error envelope, or the body as text.
func graphMessage(body []byte) string {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error.Message != "" {
		return fmt.Sprintf("%s: %s", env.Error.Code, env.Error.Message)
	}
	return string(bytes.TrimSpace(body))
}
