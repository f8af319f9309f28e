package app_test

import (
	"net/http"
	"testing"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/resource"
)

// pingWorkload is a workload of the test's own: GET /v1.0/pings and an admin route.
type pingWorkload struct{ deps app.Deps }

func (w *pingWorkload) Resources() []resource.Descriptor { return nil }

func (w *pingWorkload) Routes(graph, admin *httpapi.Router) {
	graph.Handle("GET", "pings", func(c *httpapi.Ctx) error {
		return c.JSON(http.StatusOK, map[string]any{"value": []string{"pong"}})
	})
	admin.Handle("GET", "pings", func(c *httpapi.Ctx) error {
		return c.JSON(http.StatusOK, map[string]any{"skew": w.deps.Clock.Skew().String()})
	})
}

// TestExtraWorkloads: a workload from Config.ExtraWorkloads is built from the Main's
// own parts and served beside graphhook's.
func TestExtraWorkloads(t *testing.T) {
	var built *pingWorkload
	m := start(t, app.Config{AdminKey: "key", ExtraWorkloads: []func(app.Deps) (app.Workload, error){
		func(d app.Deps) (app.Workload, error) {
			built = &pingWorkload{deps: d}
			return built, nil
		},
	}})
	if built == nil || built.deps.Store != m.Store || built.deps.Identity != m.Identity || built.deps.Clock != m.Clock {
		t.Fatalf("extra workload built from %+v, want the Main's store, identity and clock", built)
	}
	tok := appToken(t, m.URL)
	if got := call(t, m.URL, tok, "GET", "/v1.0/pings", nil, http.StatusOK)["value"]; len(got.([]any)) != 1 {
		t.Errorf("GET /v1.0/pings value = %v, want [pong]", got)
	}
	if got := call(t, m.URL, "key", "GET", "/_graphhook/pings", nil, http.StatusOK)["skew"]; got != "0s" {
		t.Errorf("GET /_graphhook/pings skew = %v, want 0s", got)
	}
	// graphhook's own workloads are still there.
	call(t, m.URL, tok, "GET", "/v1.0/users/"+demoAdele, nil, http.StatusOK)
}
