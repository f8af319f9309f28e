package httpapi

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/bodyrate"
	"github.com/graphhook/graphhook/internal/docjson"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
)

// HandlerFunc serves one Graph (or admin) request. It returns an error instead of
// writing one: a *graph.Error is written as the Graph error envelope, anything else as
// a generic 500 (and logged in full).
type HandlerFunc func(c *Ctx) error

// Ctx is one request as a handler sees it.
type Ctx struct {
	W http.ResponseWriter
	R *http.Request
	// Principal is the caller; nil on routes without authentication.
	Principal *identity.Principal
	// Version is "v1.0" or "beta"; "" outside the Graph API.
	Version string
	// Segments is the request path after the version, split by SplitPath, with /me
	// already replaced by users/{id}.
	Segments []string
	// Me is true when the request came in through the /me alias.
	Me bool
	// Now is the request's time, from the server's clock.
	Now             time.Time
	RequestID       string
	ClientRequestID string

	route   *Route
	params  []string
	srv     *Server
	query   url.Values
	written bool
}

// Param returns the value captured by {name} in the route pattern.
func (c *Ctx) Param(name string) string {
	for i, n := range c.route.names {
		if n == name && i < len(c.params) {
			return c.params[i]
		}
	}
	return ""
}

// Query returns a query parameter. OData system options match case-insensitively
// ($TOP, $top) and also without the '$' (Graph v1.0 accepts both).
func (c *Ctx) Query(name string) string {
	if c.query == nil {
		c.query = c.R.URL.Query()
	}
	if v, ok := c.query[name]; ok && len(v) > 0 {
		return v[0]
	}
	bare := strings.TrimPrefix(name, "$")
	for k, v := range c.query {
		kb := strings.TrimPrefix(k, "$")
		if strings.EqualFold(kb, bare) && len(v) > 0 && (strings.HasPrefix(name, "$") || !strings.HasPrefix(k, "$")) {
			return v[0]
		}
	}
	return ""
}

// HasQuery reports whether the query parameter is present (see Query for matching).
func (c *Ctx) HasQuery(name string) bool {
	if c.query == nil {
		c.query = c.R.URL.Query()
	}
	bare := strings.TrimPrefix(name, "$")
	for k := range c.query {
		if strings.EqualFold(strings.TrimPrefix(k, "$"), bare) {
			return true
		}
	}
	return false
}

// ServiceRoot is the absolute URL of the API version the request used, e.g.
// http://127.0.0.1:8787/v1.0.
func (c *Ctx) ServiceRoot() string { return c.PublicURL() + "/" + c.Version }

// PublicURL is the server's base URL as this request should see it: Graph's own
// (https://graph.microsoft.com) for a request that came through the proxy front, the
// configured public URL when one was given, and otherwise the scheme and host the
// client used, so that links served over HTTPS stay on HTTPS.
func (c *Ctx) PublicURL() string { return c.srv.baseURL(c.R) }

// ContextURL returns the @odata.context value for a metadata fragment, e.g.
// ContextURL("users/$entity").
func (c *Ctx) ContextURL(fragment string) string {
	return c.ServiceRoot() + "/$metadata#" + fragment
}

// RequestURL is the absolute URL of the request as the client sent it.
func (c *Ctx) RequestURL() string {
	return c.PublicURL() + c.R.URL.RequestURI()
}

// LinkWith returns the request's absolute URL with the given query parameters set
// (replacing ones of the same name, ignoring case and '$'), for @odata.nextLink and
// @odata.deltaLink.
func (c *Ctx) LinkWith(set map[string]string) string {
	q := c.R.URL.Query()
	for name := range set {
		bare := strings.TrimPrefix(name, "$")
		for k := range q {
			if strings.EqualFold(strings.TrimPrefix(k, "$"), bare) {
				q.Del(k)
			}
		}
	}
	for name, v := range set {
		if v != "" {
			q.Set(name, v)
		}
	}
	u := c.PublicURL() + c.R.URL.EscapedPath()
	if enc := q.Encode(); enc != "" {
		u += "?" + strings.ReplaceAll(enc, "%24", "$")
	}
	return u
}

// Body reads the whole request body within the route's size limit, undoing
// Content-Encoding: gzip.
func (c *Ctx) Body() ([]byte, error) {
	r, err := c.BodyReader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// BodyReader streams the request body within the route's size limit, undoing
// Content-Encoding: gzip, for handlers that must not hold a large body whole in
// memory. Its read errors are Graph errors, the same Body returns: 413 past the
// limit, 400 for a body that cannot be read. The caller closes it.
func (c *Ctx) BodyReader() (io.ReadCloser, error) {
	limit := c.route.Options.MaxBody
	if limit <= 0 {
		limit = c.srv.cfg.MaxBody
	}
	br := &bodyReader{limit: limit}
	switch enc := strings.ToLower(strings.TrimSpace(c.R.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		br.r = c.R.Body
	case "gzip":
		zr, err := gzip.NewReader(c.R.Body)
		if err != nil {
			return nil, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "The request body is not valid gzip: %v", err)
		}
		br.r, br.close = zr, zr.Close
	default:
		return nil, graph.Errorf(http.StatusUnsupportedMediaType, graph.CodeUnsupportedMediaType, "Content-Encoding '%s' is not supported; send the body plain or gzip-compressed.", enc)
	}
	return br, nil
}

// bodyReader counts what it passes on and turns read errors into Graph errors.
type bodyReader struct {
	r     io.Reader
	close func() error
	limit int64
	n     int64
}

func (b *bodyReader) Read(p []byte) (int, error) {
	// Read one byte past the limit, so that a body of exactly the limit passes
	// and a longer one is refused.
	if rest := b.limit + 1 - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.limit {
		return n, tooLarge(b.limit)
	}
	if err != nil && err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return n, tooLarge(b.limit)
		}
		if errors.Is(err, bodyrate.ErrTooSlow) {
			return n, graph.Errorf(http.StatusRequestTimeout, "RequestTimeout", "The request body arrived slower than the server's minimum rate; the connection is closed.")
		}
		return n, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "The request body could not be read: %v", err)
	}
	return n, err
}

func (b *bodyReader) Close() error {
	if b.close != nil {
		return b.close()
	}
	return nil
}

func tooLarge(limit int64) error {
	return graph.Errorf(http.StatusRequestEntityTooLarge, graph.CodeRequestEntityTooLarge, "The request body exceeds the maximum allowed size of %d bytes.", limit)
}

// checkJSONContentType refuses bodies that are not declared as JSON.
func (c *Ctx) checkJSONContentType() error {
	ct := c.R.Header.Get("Content-Type")
	if ct == "" {
		return nil // Graph tolerates a missing content type on JSON endpoints.
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return graph.Errorf(http.StatusUnsupportedMediaType, graph.CodeUnsupportedMediaType, "A supported MIME type could not be found that matches the content type of the response. None of the supported type(s) 'application/json' matches the content type '%s'.", ct)
	}
	return nil
}

// Decode reads a JSON request body into v.
func (c *Ctx) Decode(v any) error {
	if err := c.checkJSONContentType(); err != nil {
		return err
	}
	data, err := c.Body()
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Empty Payload. JSON content expected.")
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	if dec.More() {
		return graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Unable to read JSON request payload: unexpected data after the JSON value.")
	}
	return nil
}

// DecodeObject reads a JSON object body. Instance annotations (keys containing '@',
// like the "@odata.type" the Graph SDKs add) are kept; use StripAnnotations to drop
// them.
func (c *Ctx) DecodeObject() (map[string]any, error) {
	var m map[string]any
	if err := c.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "Unable to read JSON request payload: a JSON object is expected.")
	}
	return m, nil
}

// StripAnnotations removes instance annotations ("@odata.type", "prop@odata.type")
// from an object, recursively, and returns it.
func StripAnnotations(m map[string]any) map[string]any {
	for k, v := range m {
		if strings.Contains(k, "@") {
			delete(m, k)
			continue
		}
		switch vv := v.(type) {
		case map[string]any:
			StripAnnotations(vv)
		case []any:
			for _, e := range vv {
				if em, ok := e.(map[string]any); ok {
					StripAnnotations(em)
				}
			}
		}
	}
	return m
}

// JSON writes v with status.
func (c *Ctx) JSON(status int, v any) error {
	data, err := docjson.Marshal(v)
	if err != nil {
		return err
	}
	return c.EncodedJSON(status, data)
}

// EncodedJSON is JSON for a value already encoded.
func (c *Ctx) EncodedJSON(status int, data []byte) error {
	c.W.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")
	c.W.WriteHeader(status)
	c.written = true
	_, err := c.W.Write(data)
	return err
}

// NoContent writes 204.
func (c *Ctx) NoContent() error {
	c.W.WriteHeader(http.StatusNoContent)
	c.written = true
	return nil
}

// Write writes a raw body (downloads).
func (c *Ctx) Write(status int, contentType string, body []byte) error {
	if contentType != "" {
		c.W.Header().Set("Content-Type", contentType)
	}
	c.W.WriteHeader(status)
	c.written = true
	_, err := c.W.Write(body)
	return err
}
