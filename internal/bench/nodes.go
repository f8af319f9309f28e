package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/graphhook/graphhook/internal/graphclient"
)

// Several nodes of one database: --target takes a comma-separated list of base URLs,
// and the run spreads its changes over them in turn, so that one run reports one
// figure for the cluster. The subscriptions go through the first node; any node may
// deliver their notifications.

// targets splits --target into base URLs ("" for none).
func targets(target string) []string {
	var out []string
	for _, t := range strings.Split(target, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, strings.TrimSuffix(t, "/"))
		}
	}
	return out
}

// validateTargets checks each base URL of --target.
func validateTargets(target string) error {
	list := targets(target)
	if target != "" && len(list) == 0 {
		return errors.New("--target names no URL")
	}
	for _, t := range list {
		u, err := url.Parse(t)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--target %q is not an http(s) base URL", t)
		}
	}
	return nil
}

// apps returns one API client per node, each with its own token, all as the demo
// tenant's app.
func apps(bases []string, hc *http.Client) []*graphclient.Client {
	out := make([]*graphclient.Client, len(bases))
	for i, b := range bases {
		out[i] = graphclient.New(graphclient.Config{Server: b, Tenant: demoTenant().ID, ClientID: demoTenant().Apps[0].ClientID,
			ClientSecret: demoTenant().Apps[0].ClientSecret, HTTP: hc})
	}
	return out
}

// roundRobin returns a changeFunc that creates a message through each node in turn.
func roundRobin(nodes []*graphclient.Client, body json.RawMessage) changeFunc {
	var next atomic.Uint64
	return func(ctx context.Context) (string, time.Time, error) {
		c := nodes[(next.Add(1)-1)%uint64(len(nodes))]
		return post(ctx, c, "/v1.0/users/"+demoAdele+"/messages", body)
	}
}

// runMark makes a run's messages and subscriptions its own when it measures a
// running server, which other runs may measure at the same time (the nodes of one
// database, each driven by its own bench): every message of the run has a subject
// no other run uses, and every subscription of the run filters on it. Each run then
// counts only its own notifications, and Graph's rule of one subscription per app,
// resource and change types does not refuse the second run's (409).
type runMark struct {
	subject string
}

func newRunMark() runMark {
	b := make([]byte, 6)
	rand.Read(b)
	return runMark{subject: "bench-" + hex.EncodeToString(b)}
}

// body is the message each change of the run creates.
func (m runMark) body() json.RawMessage {
	data, _ := json.Marshal(map[string]any{"subject": m.subject, "body": map[string]string{"contentType": "text", "content": "hello"}})
	return data
}

// filter is the $filter of the run's i-th subscription: the run's subject, and for
// i > 0 a clause every message passes that keeps the subscriptions distinct.
func (m runMark) filter(i int) string {
	f := "subject eq '" + m.subject + "'"
	if i > 0 {
		f += fmt.Sprintf(" and subject ne 'not-bench-%d'", i)
	}
	return f
}
