package rest

import (
	"context"
	"net/http/httptest"
	"testing"

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
