package egress_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/graphhook/graphhook/internal/egress"
)

// TestStrictRefusesLoopback connects by literal address and by a name that
// resolves to loopback: the refusal happens at connect time, so both are caught.
func TestStrictRefusesLoopback(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	strict := egress.New(egress.Config{Strict: true})
	for _, host := range []string{"127.0.0.1", "localhost", "[::ffff:127.0.0.1]"} {
		resp, err := strict.For("").Post("http://"+host+port+"/hook", "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			t.Errorf("strict POST to %s = %s, want a refusal", host, resp.Status)
			continue
		}
		if !errors.Is(err, egress.ErrRefused) {
			t.Errorf("strict POST to %s = %v, want an error matching ErrRefused", host, err)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("loopback receiver got %d requests in the strict profile, want 0", n)
	}
	resp, err := egress.New(egress.Config{}).For("").Post(srv.URL+"/hook", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("dev POST = %v, want 200", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || reached.Load() != 1 {
		t.Errorf("dev POST = %d, receiver reached %d times; want 200 and 1", resp.StatusCode, reached.Load())
	}
}

func TestNoRedirectFollowed(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	t.Cleanup(target.Close)
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/hook", status)
		}))
		t.Cleanup(redirect.Close)
		resp, err := egress.New(egress.Config{}).For("v1_2").Post(redirect.URL, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("POST answered %d = %v, want the redirect itself", status, err)
		}
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Errorf("POST answered %d: status %d, want %d", status, resp.StatusCode, status)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("redirect target got %d requests, want 0", n)
	}
}

// TestTLSVersion: latestSupportedTlsVersion is the highest version offered.
func TestTLSVersion(t *testing.T) {
	t.Parallel()
	var got atomic.Uint32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(uint32(r.TLS.Version))
	}))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS10}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c := egress.New(egress.Config{RootCAs: roots})
	tests := []struct {
		version string
		want    uint16
	}{
		{"v1_3", tls.VersionTLS13},
		{"v1_2", tls.VersionTLS12},
		{"", tls.VersionTLS12},
		{"v9_9", tls.VersionTLS12},
		{"v1_1", tls.VersionTLS11},
	}
	for _, tt := range tests {
		got.Store(0)
		resp, err := c.For(tt.version).Post(srv.URL, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Errorf("For(%q).Post = %v, want 200", tt.version, err)
			continue
		}
		resp.Body.Close()
		if v := uint16(got.Load()); v != tt.want {
			t.Errorf("For(%q) negotiated %s, want %s", tt.version, tls.VersionName(v), tls.VersionName(tt.want))
		}
	}
	if _, ok := egress.TLSVersions()["v1_3"]; !ok || len(egress.TLSVersions()) != 4 {
		t.Errorf("TLSVersions() = %v, want v1_0 … v1_3", egress.TLSVersions())
	}
}
