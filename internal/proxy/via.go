package proxy

import (
	"context"
	"net/http"
)

// viaKey is the context key of the intercepted host.
type viaKey struct{}

// WithVia returns ctx marked as serving a request that reached graphhook through the
// proxy, for host. The proxy marks every tunnelled request; tests of handlers that
// behave differently there use it too.
func WithVia(ctx context.Context, host string) context.Context {
	return context.WithValue(ctx, viaKey{}, host)
}

// ViaContext returns the Microsoft host a request came through the proxy for
// ("graph.microsoft.com", "login.microsoftonline.com", …), and whether it did.
func ViaContext(ctx context.Context) (host string, ok bool) {
	host, ok = ctx.Value(viaKey{}).(string)
	return host, ok
}

// Via is ViaContext(r.Context()): identity uses it to emit Entra's own issuer and
// links (https://login.microsoftonline.com/...) for requests that came that way.
func Via(r *http.Request) (host string, ok bool) { return ViaContext(r.Context()) }
