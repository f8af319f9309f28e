package proxy

import (
	"net"
	"sync"
)

// tunnels is the listener of the proxy's inner server: connect hands it each tunnel's
// TLS connection, so that the inner http.Server does everything it does for a
// listener of its own (TLS handshake, ALPN to HTTP/2, keep-alive, idle timeout,
// graceful shutdown) for the tunnels too.
type tunnels struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newTunnels() *tunnels {
	return &tunnels{conns: make(chan net.Conn), done: make(chan struct{})}
}

// push hands c to the inner server; false once the listener is closed (the caller
// then closes c).
func (t *tunnels) push(c net.Conn) bool {
	if t.closed() {
		return false
	}
	select {
	case t.conns <- c:
		return true
	case <-t.done:
		return false
	}
}

// closed reports whether Close was called.
func (t *tunnels) closed() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// Accept implements net.Listener.
func (t *tunnels) Accept() (net.Conn, error) {
	select {
	case c := <-t.conns:
		return c, nil
	case <-t.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener; it may be called more than once.
func (t *tunnels) Close() error {
	t.closeOnce.Do(func() { close(t.done) })
	return nil
}

// Addr implements net.Listener.
func (t *tunnels) Addr() net.Addr { return tunnelAddr{} }

type tunnelAddr struct{}

func (tunnelAddr) Network() string { return "tunnel" }
func (tunnelAddr) String() string  { return "graphhook-proxy" }

// prefixConn is a conn whose first bytes were already read into the outer server's
// buffer.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}
