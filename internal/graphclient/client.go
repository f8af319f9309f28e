package graphclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config says which server to call and whom to sign in as.
type Config struct {
	// Server is the server's base URL, e.g. http://127.0.0.1:8787; required.
	Server string
	// Tenant is the tenant id or domain tokens are asked from; required.
	Tenant string
	// ClientID and ClientSecret are the app's credentials (no secret: a public client).
	ClientID     string
	ClientSecret string
	// Username and Password, when set, sign a user in for a delegated token (the
	// password grant); otherwise the token is the app's own (client credentials).
	Username string
	Password string
	// HTTP makes the requests (default a client with a 60 s timeout).
	HTTP *http.Client
}

// Client calls a Graph API with a token it gets and renews itself. It is safe for
// concurrent use.
type Client struct {
	cfg  Config
	http *http.Client

	mu sync.Mutex
	// tok is the cached token, valid until expires in the server's time.
	tok     string
	expires time.Time
	// skew is the server's time minus this machine's, from the last Date header.
	skew time.Duration
}

// New returns a client; it asks for no token before the first call.
func New(cfg Config) *Client {
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	cfg.Server = strings.TrimRight(cfg.Server, "/")
	return &Client{cfg: cfg, http: hc}
}

// Error is a Graph error envelope a server answered a call with, or, when the answer
// was not an envelope, the status text and the body.
type Error struct {
	Method, Path string
	Status       int
	Code         string
	Message      string
	// RetryAfter is the answer's Retry-After in seconds (0 when absent), as
	// throttled (429) and unavailable (503) answers carry it.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, e.Code, e.Message)
}

// Do sends body as JSON to the server's path (e.g. /v1.0/subscriptions) and decodes
// a 2xx answer into out (when not nil); a *json.RawMessage out receives the answer as
// it came, unchecked. A json.RawMessage body is sent as it is. An answer of 300 or
// more is an *Error.
//
// A 401 to a call made with a cached token is tried once more with a new token: the
// token may have expired early in the server's time (graphhook's clock can be moved
// forward), which the cache, going by this machine's time, cannot know.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var data []byte
	switch b := body.(type) {
	case nil:
	case json.RawMessage:
		// Sent as given: bench's hot path posts one prepared body many times.
		data = b
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			return err
		}
	}
	tok, cached, err := c.token(ctx)
	if err != nil {
		return err
	}
	err = c.do(ctx, method, path, tok, body != nil, data, out)
	var ge *Error
	if cached && errors.As(err, &ge) && ge.Status == http.StatusUnauthorized {
		c.forget(tok)
		if tok, _, err = c.token(ctx); err != nil {
			return err
		}
		err = c.do(ctx, method, path, tok, body != nil, data, out)
	}
	return err
}

func (c *Client) do(ctx context.Context, method, path, tok string, hasBody bool, body []byte, out any) error {
	var rd io.Reader
	if hasBody {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.Server+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	c.observe(resp)
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &env) != nil || env.Error.Code == "" {
			env.Error.Code, env.Error.Message = http.StatusText(resp.StatusCode), strings.TrimSpace(string(data))
		}
		e := &Error{Method: method, Path: path, Status: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = data
		return nil
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: unreadable answer: %w", method, path, err)
		}
	}
	return nil
}

// observe notes the server's time from an answer's Date header.
func (c *Client) observe(resp *http.Response) {
	t, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skew = time.Until(t)
}

// ServerNow is the server's time as its last answer's Date header told it (to the
// second), carried forward by this machine's clock; this machine's time before any
// answer. graphhook's Date follows its clock, which its admin API may have moved
// forward, so expiry times the server gives are compared with this, not time.Now.
func (c *Client) ServerNow() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

// forget drops tok from the cache unless another call replaced it already.
func (c *Client) forget(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok == tok {
		c.tok = ""
	}
}

// AccessToken returns the cached token, or a new one when it expires within five
// minutes: client credentials for an app, the password grant for a user.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	tok, _, err := c.token(ctx)
	return tok, err
}

// token is AccessToken that also tells whether the token came from the cache.
func (c *Client) token(ctx context.Context) (string, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Expiry is counted in the server's time: a clock moved forward there ages the
	// token here too.
	now := time.Now().Add(c.skew)
	if c.tok != "" && c.expires.Sub(now) > 5*time.Minute {
		return c.tok, true, nil
	}
	form := ClientCredentials(c.cfg.ClientID, c.cfg.ClientSecret)
	if c.cfg.Username != "" {
		form = Password(c.cfg.ClientID, c.cfg.ClientSecret, c.cfg.Username, c.cfg.Password)
	}
	if c.cfg.ClientSecret == "" {
		form.Del("client_secret")
	}
	tok, err := FetchToken(ctx, c.http, TokenEndpoint(c.cfg.Server, c.cfg.Tenant), form)
	if err != nil {
		return "", false, err
	}
	c.tok, c.expires = tok.AccessToken, time.Now().Add(c.skew).Add(tok.ExpiresIn)
	return c.tok, false, nil
}
