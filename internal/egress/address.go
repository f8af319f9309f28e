package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrRefused matches (errors.Is) every refusal of the strict profile's address rule.
var ErrRefused = errors.New("egress: address refused")

// RefusedError is the dialer's refusal of a non-public address.
type RefusedError struct {
	Addr netip.Addr
	// Class says why: loopback, private, link-local, unspecified, multicast,
	// reserved or invalid.
	Class string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("egress: refusing to connect to %s, a %s address: the strict profile allows only public addresses", e.Addr, e.Class)
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Address classes Classify returns; "" is a public address.
const (
	ClassLoopback    = "loopback"
	ClassPrivate     = "private"
	ClassLinkLocal   = "link-local"
	ClassUnspecified = "unspecified"
	ClassMulticast   = "multicast"
	ClassReserved    = "reserved"
	ClassInvalid     = "invalid"
)

// nonPublic are ranges the netip predicates do not cover but that never name a
// public endpoint.
var nonPublic = []struct {
	prefix netip.Prefix
	class  string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), ClassUnspecified},  // "this network" (RFC 1122); 0.x.y.z reaches the local host on Linux
	{netip.MustParsePrefix("100.64.0.0/10"), ClassPrivate},  // carrier-grade NAT (RFC 6598), private in all but name
	{netip.MustParsePrefix("192.0.0.0/24"), ClassReserved},  // IETF protocol assignments
	{netip.MustParsePrefix("198.18.0.0/15"), ClassReserved}, // benchmarking networks
	{netip.MustParsePrefix("240.0.0.0/4"), ClassReserved},   // reserved, and the broadcast address
	{netip.MustParsePrefix("fec0::/10"), ClassPrivate},      // deprecated site-local, still routed inside some networks
	{netip.MustParsePrefix("100::/64"), ClassReserved},      // discard-only
	{netip.MustParsePrefix("2001:db8::/32"), ClassReserved}, // documentation
	{netip.MustParsePrefix("64:ff9b:1::/48"), ClassPrivate}, // local-use NAT64 (RFC 8215)
}

// nat64 is the well-known NAT64 prefix: its addresses reach the IPv4 address in
// their last 32 bits, which must pass the rule itself.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Classify returns why a is not a public unicast address, or "" when it is.
func Classify(a netip.Addr) string {
	if !a.IsValid() {
		return ClassInvalid
	}
	a = a.Unmap()
	switch {
	case a.IsUnspecified():
		return ClassUnspecified
	case a.IsLoopback():
		return ClassLoopback
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return ClassLinkLocal
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return ClassMulticast
	case a.IsPrivate():
		return ClassPrivate
	}
	for _, r := range nonPublic {
		if r.prefix.Contains(a) {
			return r.class
		}
	}
	if nat64.Contains(a) {
		b := a.As16()
		return Classify(netip.AddrFrom4([4]byte(b[12:])))
	}
	return ""
}

// Public reports whether a is a routable public unicast address.
func Public(a netip.Addr) bool { return Classify(a) == "" }

// CheckAddress is the strict profile's net.Dialer Control hook. It runs after name
// resolution, for each address the dialer tries, just before the connection is
// made; its error is a *RefusedError for a non-public address.
func CheckAddress(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Class: ClassInvalid}
	}
	if class := Classify(ap.Addr()); class != "" {
		return &RefusedError{Addr: ap.Addr().Unmap(), Class: class}
	}
	return nil
}
