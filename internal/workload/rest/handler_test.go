package rest

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
)

// viewCtx is a store whose View only records whether its context carries
// store.ReadsChangeLog; the test needs nothing else of a store.
type viewCtx struct {
	store.Store
	marked bool
}

func (v *viewCtx) View(ctx context.Context, fn func(store.Tx) error) error {
	v.marked = store.ReadingChangeLog(ctx)
	return fn(nil)
}

// TestViewMarksDelta: a delta request's view is marked as reading the change log
// (the backend then bounds the log before the view's snapshot); other views are not.
func TestViewMarksDelta(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"users/delta", true},
		{"users/u1/mailFolders/inbox/messages/delta", true},
		{"drives/d1/root/delta/abc", true},
		{"users/u1/messages", false},
		{"users", false},
	} {
		segs, err := httpapi.SplitPath(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		c := &httpapi.Ctx{R: httptest.NewRequest("GET", "/v1.0/"+tc.path, nil), Segments: segs}
		st := &viewCtx{}
		var inner bool
		if err := View(c, st, func(ctx context.Context, _ store.Tx) error { inner = store.ReadingChangeLog(ctx); return nil }); err != nil {
			t.Fatal(err)
		}
		if st.marked != tc.want || inner != tc.want {
			t.Errorf("View(%s): store saw the mark %t, fn %t; want %t", tc.path, st.marked, inner, tc.want)
		}
	}
}

// TestEntityEncoded: a document answered from its encoded bytes is byte for byte the
// answer Entity gives for the document, whatever its first key: after
// @odata.context, before it, escaped, or none.
func TestEntityEncoded(t *testing.T) {
	answer := func(h httpapi.HandlerFunc) (int, string) {
		srv := httpapi.New(httpapi.Config{PublicURL: "http://127.0.0.1:1"})
		srv.Graph().Handle("GET", "things", h, httpapi.RouteOptions{NoAuth: true})
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/v1.0/things", nil))
		return rec.Code, rec.Body.String()
	}
	for _, doc := range []map[string]any{
		{"@odata.etag": `W/"x"`, "id": "m1", "body": map[string]any{"content": "<p>a & b</p>"}, "isRead": true, "n": 1.5},
		{"!first": 1, "id": "m2"},
		{"<first": 1, "id": "m3"},
		{"@odata": 1, "id": "m4"},
		{"@odata.context!": 1, "id": "m5"},
		{},
	} {
		data, err := docjson.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		wantCode, want := answer(func(c *httpapi.Ctx) error { return Entity(c, http.StatusCreated, "things/$entity", maps.Clone(doc)) })
		gotCode, got := answer(func(c *httpapi.Ctx) error { return EntityEncoded(c, http.StatusCreated, "things/$entity", data) })
		if gotCode != wantCode || got != want {
			t.Errorf("%s: EntityEncoded answered %d %s, Entity %d %s", data, gotCode, got, wantCode, want)
		}
	}
}
