// Package admin is the home of graphhook's admin API, served under /_graphhook/ with
// its own credential (httpapi checks the admin key; handlers see c.Principal == nil).
// It does what Graph's own API cannot: list tenants, move the server clock in the dev
// profile, and (through routes the workloads register with the helpers below) create
// resources that only Microsoft's services create in Graph, such as security alerts and
// call records.
//
// Admin errors use the Graph error envelope, so one client error parser serves both
// APIs. Workload-specific admin routes live in their workload package and register on
// the same router; they use Tenant and Object from here for the shared rules (unknown
// tenant → 404, bad body → 400).
package admin

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
)

// Config configures the admin API.
type Config struct {
	// Profile is the server profile: "dev" (default) lets the clock be moved; "strict"
	// refuses it, since a production server's time must not jump on request.
	Profile string
	// Advance, when set, moves the clock forward in place of clock.Offset.Advance:
	// the server keeps the offset in its store, so that it outlives a restart and
	// reaches every node (package skew). Default: only this process's clock moves.
	Advance func(ctx context.Context, d time.Duration) error
}

func (c Config) validate() error {
	switch c.Profile {
	case "dev", "strict":
		return nil
	}
	return fmt.Errorf("admin: profile must be dev or strict, not %q", c.Profile)
}

// API serves the generic admin endpoints.
type API struct {
	cfg   Config
	ident *identity.Service
	clock *clock.Offset
}

// New returns the admin API.
func New(cfg Config, ident *identity.Service, clk *clock.Offset) (*API, error) {
	cfg.Profile = cmp.Or(cfg.Profile, "dev")
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &API{cfg: cfg, ident: ident, clock: clk}, nil
}

// Routes registers the generic admin endpoints on the admin router.
func (a *API) Routes(r *httpapi.Router) {
	r.Handle("GET", "tenants", a.listTenants)
	r.Handle("GET", "clock", a.getClock)
	r.Handle("POST", "clock/advance", a.advanceClock)
}

// BadRequest is the admin API's answer to a body it cannot use.
func BadRequest(format string, args ...any) error {
	return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, format, args...)
}

// Tenant resolves the {tenantId} segment of an admin path (a tenant id or domain) to a
// work or school tenant; the consumers tenant holds personal accounts only and has no
// alerts or call records, so it is refused like an unknown one.
func Tenant(ident *identity.Service, idOrDomain string) (identity.Tenant, error) {
	t, ok := ident.Tenant(idOrDomain)
	if !ok || t.ID == identity.ConsumersTenant {
		return identity.Tenant{}, graph.Errorf(http.StatusNotFound, graph.CodeResourceNotFound, "Tenant '%s' does not exist.", idOrDomain)
	}
	return t, nil
}

// Object reads a JSON object body, turning every decoding failure into a 400 in the
// Graph envelope. Instance annotations such as @odata.type are dropped: the admin API
// accepts bodies copied from Graph responses.
func Object(c *httpapi.Ctx) (map[string]any, error) {
	m, err := c.DecodeObject()
	if err != nil {
		return nil, err
	}
	return httpapi.StripAnnotations(m), nil
}

func (a *API) listTenants(c *httpapi.Ctx) error {
	tenants := a.ident.Tenants()
	slices.SortFunc(tenants, func(x, y identity.Tenant) int { return strings.Compare(x.ID, y.ID) })
	value := make([]map[string]any, 0, len(tenants))
	for _, t := range tenants {
		value = append(value, map[string]any{"id": t.ID, "displayName": t.DisplayName, "domain": t.Domain})
	}
	return c.JSON(http.StatusOK, map[string]any{"value": value})
}

func (a *API) clockState(now time.Time) map[string]any {
	return map[string]any{
		"now":     graph.FormatTime(now),
		"offset":  a.clock.Skew().String(),
		"profile": a.cfg.Profile,
	}
}

func (a *API) getClock(c *httpapi.Ctx) error {
	return c.JSON(http.StatusOK, a.clockState(a.clock.Now()))
}

// maxAdvance bounds one jump; a typo like "9000h" is more likely than a real need to
// skip a year, and Graph's longest horizon (subscription lifetime) is under 30 days.
const maxAdvance = 366 * 24 * time.Hour

func (a *API) advanceClock(c *httpapi.Ctx) error {
	if a.cfg.Profile != "dev" {
		return graph.Errorf(http.StatusForbidden, graph.CodeAccessDenied, "The clock can only be moved in the dev profile; this server runs the %s profile.", a.cfg.Profile)
	}
	body, err := Object(c)
	if err != nil {
		return err
	}
	raw, ok := body["duration"].(string)
	if !ok {
		return BadRequest("The body must be {\"duration\": \"<Go duration>\"}, for example {\"duration\": \"90m\"}.")
	}
	for k := range body {
		if k != "duration" {
			return BadRequest("Unknown property '%s'; the body takes only 'duration'.", k)
		}
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		return BadRequest("Invalid duration '%s': use a Go duration such as 90m, 2h or 36h30m.", raw)
	}
	if d <= 0 || d > maxAdvance {
		return BadRequest("Invalid duration '%s': it must be positive and at most %s; the clock never runs backwards.", raw, maxAdvance)
	}
	if a.cfg.Advance != nil {
		if err := a.cfg.Advance(c.R.Context(), d); err != nil {
			return err
		}
	} else {
		a.clock.Advance(d)
	}
	return c.JSON(http.StatusOK, a.clockState(a.clock.Now()))
}
