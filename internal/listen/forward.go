package listen

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/graphhook/graphhook/receiver"
)

type exchangeKey struct{}

// exchange is one notification request on its way through ServeHTTP: the original
// request, and the forward target's answer once onNotifications replayed it.
type exchange struct {
	r    *http.Request
	body []byte

	forwarded bool
	status    int
	header    http.Header
	answer    []byte
	err       error
}

// ServeHTTP hands the request to the receiver, which verifies and decrypts it and
// calls onNotifications; with --forward-to the target's answer replaces the
// receiver's, so that the sender sees what the app under development said.
func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("validationToken") {
		// Printed first: the server creates the subscription once it has the answer.
		if r.Method == http.MethodPost {
			l.out.linef("validation request answered")
		}
		l.handler.ServeHTTP(w, r)
		return
	}
	// One byte over the receiver's limit is enough for it to refuse the body.
	body, err := io.ReadAll(io.LimitReader(r.Body, receiver.DefaultMaxBodyBytes+1))
	if err != nil {
		http.Error(w, "cannot read the request", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	x := &exchange{r: r, body: body}
	r = r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x))
	rec := &bufferedResponse{header: http.Header{}}
	l.handler.ServeHTTP(rec, r)
	switch {
	case x.err != nil:
		fmt.Fprintf(l.stderr, "graphhook listen: forward to %s: %v; answered 502\n", l.cfg.ForwardTo, x.err)
		http.Error(w, "forward target unreachable", http.StatusBadGateway)
	case x.forwarded:
		for _, k := range []string{"Content-Type", "Retry-After"} {
			if v := x.header.Get(k); v != "" {
				w.Header().Set(k, v)
			}
		}
		w.WriteHeader(x.status)
		w.Write(x.answer)
	default:
		rec.copyTo(w)
	}
}

// onNotifications prints an accepted batch and, with --forward-to, replays the
// request it came in.
func (l *listener) onNotifications(ctx context.Context, batch []receiver.Notification) error {
	at := l.now()
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	var attemptsHeader string
	if x != nil {
		attemptsHeader = x.r.Header.Get(attemptHeader)
	}
	attempts := attemptNumbers(attemptsHeader, len(batch))
	for i, n := range batch {
		l.out.notification(at, n, attempts[i])
		switch n.LifecycleEvent {
		case receiver.LifecycleReauthorizationRequired, receiver.LifecycleSubscriptionRemoved:
			select {
			case l.lifecycle <- n.ChangeNotification:
			default: // the loop is far behind; the events queued already renew
			}
		}
	}
	if x != nil && l.cfg.ForwardTo != "" {
		l.forwardRequest(ctx, x)
	}
	return nil
}

// hopHeaders are connection-level headers a proxy does not pass on (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length"}

func (l *listener) forwardRequest(ctx context.Context, x *exchange) {
	req, err := http.NewRequestWithContext(ctx, x.r.Method, l.cfg.ForwardTo, bytes.NewReader(x.body))
	if err != nil {
		x.err = err
		return
	}
	req.Header = x.r.Header.Clone()
	for _, h := range hopHeaders {
		req.Header.Del(h)
	}
	resp, err := l.forward.Do(req)
	if err != nil {
		x.err = err
		return
	}
	defer resp.Body.Close()
	x.answer, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	x.forwarded, x.status, x.header = true, resp.StatusCode, resp.Header
	l.out.linef("  forwarded: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
}

// bufferedResponse keeps the receiver's answer until ServeHTTP knows whether the
// forward target's replaces it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(cmp.Or(b.status, http.StatusOK))
	w.Write(b.body.Bytes())
}
