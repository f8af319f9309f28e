package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunCA(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	export := filepath.Join(t.TempDir(), "graphhook-ca.pem")
	var out, errOut bytes.Buffer
	if err := runCA(context.Background(), []string{"--data", data, "--export", export}, &out, &errOut); err != nil {
		t.Fatalf("runCA: %v (stderr %q)", err, errOut.String())
	}
	caPath := filepath.Join(data, "tls", "ca.pem")
	abs, _ := filepath.Abs(caPath)
	for _, want := range []string{
		"CA certificate: " + abs + "\n",
		"exported to:    " + export + "\n",
		"export SSL_CERT_FILE=" + abs + "\n",
		"export NODE_EXTRA_CA_CERTS=" + abs + "\n",
		"sudo cp " + abs + " /usr/local/share/ca-certificates/graphhook.crt && sudo update-ca-certificates\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("runCA output lacks %q; got:\n%s", want, out.String())
		}
	}
	pemFile, err := os.ReadFile(caPath)
	if err != nil {
		t.Fatal(err)
	}
	exported, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(exported, pemFile) || !bytes.HasPrefix(pemFile, []byte("-----BEGIN CERTIFICATE-----\n")) {
		t.Errorf("exported file differs from %s, or is not a PEM certificate", caPath)
	}

	// Run again: the same CA, printed alone with --export -.
	out.Reset()
	if err := runCA(context.Background(), []string{"--data", data, "--export", "-"}, &out, &errOut); err != nil {
		t.Fatalf("runCA --export -: %v", err)
	}
	if !bytes.Equal(out.Bytes(), pemFile) {
		t.Errorf("runCA --export - printed %q, want the CA certificate made by the first run", out.String())
	}

	if err := runCA(context.Background(), []string{"--data", data, "extra"}, &out, &errOut); err != errUsage {
		t.Errorf("runCA with an extra argument = %v, want errUsage", err)
	}
	if err := runCA(context.Background(), []string{"--data", "", "--database", ""}, &out, &errOut); err == nil {
		t.Errorf("runCA without --data and --database = nil, want an error")
	}
}
