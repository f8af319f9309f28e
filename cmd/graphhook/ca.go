package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/tlsca"
)

// runCA prints where graphhook's CA certificate is and how to make clients trust it,
// creating the CA when there is none yet, as `graphhook serve` would.
func runCA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ca", stderr)
	var data, database, export string
	fs.StringVar(&data, "data", "./graphhook-data", "data folder; the CA is kept in <data>/tls (with --database only its certificate is)")
	fs.StringVar(&database, "database", "", "with a postgres:// URL: the CA the nodes on that database share")
	fs.StringVar(&export, "export", "", "also write the CA certificate (PEM) to this file; - writes it to stdout alone")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if data == "" && database == "" {
		return errors.New("--data or --database is needed: where the CA is kept")
	}
	cfg := tlsca.Config{}
	if data != "" {
		cfg.Dir = filepath.Join(data, "tls")
	}
	if database != "" {
		if !strings.HasPrefix(database, "postgres://") && !strings.HasPrefix(database, "postgresql://") {
			return fmt.Errorf("--database must be a postgres:// URL")
		}
		st, err := postgres.Open(ctx, postgres.Config{URL: database})
		if err != nil {
			return err
		}
		defer st.Close()
		cfg.Store = st
	}
	ca, err := tlsca.Open(ctx, cfg)
	if err != nil {
		return err
	}
	if export == "-" {
		_, err := stdout.Write(ca.CertPEM())
		return err
	}
	if export != "" {
		if err := ca.Export(export); err != nil {
			return err
		}
	}
	path := ca.Path()
	if abs, err := filepath.Abs(path); err == nil && path != "" {
		path = abs
	}
	if path == "" {
		path = export // only a store and no folder: the exported copy is the file to trust
	}
	printTrust(stdout, ca, path, export)
	return nil
}

// printTrust tells how to trust the CA whose certificate is at path.
func printTrust(w io.Writer, ca *tlsca.CA, path, export string) {
	c := ca.Certificate()
	sum := sha256.Sum256(c.Raw)
	fp := make([]string, len(sum))
	for i, b := range sum {
		fp[i] = fmt.Sprintf("%02X", b)
	}
	if path == "" {
		fmt.Fprintln(w, "CA certificate: kept in the database; write it to a file with --export FILE")
		path = "FILE"
	} else {
		fmt.Fprintf(w, "CA certificate: %s\n", path)
	}
	if export != "" && export != path {
		fmt.Fprintf(w, "exported to:    %s\n", export)
	}
	fmt.Fprintf(w, "subject:        %s\n", c.Subject.CommonName)
	fmt.Fprintf(w, "valid until:    %s\n", c.NotAfter.UTC().Format("2006-01-02"))
	fmt.Fprintf(w, "SHA-256:        %s\n", strings.Join(fp, ":"))
	fmt.Fprintf(w, `
graphhook serves HTTPS, and intercepts Microsoft's hosts in proxy mode, with
certificates from this CA. Trust it in the app's environment:

  Go, curl, Python's ssl and httpx, OpenSSL tools (replaces the system roots
  for that process; graphhook is all such an app should reach):
    export SSL_CERT_FILE=%[1]s
  Python requests:
    export REQUESTS_CA_BUNDLE=%[1]s
  Node.js (added to the built-in roots):
    export NODE_EXTRA_CA_CERTS=%[1]s
  The whole machine, Debian and Ubuntu (also .NET on Linux):
    sudo cp %[1]s /usr/local/share/ca-certificates/graphhook.crt && sudo update-ca-certificates

Then either point the app at graphhook's HTTPS port (https://localhost:8443 by
default) or leave it unchanged and set HTTPS_PROXY to graphhook's plain port
(http://127.0.0.1:8787 by default): proxy mode.
`, path)
}
