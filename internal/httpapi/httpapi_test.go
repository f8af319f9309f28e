package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/workload/directory"
)

// setup serves the directory workload plus two probe routes: "echo" returns the
// decoded body with annotations stripped, "boom" panics.
func setup(t *testing.T) *testserver.Env {
	t.Helper()
	return testserver.New(t, func(e *testserver.Env) {
		directory.New(e.Store, e.Identity).Routes(e.HTTP.Graph())
		e.HTTP.Graph().Handle("POST", "echo", func(c *httpapi.Ctx) error {
			m, err := c.DecodeObject()
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, httpapi.StripAnnotations(m))
		})
		e.HTTP.Graph().Handle("POST", "small", func(c *httpapi.Ctx) error {
			_, err := c.DecodeObject()
			if err != nil {
				return err
			}
			return c.NoContent()
		}, httpapi.RouteOptions{MaxBody: 16})
		e.HTTP.Graph().Handle("GET", "boom", func(c *httpapi.Ctx) error { panic("boom") })
		e.HTTP.Graph().Handle("POST", "busy", func(c *httpapi.Ctx) error { return fmt.Errorf("writing: %w", store.ErrBusy) })
		e.HTTP.Admin().Handle("GET", "ping", func(c *httpapi.Ctx) error { return c.JSON(http.StatusOK, map[string]string{"ok": "yes"}) })
	})
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	env := setup(t)
	good := env.AppToken()
	// Tokens signed with graphhook's own key but with one claim wrong.
	forged := func(claims jwt.MapClaims) string {
		tok, err := env.Identity.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	base := jwt.MapClaims{"aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/" + testserver.Tenant + "/", "ver": "1.0", "tid": testserver.Tenant,
		"idtyp": "app", "appid": testserver.AppID, "roles": []string{"User.Read.All"}, "exp": time.Now().Add(time.Hour).Unix(), "nbf": time.Now().Unix()}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range base {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	badSig := good[:len(good)-4] + "AAAA"
	tests := []struct {
		name, header, msg string
	}{
		{"no header", "", "Access token is empty."},
		{"not bearer", "Basic abc", "Access token is empty."},
		{"malformed", "Bearer not-a-jwt", "IDX14100: JWT is not well formed."},
		{"bad signature", "Bearer " + badSig, "Invalid signature."},
		{"expired", "Bearer " + forged(with("exp", time.Now().Add(-time.Hour).Unix())), "Lifetime validation failed, the token is expired."},
		{"wrong audience", "Bearer " + forged(with("aud", "https://management.azure.com")), "Access token validation failure. Invalid audience."},
		{"unknown tenant", "Bearer " + forged(with("tid", "00000000-0000-4000-8000-000000000000")), "Access token validation failure: unknown tenant."},
		{"wrong issuer", "Bearer " + forged(with("iss", "https://sts.example/")), "Access token validation failure. Invalid issuer."},
	}
	for _, tt := range tests {
		r := env.Do("GET", "/v1.0/users", "", nil, "Authorization", tt.header)
		if r.Status != http.StatusUnauthorized || r.ErrorCode() != "InvalidAuthenticationToken" || r.ErrorMessage() != tt.msg {
			t.Errorf("%s: GET /v1.0/users = %s, want 401 InvalidAuthenticationToken %q", tt.name, r, tt.msg)
		}
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("%s: WWW-Authenticate = %q", tt.name, r.Header.Get("WWW-Authenticate"))
		}
	}
	// Tokens expire with the server's clock.
	env.Clock.Advance(2 * time.Hour)
	if r := env.Do("GET", "/v1.0/users", good, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("token after the clock moved 2h = %d, want 401", r.Status)
	}
}

func TestRequestConventions(t *testing.T) {
	t.Parallel()
	env := setup(t)
	tok := env.AppToken()
	r := env.Do("GET", "/beta/USERS('"+testserver.Adele+"')", tok, nil, "client-request-id", "my-id-1")
	if r.Status != http.StatusOK || r.JSON()["@odata.context"] != env.URL+"/beta/$metadata#users/$entity" {
		t.Fatalf("GET /beta/USERS('id') = %s", r)
	}
	if r.Header.Get("client-request-id") != "my-id-1" || len(r.Header.Get("request-id")) != 36 {
		t.Errorf("request ids = %q / %q", r.Header.Get("request-id"), r.Header.Get("client-request-id"))
	}
	tests := []struct {
		name        string
		method      string
		path        string
		body        any
		headers     []string
		status      int
		code, msg   string
		allowHeader string
	}{
		{"unknown segment", "GET", "/v1.0/usres", nil, nil, 400, "BadRequest", "Resource not found for the segment 'usres'.", ""},
		{"unknown nested segment", "GET", "/v1.0/users/" + testserver.Adele + "/fooBar", nil, nil, 400, "BadRequest", "Resource not found for the segment 'fooBar'.", ""},
		{"wrong method", "DELETE", "/v1.0/organization", nil, nil, 405, "Request_BadRequest", "", "GET"},
		{"malformed JSON", "POST", "/v1.0/echo", `{"a":`, []string{"Content-Type", "application/json"}, 400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.", ""},
		{"trailing data", "POST", "/v1.0/echo", `{"a":1} {"b":2}`, []string{"Content-Type", "application/json"}, 400, "BadRequest", "", ""},
		{"empty body", "POST", "/v1.0/echo", "", []string{"Content-Type", "application/json"}, 400, "BadRequest", "Empty Payload. JSON content expected.", ""},
		{"not an object", "POST", "/v1.0/echo", `[1,2]`, []string{"Content-Type", "application/json"}, 400, "BadRequest", "", ""},
		{"wrong content type", "POST", "/v1.0/echo", `a=b`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "UnsupportedMediaType", "", ""},
		{"over the body limit", "POST", "/v1.0/small", `{"a":"0123456789"}`, []string{"Content-Type", "application/json"}, 413, "RequestEntityTooLarge", "The request body exceeds the maximum allowed size of 16 bytes.", ""},
		{"unknown content encoding", "POST", "/v1.0/echo", `{}`, []string{"Content-Type", "application/json", "Content-Encoding", "br"}, 415, "UnsupportedMediaType", "", ""},
		{"bad gzip", "POST", "/v1.0/echo", `{}`, []string{"Content-Type", "application/json", "Content-Encoding", "gzip"}, 400, "BadRequest", "", ""},
		{"panic", "GET", "/v1.0/boom", nil, nil, 500, "generalException", "An internal server error occurred while processing the request.", ""},
		{"store busy", "POST", "/v1.0/busy", nil, nil, 503, "serviceNotAvailable", "The service is temporarily unavailable: the request kept colliding with concurrent writes. Please retry after 1 second.", ""},
		{"no resource", "GET", "/v1.0/", nil, nil, 400, "BadRequest", "", ""},
	}
	for _, tt := range tests {
		r := env.Do(tt.method, tt.path, tok, tt.body, tt.headers...)
		if r.Status != tt.status || r.ErrorCode() != tt.code || (tt.msg != "" && r.ErrorMessage() != tt.msg) {
			t.Errorf("%s: %s %s = %s, want %d %s %q", tt.name, tt.method, tt.path, r, tt.status, tt.code, tt.msg)
			continue
		}
		inner := r.JSON()["error"].(map[string]any)["innerError"].(map[string]any)
		if inner["request-id"] != r.Header.Get("request-id") || inner["date"] == "" {
			t.Errorf("%s: innerError = %v", tt.name, inner)
		}
		if (tt.status == http.StatusServiceUnavailable) != (r.Header.Get("Retry-After") == "1") {
			t.Errorf("%s: Retry-After = %q; want 1 on 503 only", tt.name, r.Header.Get("Retry-After"))
		}
		if tt.allowHeader != "" && r.Header.Get("Allow") != tt.allowHeader {
			t.Errorf("%s: Allow = %q, want %q", tt.name, r.Header.Get("Allow"), tt.allowHeader)
		}
	}
}

func TestBodiesFromSDKs(t *testing.T) {
	t.Parallel()
	env := setup(t)
	tok := env.AppToken()
	body := `{"@odata.type":"#microsoft.graph.user","displayName":"X","nested":{"@odata.type":"#microsoft.graph.emailAddress","address":"a@b"},"list":[{"@odata.type":"t","k":1}],"p@odata.type":"#DateTimeOffset"}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(body))
	zw.Close()
	for name, req := range map[string]struct {
		body    []byte
		headers []string
	}{
		"plain":   {[]byte(body), []string{"Content-Type", "application/json; charset=utf-8"}},
		"gzipped": {gz.Bytes(), []string{"Content-Type", "application/json", "Content-Encoding", "gzip"}},
	} {
		r := env.Do("POST", "/v1.0/echo", tok, req.body, req.headers...)
		want := `{"displayName":"X","list":[{"k":1}],"nested":{"address":"a@b"}}`
		if r.Status != http.StatusOK || string(r.Body) != want {
			t.Errorf("%s: POST /echo = %s, want 200 %s", name, r, want)
		}
	}
	// A gzip bomb is cut at the limit after decompression.
	var bomb bytes.Buffer
	zw = gzip.NewWriter(&bomb)
	zw.Write([]byte(`{"a":"` + strings.Repeat("x", 5<<20) + `"}`))
	zw.Close()
	if r := env.Do("POST", "/v1.0/echo", tok, bomb.Bytes(), "Content-Type", "application/json", "Content-Encoding", "gzip"); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("gzip body over the limit once inflated = %d, want 413", r.Status)
	}
	// Exactly at the 4 MiB limit is accepted; one byte over is not.
	at := `{"a":"` + strings.Repeat("x", 4<<20-8) + `"}`
	if r := env.Do("POST", "/v1.0/echo", tok, at, "Content-Type", "application/json"); r.Status != http.StatusOK {
		t.Errorf("body of exactly 4 MiB = %d, want 200", r.Status)
	}
	if r := env.Do("POST", "/v1.0/echo", tok, at+" ", "Content-Type", "application/json"); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("body of 4 MiB + 1 = %d, want 413", r.Status)
	}
}

func TestHealthMetricsAdmin(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := env.Do("GET", p, "", nil); r.Status != http.StatusOK {
			t.Errorf("GET %s = %s", p, r)
		}
	}
	env.Do("GET", "/v1.0/users", env.AppToken(), nil)
	if r := env.Do("GET", "/metrics", "", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `graphhook_http_requests_total{api="graph",method="GET",route="users",status="200"} 1`) {
		t.Errorf("GET /metrics does not count the users request:\n%s", r.Body)
	}
	if r := env.Do("GET", "/_graphhook/ping", "wrong", nil); r.Status != http.StatusUnauthorized || r.ErrorCode() != "InvalidAuthenticationToken" {
		t.Errorf("admin API with a wrong key = %s, want 401", r)
	}
	if r := env.Do("GET", "/_graphhook/ping", env.AppToken(), nil); r.Status != http.StatusUnauthorized {
		t.Errorf("admin API with a Graph token = %d, want 401", r.Status)
	}
	if r := env.Do("GET", "/_graphhook/ping", testserver.AdminKey, nil); r.Status != http.StatusOK {
		t.Errorf("admin API with the key = %s", r)
	}
	env.Store.Close()
	if r := env.Do("GET", "/readyz", "", nil); r.Status != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz with the store closed = %d, want 503", r.Status)
	}
	_ = context.Background
}

func TestSplitPath(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"users('a b')/mailFolders('Inbox')/messages", "users|a b|mailFolders|Inbox|messages"},
		{"users(id='x')", "users|x"},
		{"users/adele%40contoso.com", "users|adele@contoso.com"},
		{"drives/d/root:/a/b.txt:/content", "drives|d|root:|a/b.txt|content"},
		{"drives/d/root:/a/b.txt", "drives|d|root:|a/b.txt"},
		{"drives/d/items/ID:/new.txt:/content", "drives|d|items|ID:|new.txt|content"},
		{"chats/19:abc@thread.v2/messages", "chats|19:abc@thread.v2|messages"},
		{"groups('it''s')", "groups|it's"},
	}
	for _, tt := range tests {
		segs, err := httpapi.SplitPath(tt.in)
		if got := strings.Join(segs, "|"); err != nil || got != tt.want {
			t.Errorf("SplitPath(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}
