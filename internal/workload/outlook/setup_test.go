package outlook_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/goldenfile"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/outlook"
)

func setup(t *testing.T) *testserver.Env {
	t.Helper()
	return testserver.New(t, func(e *testserver.Env) {
		outlook.New(e.Store).Routes(e.HTTP.Graph())
	})
}

// caller is one way of reaching a mailbox: a token and the path prefix it uses.
type caller struct {
	name   string
	token  string
	base   string // /v1.0/users/{id} or /v1.0/me
	tenant string
	user   string
}

// callers are the three permission types that have mailboxes.
func callers(env *testserver.Env) []caller {
	return []caller{
		{"application", env.AppToken(), "/v1.0/users/" + testserver.AdeleUPN, testserver.Tenant, testserver.Adele},
		{"delegated", env.UserToken(testserver.BrunoUPN), "/v1.0/me", testserver.Tenant, testserver.Bruno},
		{"personal", env.PersonalToken(), "/v1.0/me", "9188040d-6c67-4c5b-b112-36a304b66dad", testserver.Sam},
	}
}

// str reads a string property of a JSON object.
func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func values(t *testing.T, r *testserver.Response) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, v := range r.JSON()["value"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

// wantChanges checks the change types recorded on a topic (in order) and that each
// carries its notice, and returns the records.
func wantChanges(t *testing.T, env *testserver.Env, tenant, topic string, want ...string) []store.Change {
	t.Helper()
	got := env.Changes(tenant, topic)
	var types []string
	for _, c := range got {
		types = append(types, c.ChangeType)
		n, err := change.NoticeOf(&c)
		if err != nil || n.ID != c.ID || !strings.HasSuffix(n.Resource, "/"+c.ID) || n.ODataID != n.Resource || n.ODataType == "" {
			t.Errorf("change %d on %s has notice %+v (err %v)", c.Seq, topic, n, err)
		}
		if (c.ChangeType == store.Deleted) != (c.After == nil) || (c.ChangeType == store.Created) != (c.Before == nil) {
			t.Errorf("change %d (%s) on %s: before=%t after=%t", c.Seq, c.ChangeType, topic, c.Before != nil, c.After != nil)
		}
	}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Fatalf("Changes(%s) types (-want +got):\n%s", topic, diff)
	}
	return got
}

// volatile properties differ on every run; golden files hold a placeholder.
var volatile = map[string]bool{
	"id": true, "changeKey": true, "@odata.etag": true, "createdDateTime": true, "lastModifiedDateTime": true,
	"receivedDateTime": true, "sentDateTime": true, "conversationId": true, "internetMessageId": true,
	"iCalUId": true, "parentFolderId": true, "@odata.deltaLink": true, "@odata.nextLink": true,
}

func normalise(v any, base string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if volatile[k] && e != nil {
				x[k] = "<" + k + ">"
				continue
			}
			x[k] = normalise(e, base)
		}
	case []any:
		for i := range x {
			x[i] = normalise(x[i], base)
		}
	case string:
		return strings.ReplaceAll(x, base, "http://graphhook")
	}
	return v
}

// golden compares a response body with testdata/name.golden.json after replacing
// volatile values.
func golden(t *testing.T, env *testserver.Env, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("golden %s: %v", name, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(normalise(v, env.URL)); err != nil {
		t.Fatal(err)
	}
	got := bytes.TrimSpace(buf.Bytes())
	for _, id := range []string{testserver.Adele, testserver.Bruno, testserver.Sam} {
		got = bytes.ReplaceAll(got, []byte(id), []byte("{user}"))
	}
	goldenfile.Compare(t, name, got)
}
