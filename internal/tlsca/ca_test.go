package tlsca_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/clock"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/sqlite"
	"github.com/graphhook/graphhook/internal/tlsca"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

var t0 = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func openDir(t *testing.T, dir string, c clock.Clock) *tlsca.CA {
	t.Helper()
	ca, err := tlsca.Open(context.Background(), tlsca.Config{Dir: dir, Clock: c})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return ca
}

// verify checks that leaf is valid for name at now, issued by ca.
func verify(t *testing.T, ca *tlsca.CA, leaf *tls.Certificate, name string, now time.Time) {
	t.Helper()
	_, err := leaf.Leaf.Verify(x509.VerifyOptions{
		DNSName: name, Roots: ca.Pool(), CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		t.Errorf("leaf %v: Verify(%q) = %v, want nil", leaf.Leaf.DNSNames, name, err)
	}
}

func TestDirRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	clk := clock.NewFixed(t0)
	ca := openDir(t, dir, clk)

	if got, want := ca.Path(), filepath.Join(dir, "ca.pem"); got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
	onDisk, err := os.ReadFile(ca.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, ca.CertPEM()) {
		t.Errorf("ca.pem differs from CertPEM()")
	}
	st, err := os.Stat(filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("ca-key.pem mode = %v, want 0600", perm)
	}
	c := ca.Certificate()
	if !c.IsCA || c.NotAfter.Before(t0.Add(9*365*24*time.Hour)) {
		t.Errorf("CA certificate: IsCA %v, NotAfter %v; want a CA valid for years", c.IsCA, c.NotAfter)
	}

	// A restart finds the same CA, and its leaves verify against the first one's pool.
	again := openDir(t, dir, clk)
	if !bytes.Equal(again.CertPEM(), ca.CertPEM()) {
		t.Fatalf("reopened CA differs from the one created")
	}
	names := []string{"localhost", "127.0.0.1", "::1", "graphhook.test", "graph.microsoft.com"}
	leaf, err := again.Leaf(names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		verify(t, ca, leaf, n, t0)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "evil.example", Roots: ca.Pool(), CurrentTime: t0}); err == nil {
		t.Errorf("leaf verifies for evil.example, want a name mismatch")
	}
	if life := leaf.Leaf.NotAfter.Sub(t0); life != tlsca.DefaultLeafLifetime {
		t.Errorf("leaf lifetime = %v, want %v", life, tlsca.DefaultLeafLifetime)
	}
}

func TestLeafCacheAndRenewal(t *testing.T) {
	clk := clock.NewFixed(t0)
	ca := openDir(t, t.TempDir(), clk)
	a, err := ca.Leaf("graph.microsoft.com")
	if err != nil {
		t.Fatal(err)
	}
	// Names are canonical: case, trailing dot and order do not make a new leaf.
	b, err := ca.Leaf("GRAPH.microsoft.com.")
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("Leaf(GRAPH.microsoft.com.) issued a new leaf, want the cached one")
	}
	clk.Advance(tlsca.DefaultLeafLifetime / 2)
	if c, _ := ca.Leaf("graph.microsoft.com"); c != a {
		t.Errorf("Leaf at half its lifetime was re-issued, want the cached one")
	}
	clk.Advance(tlsca.DefaultLeafLifetime / 4) // three quarters: past two thirds
	c, err := ca.Leaf("graph.microsoft.com")
	if err != nil {
		t.Fatal(err)
	}
	if c == a {
		t.Fatalf("Leaf past two thirds of its lifetime was not re-issued")
	}
	verify(t, ca, c, "graph.microsoft.com", clk.Now().Add(tlsca.DefaultLeafLifetime-time.Minute))
}

func TestCanonicalName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"LocalHost.", "localhost"},
		{"[::1]", "::1"},
		{"0:0::1", "::1"},
		{"127.0.0.1", "127.0.0.1"},
		{"*.graphhook.test", "*.graphhook.test"},
		{"my_host.lan", "my_host.lan"},
	} {
		got, err := tlsca.CanonicalName(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("CanonicalName(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", ".", "a..b", "-a.test", "a b", "*", "*.test", "a.*.test", "http://x"} {
		if got, err := tlsca.CanonicalName(bad); err == nil {
			t.Errorf("CanonicalName(%q) = %q, nil, want an error", bad, got)
		}
	}
}

func TestConcurrentCreateInDir(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	pems := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ca, err := tlsca.Open(context.Background(), tlsca.Config{Dir: dir})
			if err != nil {
				t.Errorf("Open #%d: %v", i, err)
				return
			}
			pems[i] = ca.CertPEM()
		})
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if !bytes.Equal(pems[i], pems[0]) {
			t.Errorf("Open #%d got another CA than Open #0", i)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		t.Errorf("folder holds %v, want only ca.pem and ca-key.pem", got)
	}
}

// concurrentStoreOpen opens the CA from each store at once and checks they agree.
func concurrentStoreOpen(t *testing.T, stores []store.Store) {
	t.Helper()
	pems := make([][]byte, len(stores))
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() {
			ca, err := tlsca.Open(context.Background(), tlsca.Config{Store: st})
			if err != nil {
				t.Errorf("Open #%d: %v", i, err)
				return
			}
			if ca.Path() != "" {
				t.Errorf("Path() = %q without a folder, want \"\"", ca.Path())
			}
			pems[i] = ca.CertPEM()
		})
	}
	wg.Wait()
	for i := 1; i < len(pems); i++ {
		if pems[0] == nil || !bytes.Equal(pems[i], pems[0]) {
			t.Errorf("Open #%d got another CA than Open #0", i)
		}
	}
	// A later start (with a folder to export to) reads the same CA.
	dir := t.TempDir()
	ca, err := tlsca.Open(context.Background(), tlsca.Config{Store: stores[0], Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca.CertPEM(), pems[0]) {
		t.Errorf("a later Open got another CA")
	}
	if onDisk, _ := os.ReadFile(filepath.Join(dir, "ca.pem")); !bytes.Equal(onDisk, pems[0]) {
		t.Errorf("ca.pem in the folder differs from the stored CA")
	}
	if _, err := os.Stat(filepath.Join(dir, "ca-key.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("with a store the key was written to the folder (Stat = %v), want it only in the store", err)
	}
	var count int
	stores[0].View(context.Background(), func(tx store.Tx) error {
		count, err = tx.CountObjects(context.Background(), store.ObjectQuery{Kind: tlsca.KindCA})
		return err
	})
	if count != 1 {
		t.Errorf("store holds %d CA objects, want 1", count)
	}
}

func TestConcurrentCreateInSQLite(t *testing.T) {
	st, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	concurrentStoreOpen(t, []store.Store{st, st, st, st})
}

func TestConcurrentCreateInPostgres(t *testing.T) {
	url := pgtest.URL(t)
	var stores []store.Store
	for range 3 { // three nodes on one database
		st, err := postgres.Open(context.Background(), postgres.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	concurrentStoreOpen(t, stores)
}

func TestDirErrors(t *testing.T) {
	t.Run("certificate without key", func(t *testing.T) {
		dir := t.TempDir()
		ca := openDir(t, dir, nil)
		os.Remove(filepath.Join(dir, "ca-key.pem"))
		_, err := tlsca.Open(context.Background(), tlsca.Config{Dir: dir})
		if err == nil {
			t.Fatalf("Open with ca.pem but no ca-key.pem = nil error, want one (it must not replace a CA users may trust)")
		}
		if got, _ := os.ReadFile(ca.Path()); !bytes.Equal(got, ca.CertPEM()) {
			t.Errorf("ca.pem was changed")
		}
	})
	t.Run("garbage key", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "ca-key.pem"), []byte("not pem"), 0o600)
		if _, err := tlsca.Open(context.Background(), tlsca.Config{Dir: dir}); err == nil {
			t.Errorf("Open with a garbage ca-key.pem = nil error, want one")
		}
	})
	t.Run("key of another CA", func(t *testing.T) {
		a, b := t.TempDir(), t.TempDir()
		openDir(t, a, nil)
		openDir(t, b, nil)
		// A user-brought CA: key only in ca-key.pem, certificate in ca.pem, not matching.
		keyPEM := keyBlock(t, filepath.Join(a, "ca-key.pem"))
		os.WriteFile(filepath.Join(b, "ca-key.pem"), keyPEM, 0o600)
		if _, err := tlsca.Open(context.Background(), tlsca.Config{Dir: b}); err == nil {
			t.Errorf("Open with a key that does not match ca.pem = nil error, want one")
		}
	})
	t.Run("user-brought CA", func(t *testing.T) {
		a := t.TempDir()
		orig := openDir(t, a, nil)
		os.WriteFile(filepath.Join(a, "ca-key.pem"), keyBlock(t, filepath.Join(a, "ca-key.pem")), 0o600)
		ca := openDir(t, a, nil)
		if !bytes.Equal(ca.CertPEM(), orig.CertPEM()) {
			t.Errorf("a key-only ca-key.pem with its ca.pem did not load that CA")
		}
	})
	t.Run("nowhere", func(t *testing.T) {
		if _, err := tlsca.Open(context.Background(), tlsca.Config{}); err == nil {
			t.Errorf("Open(Config{}) = nil error, want one")
		}
	})
}

// keyBlock returns the private key block of a ca-key.pem.
func keyBlock(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			t.Fatalf("%s: no private key block", path)
		}
		if blk.Type == "PRIVATE KEY" {
			return pem.EncodeToMemory(blk)
		}
	}
}

// serveTLS serves an echo of r.Host and r.Proto with cfg on a loopback port.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}), TLSConfig: cfg}
	go srv.ServeTLS(l, "", "")
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// get fetches https://name/ from addr, trusting roots, with HTTP/2 allowed.
func get(t *testing.T, addr, name string, roots *x509.CertPool) (string, error) {
	t.Helper()
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	defer tr.CloseIdleConnections()
	host := name
	if net.ParseIP(name) != nil && net.ParseIP(name).To4() == nil {
		host = "[" + name + "]"
	}
	resp, err := (&http.Client{Transport: tr}).Get("https://" + host + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestServerTLSConfig(t *testing.T) {
	ca := openDir(t, t.TempDir(), nil)
	cfg, err := ca.ServerTLSConfig([]string{"graphhook.test", "graph.microsoft.com"})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, cfg)
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "graphhook.test", "graph.microsoft.com"} {
		got, err := get(t, addr, name, ca.Pool())
		if err != nil || got != "HTTP/2.0" {
			t.Errorf("GET https://%s/ = %q, %v, want HTTP/2.0", name, got, err)
		}
	}
	if _, err := get(t, addr, "evil.example", ca.Pool()); err == nil {
		t.Errorf("GET https://evil.example/ succeeded, want a certificate name error")
	}
	if _, err := get(t, addr, "localhost", x509.NewCertPool()); err == nil {
		t.Errorf("GET without trusting the CA succeeded, want an unknown authority error")
	}
	if _, err := ca.ServerTLSConfig([]string{"bad name"}); err == nil {
		t.Errorf("ServerTLSConfig([bad name]) = nil error, want one")
	}
}

func TestLoadKeyPair(t *testing.T) {
	ca := openDir(t, t.TempDir(), nil)
	leaf, err := ca.Leaf("localhost")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]}), 0o644)
	der, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)

	cfg, err := tlsca.LoadKeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, cfg)
	if got, err := get(t, addr, "localhost", ca.Pool()); err != nil || got != "HTTP/2.0" {
		t.Errorf("GET with the brought key pair = %q, %v, want HTTP/2.0", got, err)
	}
	if _, err := tlsca.LoadKeyPair(certFile, filepath.Join(dir, "missing.pem")); err == nil {
		t.Errorf("LoadKeyPair with a missing key file = nil error, want one")
	}
	if _, err := tlsca.LoadKeyPair(certFile, ""); err == nil {
		t.Errorf("LoadKeyPair without a key file = nil error, want one")
	}
}
