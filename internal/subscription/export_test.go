package subscription

import "net/netip"

// PublicAddr exposes the strict profile's address rule to the tests.
func PublicAddr(s string) bool { return publicAddr(netip.MustParseAddr(s)) }
