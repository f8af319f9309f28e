package subscription

import (
	"net/netip"

	"github.com/graphhook/graphhook/internal/egress"
)

// PublicAddr exposes the strict profile's address rule to the tests.
func PublicAddr(s string) bool { return egress.Public(netip.MustParseAddr(s)) }
