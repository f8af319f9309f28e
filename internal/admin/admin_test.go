package admin_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/testserver"
)

func setup(t *testing.T, profile string) *testserver.Env {
	t.Helper()
	return testserver.New(t, func(e *testserver.Env) {
		a, err := admin.New(admin.Config{Profile: profile}, e.Identity, e.Clock)
		if err != nil {
			t.Fatal(err)
		}
		a.Routes(e.HTTP.Admin())
	})
}

func TestNewRefusesUnknownProfile(t *testing.T) {
	if _, err := admin.New(admin.Config{Profile: "prod"}, nil, nil); err == nil {
		t.Error("New(profile prod) = nil error, want one")
	}
}

func TestListTenants(t *testing.T) {
	t.Parallel()
	env := setup(t, "")
	r := env.Do("GET", "/_graphhook/tenants", testserver.AdminKey, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET tenants = %s", r)
	}
	v := r.JSON()["value"].([]any)
	if len(v) != 1 || v[0].(map[string]any)["id"] != testserver.Tenant || v[0].(map[string]any)["domain"] != "contoso.onmicrosoft.com" {
		t.Errorf("GET tenants = %s, want the demo tenant only", r)
	}
	for _, key := range []string{"", "wrong", testserver.AdminKey + "x"} {
		if r := env.Do("GET", "/_graphhook/tenants", key, nil); r.Status != http.StatusUnauthorized || r.ErrorCode() != "InvalidAuthenticationToken" {
			t.Errorf("GET tenants with key %q = %s, want 401", key, r)
		}
	}
	// A Graph token is not an admin key.
	if r := env.Do("GET", "/_graphhook/tenants", env.AppToken(), nil); r.Status != http.StatusUnauthorized {
		t.Errorf("GET tenants with a Graph token = %s, want 401", r)
	}
}

func TestAdvanceClock(t *testing.T) {
	t.Parallel()
	env := setup(t, "dev")
	before := env.Clock.Now()
	r := env.Do("POST", "/_graphhook/clock/advance", testserver.AdminKey, map[string]any{"duration": "90m"})
	if r.Status != http.StatusOK {
		t.Fatalf("advance = %s", r)
	}
	if got := env.Clock.Skew(); got != 90*time.Minute {
		t.Errorf("skew after advance = %v, want 90m", got)
	}
	now, err := graph.ParseTime(r.JSON()["now"].(string))
	if err != nil || now.Sub(before) < 90*time.Minute || now.Sub(before) > 91*time.Minute {
		t.Errorf("advance: now = %v (%v), want about %v", now, err, before.Add(90*time.Minute))
	}
	if r.JSON()["offset"] != "1h30m0s" {
		t.Errorf("advance: offset = %v, want 1h30m0s", r.JSON()["offset"])
	}
	r = env.Do("GET", "/_graphhook/clock", testserver.AdminKey, nil)
	if r.Status != http.StatusOK || r.JSON()["offset"] != "1h30m0s" || r.JSON()["profile"] != "dev" {
		t.Errorf("GET clock = %s", r)
	}
	bad := []any{
		map[string]any{"duration": "-5m"},
		map[string]any{"duration": "0s"},
		map[string]any{"duration": "ninety minutes"},
		map[string]any{"duration": 90},
		map[string]any{"duration": "8785h"}, // one hour past the one-year cap
		map[string]any{"duration": "1m", "extra": true},
		map[string]any{},
		"not json",
	}
	for _, b := range bad {
		if r := env.Do("POST", "/_graphhook/clock/advance", testserver.AdminKey, b, "Content-Type", "application/json"); r.Status != http.StatusBadRequest || r.ErrorCode() != "BadRequest" {
			t.Errorf("advance %v = %s, want 400 BadRequest", b, r)
		}
	}
	if r := env.Do("POST", "/_graphhook/clock/advance", testserver.AdminKey, map[string]any{"duration": "8784h"}); r.Status != http.StatusOK {
		t.Errorf("advance by exactly the cap = %s, want 200", r)
	}
	if got := env.Clock.Skew(); got != 90*time.Minute+8784*time.Hour {
		t.Errorf("skew = %v after the refused and the capped advance", got)
	}
}

func TestAdvanceClockStrict(t *testing.T) {
	t.Parallel()
	env := setup(t, "strict")
	r := env.Do("POST", "/_graphhook/clock/advance", testserver.AdminKey, map[string]any{"duration": "1h"})
	if r.Status != http.StatusForbidden || r.ErrorCode() != "accessDenied" {
		t.Errorf("advance in strict = %s, want 403 accessDenied", r)
	}
	if env.Clock.Skew() != 0 {
		t.Errorf("skew = %v in strict, want 0", env.Clock.Skew())
	}
}
