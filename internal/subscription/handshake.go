package subscription

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/egress"
	"github.com/graphhook/graphhook/internal/graph"
)

// tlsVersions are the values latestSupportedTlsVersion accepts.
var tlsVersions = egress.TLSVersions()

// defaultTLSVersion is latestSupportedTlsVersion when the client sets none.
const defaultTLSVersion = egress.DefaultTLSVersion

// Handshaker performs the endpoint validation handshake of Microsoft's "Receive change notifications through webhooks": it POSTs to the
// URL with a validationToken query parameter and checks that the endpoint answers 200
// with the decoded token as its body, within the time limit.
//
// Its requests go through the egress package's clients, like every request to an
// app: no redirect is followed (a 3xx is a failed validation), at most the
// subscription's TLS version is offered, and in the strict profile loopback, private
// and link-local addresses are refused when connecting, after name resolution. It
// reads at most MaxBody bytes of the answer.
type Handshaker struct {
	timeout time.Duration
	maxBody int64
	clients *egress.Clients
}

// NewHandshaker returns a handshaker for cfg (defaults applied).
func NewHandshaker(cfg Config) *Handshaker {
	cfg = cfg.withDefaults()
	return &Handshaker{
		timeout: cfg.HandshakeTimeout,
		maxBody: cfg.HandshakeMaxBody,
		clients: egress.New(egress.Config{Strict: cfg.Profile == ProfileStrict, RootCAs: cfg.RootCAs}),
	}
}

// NewToken returns a validation token in the form Graph sends (Microsoft's "Receive change notifications through webhooks").
func NewToken() string {
	return "Validation: Testing client application reachability for subscription Request-Id: " + uuid.NewString()
}

// ValidationURL returns target with the validationToken query parameter added
// (after '&' when target already has a query).
func ValidationURL(target, token string) string {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	if strings.HasSuffix(target, "?") || strings.HasSuffix(target, "&") {
		sep = ""
	}
	return target + sep + "validationToken=" + url.QueryEscape(token)
}

// Validate runs the handshake against target with a fresh token. tlsVersion is the
// subscription's latestSupportedTlsVersion ("" for the default). The error is a
// *graph.Error with the message of Microsoft's "Create subscription" for the failure; internal detail (why
// the connection failed) is kept in its Err for the log.
func (h *Handshaker) Validate(ctx context.Context, target, tlsVersion string) error {
	client := h.clients.For(tlsVersion)
	token := NewToken()
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ValidationURL(target, token), http.NoBody)
	if err != nil {
		return failed(msgNot200, err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("User-Agent", "graphhook-validation")
	resp, err := client.Do(req)
	if err != nil {
		if timedOut(ctx, err) {
			return &graph.Error{Status: http.StatusBadRequest, Code: graph.CodeInvalidRequest, Message: msgTimedOut, Err: err}
		}
		return failed(msgNot200, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return failed(msgNot200, fmt.Errorf("endpoint answered %s", resp.Status))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, h.maxBody+1))
	if err != nil {
		if timedOut(ctx, err) {
			return &graph.Error{Status: http.StatusBadRequest, Code: graph.CodeInvalidRequest, Message: msgTimedOut, Err: err}
		}
		return failed(msgNot200, err)
	}
	if !bytes.Equal(body, []byte(token)) {
		return failed(msgMismatch, fmt.Errorf("endpoint answered %d bytes that are not the token", len(body)))
	}
	return nil
}

func failed(msg string, err error) *graph.Error {
	return &graph.Error{Status: http.StatusBadRequest, Code: graph.CodeValidationError, Message: msg, Err: err}
}

func timedOut(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
