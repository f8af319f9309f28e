package tlsca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// DefaultNames returns the names every leaf of the HTTPS port carries: the loopback
// names a developer's app uses to reach graphhook on the same machine.
func DefaultNames() []string { return []string{"localhost", "127.0.0.1", "::1"} }

// CanonicalName returns name as certificates carry it: lower case, without a trailing
// dot, IPv6 addresses without brackets. It refuses what cannot be a host name or IP
// address, so that a bad --tls-name fails at start and not at a client's handshake.
func CanonicalName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimSuffix(strings.TrimPrefix(n, "["), "]")
	if ip := net.ParseIP(n); ip != nil {
		return ip.String(), nil
	}
	n = strings.TrimSuffix(n, ".")
	if n == "" || len(n) > 253 {
		return "", fmt.Errorf("tlsca: %q is not a host name", name)
	}
	labels := strings.Split(n, ".")
	for i, label := range labels {
		if label == "*" && i == 0 && len(labels) > 2 {
			continue // a wildcard covers one label, below a registrable name
		}
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("tlsca: %q is not a host name", name)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("tlsca: %q is not a host name", name)
			}
		}
	}
	return n, nil
}

// canonicalNames canonicalizes, sorts and de-duplicates names.
func canonicalNames(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, name := range names {
		n, err := CanonicalName(name)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Leaf returns a server certificate for names (host names or IP addresses), issued by
// the CA. It is cached, and re-issued once two thirds of its lifetime have passed.
func (ca *CA) Leaf(names ...string) (*tls.Certificate, error) {
	cn, err := canonicalNames(names)
	if err != nil {
		return nil, err
	}
	if len(cn) == 0 {
		return nil, errors.New("tlsca: a certificate needs at least one name")
	}
	key := strings.Join(cn, " ")
	now := ca.clock.Now()
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if c, ok := ca.leaves[key]; ok {
		renewAt := c.Leaf.NotAfter.Add(-c.Leaf.NotAfter.Sub(c.Leaf.NotBefore) / 3)
		if now.Before(renewAt) && !now.Before(c.Leaf.NotBefore) {
			return c, nil
		}
	}
	c, err := ca.issue(cn)
	if err != nil {
		return nil, err
	}
	ca.leaves[key] = c
	return c, nil
}

// issue signs a new leaf for the canonical names.
func (ca *CA) issue(names []string) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := ca.clock.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"graphhook"}, CommonName: names[0]},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(ca.lifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if tmpl.NotAfter.After(ca.cert.NotAfter) {
		tmpl.NotAfter = ca.cert.NotAfter
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// ServerTLSConfig returns the TLS configuration of graphhook's HTTPS port: one leaf
// for DefaultNames plus names (the --tls-name values and, so that a client that maps
// Microsoft's hosts to graphhook directly is served too, those hosts). Every
// handshake gets that leaf whatever its SNI: a client that asked for another name then
// fails with an error naming the certificate's names, which says more than a handshake
// alert would. The leaf is re-issued as it ages, without a restart. It offers h2 and
// http/1.1; serve it with http.Server.ServeTLS(l, "", "").
func (ca *CA) ServerTLSConfig(names []string) (*tls.Config, error) {
	all, err := canonicalNames(append(DefaultNames(), names...))
	if err != nil {
		return nil, err
	}
	// Issue now, so that a failure shows at start rather than at the first handshake.
	if _, err := ca.Leaf(all...); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return ca.Leaf(all...)
		},
	}, nil
}

// LoadKeyPair returns the TLS configuration for a certificate and key the operator
// brings (PEM files, the certificate file may hold the chain), for production. The
// files are read once; replace them and restart to renew.
func LoadKeyPair(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tlsca: a certificate needs both its certificate file and its key file")
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
		Certificates: []tls.Certificate{c},
	}, nil
}
