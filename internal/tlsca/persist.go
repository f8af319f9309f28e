package tlsca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// KindCA is the store kind of the CA object (tenant ""); there is one, with id CAID.
const (
	KindCA = "tlsCA"
	CAID   = "default"
)

// File names inside Config.Dir.
const (
	CertFile = "ca.pem"
	KeyFile  = "ca-key.pem"
)

// pair is the CA as it is kept: its certificate and its PKCS#8 key, both PEM.
type pair struct {
	CertPEM []byte `json:"certPem"`
	KeyPEM  []byte `json:"keyPem"`
}

func encodePair(certDER []byte, key crypto.Signer) (pair, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return pair{}, fmt.Errorf("tlsca: %w", err)
	}
	return pair{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// parse checks that the pair is a CA certificate and the key that goes with it.
func (p pair) parse() (*x509.Certificate, crypto.Signer, error) {
	cb, _ := pem.Decode(p.CertPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, nil, errors.New("tlsca: the CA certificate is not a PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: CA certificate: %w", err)
	}
	if !cert.IsCA {
		return nil, nil, errors.New("tlsca: the CA certificate is not a CA certificate (basic constraints)")
	}
	kb, _ := pem.Decode(p.KeyPEM)
	if kb == nil {
		return nil, nil, errors.New("tlsca: the CA key is not PEM")
	}
	var k any
	switch kb.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(kb.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	default:
		err = fmt.Errorf("PEM block %q is not a private key", kb.Type)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: CA key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("tlsca: the CA key cannot sign")
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, nil, errors.New("tlsca: the CA key does not belong to the CA certificate")
	}
	return cert, signer, nil
}

// loadFromStore returns the stored CA, or stores a new one. The key is made outside
// the transaction (Update's fn does store work only); inside it, whoever inserts first
// wins and everyone else reads the winner's, so nodes starting together agree.
func loadFromStore(ctx context.Context, st store.Store, now time.Time) (pair, error) {
	fresh, err := newPair(now)
	if err != nil {
		return pair{}, err
	}
	data, _ := json.Marshal(fresh)
	var got pair
	update := func() error {
		return st.Update(ctx, func(tx store.Tx) error {
			o, err := tx.GetObject(ctx, "", KindCA, CAID)
			if errors.Is(err, store.ErrNotFound) {
				got = fresh
				return tx.InsertObject(ctx, &store.Object{Kind: KindCA, ID: CAID, Data: data, Created: now, Updated: now})
			}
			if err != nil {
				return err
			}
			got = pair{}
			return json.Unmarshal(o.Data, &got)
		})
	}
	err = update()
	if errors.Is(err, store.ErrConflict) {
		// Another node inserted between our read and our insert; its CA is the one.
		err = update()
	}
	if err != nil {
		return pair{}, fmt.Errorf("tlsca: CA in the store: %w", err)
	}
	return got, nil
}

// loadFromDir reads Dir/ca-key.pem and Dir/ca.pem, or creates them.
//
// A new CA is written to ca-key.pem in one atomic step, the key followed by the
// certificate, and linked into place only if no such file exists: two processes
// starting on a fresh folder cannot end up with a key and a certificate that do not
// match. ca.pem is then (re)written from it. A ca-key.pem holding only a key (a CA the
// user brought) takes its certificate from ca.pem.
func loadFromDir(dir string, now time.Time) (pair, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return pair{}, fmt.Errorf("tlsca: %w", err)
	}
	keyPath := filepath.Join(dir, KeyFile)
	p, err := readDir(dir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return p, err
	}
	if _, err := os.Stat(filepath.Join(dir, CertFile)); err == nil {
		// Another process starting on the same folder may have created both
		// since: it links ca-key.pem before it writes ca.pem, so read again before
		// taking ca.pem for a certificate without its key.
		if p, err := readDir(dir); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return p, err
		}
		return pair{}, fmt.Errorf("tlsca: %s exists but %s does not; remove %s to create a new CA (and trust the new one)",
			filepath.Join(dir, CertFile), keyPath, filepath.Join(dir, CertFile))
	}
	fresh, err := newPair(now)
	if err != nil {
		return pair{}, err
	}
	tmp, err := os.CreateTemp(dir, ".ca-key-*.pem")
	if err != nil {
		return pair{}, fmt.Errorf("tlsca: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; the key never sits in a readable file.
	_, err = tmp.Write(append(append([]byte(nil), fresh.KeyPEM...), fresh.CertPEM...))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return pair{}, fmt.Errorf("tlsca: %w", err)
	}
	if err := os.Link(tmp.Name(), keyPath); err != nil && !errors.Is(err, fs.ErrExist) {
		return pair{}, fmt.Errorf("tlsca: %w", err)
	}
	// Ours or, when another process linked first, theirs.
	return readDir(dir)
}

// readDir reads the CA from dir; fs.ErrNotExist when ca-key.pem is missing.
func readDir(dir string) (pair, error) {
	keyPath := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(keyPath)
	if err != nil {
		return pair{}, fmt.Errorf("tlsca: %w", err)
	}
	var p pair
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		enc := pem.EncodeToMemory(blk)
		switch {
		case blk.Type == "CERTIFICATE" && p.CertPEM == nil:
			p.CertPEM = enc
		case blk.Type != "CERTIFICATE" && p.KeyPEM == nil:
			p.KeyPEM = enc
		}
	}
	if p.KeyPEM == nil {
		return pair{}, fmt.Errorf("tlsca: %s holds no PEM private key", keyPath)
	}
	if p.CertPEM == nil {
		certPath := filepath.Join(dir, CertFile)
		p.CertPEM, err = os.ReadFile(certPath)
		if errors.Is(err, fs.ErrNotExist) {
			return pair{}, fmt.Errorf("tlsca: %s holds a key but neither it nor %s a certificate", keyPath, certPath)
		}
		if err != nil {
			return pair{}, fmt.Errorf("tlsca: %w", err)
		}
	}
	if _, _, err := p.parse(); err != nil {
		return pair{}, fmt.Errorf("%w (in %s)", err, dir)
	}
	return p, nil
}

// writeCert makes sure dir/ca.pem holds certPEM, replacing it atomically when it
// differs, and returns its path.
func writeCert(dir string, certPEM []byte) (string, error) {
	path := filepath.Join(dir, CertFile)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, certPEM) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("tlsca: %w", err)
	}
	if err := writeFileAtomic(path, certPEM, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// Export writes the CA certificate (PEM) to file, replacing it atomically.
func (ca *CA) Export(file string) error {
	return writeFileAtomic(file, ca.certPEM, 0o644)
}

func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	return nil
}
