// Package bodyrate cuts request bodies that arrive too slowly. net/http bounds the
// time to read a request's headers (ReadHeaderTimeout) and, with ReadTimeout, the whole
// request; but a whole-request timeout also cuts honest large uploads on slow links.
// What a server wants instead is a minimum rate: a body may take as long as it needs as
// long as it keeps moving, and a client that trickles a byte every few seconds to hold
// a connection open is cut after one window.
//
// The rule: in every window (30 s by default) the body must deliver at least
// MinRate × Window bytes (1 KiB/s by default), or the read fails with a timeout and the
// connection is closed. It is enforced with the connection's read deadline, which moves
// forward each time a window's quota is met, so nothing polls. Requests without a body
// and hijacked connections (proxy tunnels) are untouched, and responses, streaming ones
// included, are not affected: only reads have a deadline.
package bodyrate

import (
	"cmp"
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// Config sets the rule.
type Config struct {
	// Window is the span over which the rate is measured (default 30s).
	Window time.Duration
	// MinRate is the slowest accepted body, in bytes per second (default 1024).
	MinRate int
}

// Handler wraps h so that every request body obeys cfg's minimum rate.
func Handler(h http.Handler, cfg Config) http.Handler {
	cfg.Window = cmp.Or(cfg.Window, 30*time.Second)
	cfg.MinRate = cmp.Or(cfg.MinRate, 1024)
	// The bytes one window must deliver; at least one, so that a window always asks
	// for progress.
	quota := max(int64(float64(cfg.MinRate)*cfg.Window.Seconds()), 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		b := &body{ReadCloser: r.Body, rc: rc, window: cfg.Window, quota: quota}
		if b.extend() != nil {
			// The connection cannot take a deadline (HTTP/2 on some transports):
			// serve as before rather than refuse.
			h.ServeHTTP(w, r)
			return
		}
		r.Body = b
		h.ServeHTTP(w, r)
	})
}

// body counts what arrives and moves the read deadline one window ahead each time a
// window's quota is met.
type body struct {
	io.ReadCloser
	rc       *http.ResponseController
	window   time.Duration
	quota    int64
	inWindow int64
	done     bool
}

func (b *body) extend() error {
	return b.rc.SetReadDeadline(time.Now().Add(b.window))
}

// release lifts the deadline once the whole body is read, so that a handler still
// working on its response is not cut by a deadline meant for the body. A body the
// handler left unread keeps its deadline: net/http reads the rest of it before reusing
// the connection, and that read must not wait on a trickling client either (the next
// request on the connection gets deadlines of its own).
func (b *body) release() {
	if !b.done {
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	}
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.done {
		return n, err
	}
	b.inWindow += int64(n)
	if b.inWindow >= b.quota {
		b.inWindow = 0
		b.extend()
	}
	if err == io.EOF {
		b.release()
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = ErrTooSlow
	}
	return n, err
}

// ErrTooSlow is what a body read returns when the client fell below the minimum rate.
var ErrTooSlow = errors.New("request body arrived slower than the minimum rate")
