package rest

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
)

// serve answers one GET through a real httpapi server whose only route runs h.
func serve(t *testing.T, target string, h httpapi.HandlerFunc) (int, map[string]any) {
	t.Helper()
	srv := httpapi.New(httpapi.Config{PublicURL: "http://127.0.0.1:1"})
	srv.Graph().Handle("GET", "things", h, httpapi.RouteOptions{NoAuth: true})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET %s: body %q is not JSON: %v", target, rec.Body.String(), err)
	}
	return rec.Code, body
}

func TestPagingOptions(t *testing.T) {
	page := func(c *httpapi.Ctx) error {
		top, err := Top(c, 2, 5)
		if err != nil {
			return err
		}
		skip, err := Skip(c)
		if err != nil {
			return err
		}
		var after string
		if _, err := SkipToken(c, &after); err != nil {
			return err
		}
		fields, err := Fields(c)
		if err != nil {
			return err
		}
		all := []string{"a", "b", "c", "d"}
		var value []map[string]any
		for _, id := range all[min(skip, len(all)):] {
			if id > after {
				value = append(value, Select(map[string]any{"id": id, "n": 1}, fields))
			}
		}
		next := ""
		if len(value) > top {
			value = value[:top]
			next = NextSkip(c, skip+top)
		}
		return Collection(c, "things", value, next)
	}
	tests := []struct {
		target string
		status int
		want   map[string]any
	}{
		{"/v1.0/things", 200, map[string]any{
			"@odata.context":  "http://127.0.0.1:1/v1.0/$metadata#things",
			"@odata.nextLink": "http://127.0.0.1:1/v1.0/things?$skip=2",
			"value":           []any{map[string]any{"id": "a", "n": 1.0}, map[string]any{"id": "b", "n": 1.0}},
		}},
		{"/v1.0/things?$skip=3&$select=id", 200, map[string]any{
			"@odata.context": "http://127.0.0.1:1/v1.0/$metadata#things",
			"value":          []any{map[string]any{"id": "d"}},
		}},
		{"/v1.0/things?$skiptoken=" + odata.EncodeSkipToken("b") + "&$top=5", 200, map[string]any{
			"@odata.context": "http://127.0.0.1:1/v1.0/$metadata#things",
			"value":          []any{map[string]any{"id": "c", "n": 1.0}, map[string]any{"id": "d", "n": 1.0}},
		}},
		{"/v1.0/things?$top=6", 400, errorBody("Invalid value '6' for $top: it must be an integer from 1 to 5.")},
		{"/v1.0/things?$skip=-1", 400, errorBody("Invalid value '-1' for $skip: it must be a non-negative integer.")},
		{"/v1.0/things?$skiptoken=%25", 400, errorBody("Invalid $skiptoken: the token is malformed. Use the @odata.nextLink of the previous page as it is.")},
	}
	for _, tt := range tests {
		status, body := serve(t, tt.target, page)
		if e, ok := body["error"].(map[string]any); ok {
			body = map[string]any{"error": map[string]any{"code": e["code"], "message": e["message"]}}
		}
		if status != tt.status {
			t.Errorf("GET %s = %d, want %d", tt.target, status, tt.status)
		}
		if diff := cmp.Diff(tt.want, body); diff != "" {
			t.Errorf("GET %s body (-want +got):\n%s", tt.target, diff)
		}
	}
}

func errorBody(message string) map[string]any {
	return map[string]any{"error": map[string]any{"code": "BadRequest", "message": message}}
}
