package bodyrate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// server answers 200 with the body's length, or 408 when the body was too slow.
func server(t *testing.T, cfg Config, after func()) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(r.Body)
		if errors.Is(err, ErrTooSlow) {
			w.WriteHeader(http.StatusRequestTimeout)
			return
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if after != nil {
			after()
		}
		fmt.Fprint(w, len(data))
	}), cfg))
	t.Cleanup(s.Close)
	return s
}

// post sends headers for a body of size bytes, then calls write to send it, and
// returns the response's status line (or the read error).
func post(t *testing.T, s *httptest.Server, size int, write func(net.Conn)) string {
	t.Helper()
	conn, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size)
	write(conn)
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a hang fails the test
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(line)
}

func TestTrickleIsCut(t *testing.T) {
	t.Parallel()
	s := server(t, Config{Window: 300 * time.Millisecond, MinRate: 1000}, nil)
	start := time.Now()
	got := post(t, s, 1000, func(c net.Conn) { c.Write([]byte("0123456789")) })
	if got != "HTTP/1.1 408 Request Timeout" {
		t.Fatalf("trickled body: status line %q, want 408", got)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("trickled body cut after %v, want about one window", d)
	}
}

func TestSteadyBodyAboveTheRatePasses(t *testing.T) {
	t.Parallel()
	s := server(t, Config{Window: time.Second, MinRate: 1000}, nil)
	// 10,000 bytes/s for 1.5 s: every window ten times over its 1,000-byte quota, so
	// only a writer stalled for most of a second could fall under it.
	got := post(t, s, 15000, func(c net.Conn) {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for range 30 {
			c.Write([]byte(strings.Repeat("x", 500)))
			<-tick.C
		}
	})
	if got != "HTTP/1.1 200 OK" {
		t.Fatalf("steady body: status line %q, want 200", got)
	}
}

func TestLargeFastBodyPasses(t *testing.T) {
	t.Parallel()
	s := server(t, Config{}, nil)
	got := post(t, s, 8<<20, func(c net.Conn) { c.Write(make([]byte, 8<<20)) })
	if got != "HTTP/1.1 200 OK" {
		t.Fatalf("8 MiB body: status line %q, want 200", got)
	}
}

// TestDeadlineLiftedAfterBody: a handler that keeps working long after reading the
// body (three windows) still answers.
func TestDeadlineLiftedAfterBody(t *testing.T) {
	t.Parallel()
	s := server(t, Config{Window: 200 * time.Millisecond, MinRate: 1000}, func() { <-time.After(600 * time.Millisecond) })
	got := post(t, s, 5, func(c net.Conn) { c.Write([]byte("hello")) })
	if got != "HTTP/1.1 200 OK" {
		t.Fatalf("slow handler after the body: status line %q, want 200", got)
	}
}

func TestNoBodyUntouched(t *testing.T) {
	t.Parallel()
	s := server(t, Config{Window: 100 * time.Millisecond}, nil)
	resp, err := http.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET = %d, want 200", resp.StatusCode)
	}
}
