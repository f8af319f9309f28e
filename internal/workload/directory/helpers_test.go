package directory_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/graphhook/graphhook/internal/goldenfile"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
)

var (
	generatedID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)
	timestamp   = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	linkToken   = regexp.MustCompile(`(\$(?:skip|delta)token=)[A-Za-z0-9_-]+`)
	fixtureID   = regexp.MustCompile(`^[23]{8}-0000-4000-8000-0000000000\d\d$`)
)

// normalise replaces what changes from run to run (the server's address, generated
// ids, times, opaque tokens) with placeholders, keeping the fixture's fixed ids.
func normalise(env *testserver.Env, body []byte) []byte {
	body = bytes.ReplaceAll(body, []byte(env.URL), []byte("http://graphhook.test"))
	body = timestamp.ReplaceAll(body, []byte("{time}"))
	body = linkToken.ReplaceAll(body, []byte("${1}{token}"))
	body = generatedID.ReplaceAllFunc(body, func(id []byte) []byte {
		if fixtureID.Match(id) {
			return id
		}
		return []byte("{id}")
	})
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return body
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return append(out, '\n')
}

// golden compares a response body with testdata/name.golden.json.
func golden(t *testing.T, env *testserver.Env, name string, body []byte) {
	t.Helper()
	got := normalise(env, body)
	goldenfile.Compare(t, name, got)
}

// changeView is the part of a change record the tests compare.
type changeView struct {
	Kind, ID, ChangeType string
	Topics               []string
	Before, After        map[string]any
	Notice               change.Notice
}

func viewOf(t *testing.T, c store.Change) changeView {
	t.Helper()
	v := changeView{Kind: c.Kind, ID: c.ID, ChangeType: c.ChangeType, Topics: c.Topics}
	if c.Before != nil {
		if err := json.Unmarshal(c.Before, &v.Before); err != nil {
			t.Fatal(err)
		}
	}
	if c.After != nil {
		if err := json.Unmarshal(c.After, &v.After); err != nil {
			t.Fatal(err)
		}
	}
	n, err := change.NoticeOf(&c)
	if err != nil {
		t.Fatal(err)
	}
	v.Notice = n
	return v
}

// lastChange returns the newest change record on a topic of the demo tenant, and how
// many there are.
func lastChange(t *testing.T, env *testserver.Env, topic string) (changeView, int) {
	t.Helper()
	all := env.Changes(testserver.Tenant, topic)
	if len(all) == 0 {
		t.Fatalf("no change record on topic %q", topic)
	}
	return viewOf(t, all[len(all)-1]), len(all)
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func values(t *testing.T, r *testserver.Response) []map[string]any {
	t.Helper()
	raw, ok := r.JSON()["value"].([]any)
	if !ok {
		t.Fatalf("response has no value array: %s", r)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}

func ids(docs []map[string]any) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = str(d, "id")
	}
	return out
}

// tokenCase is one way a work account's caller reaches the directory.
type tokenCase struct{ name, token string }

// workCallers are the application and a user signed in as upn, the two kinds of
// caller most directory tests run as.
func workCallers(env *testserver.Env, upn string) []tokenCase {
	return []tokenCase{{"application", env.AppToken()}, {"delegated", env.UserToken(upn)}}
}
