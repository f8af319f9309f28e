package egress_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/graphhook/graphhook/internal/egress"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want string
	}{
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"2606:4700:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""}, // NAT64 of 8.8.8.8
		{"100.63.255.255", ""},   // just below carrier-grade NAT
		{"100.128.0.0", ""},      // just above it
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"127.0.0.1", egress.ClassLoopback},
		{"127.255.255.254", egress.ClassLoopback},
		{"::1", egress.ClassLoopback},
		{"::ffff:127.0.0.1", egress.ClassLoopback}, // IPv4-mapped
		{"64:ff9b::7f00:1", egress.ClassLoopback},  // NAT64 of 127.0.0.1
		{"10.0.0.1", egress.ClassPrivate},
		{"172.16.0.1", egress.ClassPrivate},
		{"172.31.255.255", egress.ClassPrivate},
		{"192.168.1.1", egress.ClassPrivate},
		{"fc00::1", egress.ClassPrivate},
		{"fd12:3456::1", egress.ClassPrivate},
		{"100.64.0.1", egress.ClassPrivate},
		{"100.127.255.255", egress.ClassPrivate},
		{"fec0::1", egress.ClassPrivate},
		{"64:ff9b::a00:1", egress.ClassPrivate}, // NAT64 of 10.0.0.1
		{"169.254.169.254", egress.ClassLinkLocal},
		{"fe80::1", egress.ClassLinkLocal},
		{"ff02::1", egress.ClassLinkLocal},
		{"0.0.0.0", egress.ClassUnspecified},
		{"0.1.2.3", egress.ClassUnspecified},
		{"::", egress.ClassUnspecified},
		{"224.0.0.1", egress.ClassLinkLocal}, // 224.0.0.0/24 is link-local multicast
		{"233.252.0.1", egress.ClassMulticast},
		{"239.255.255.250", egress.ClassMulticast},
		{"ff05::2", egress.ClassMulticast},
		{"ff01::1", egress.ClassMulticast},
		{"255.255.255.255", egress.ClassReserved},
		{"240.0.0.1", egress.ClassReserved},
		{"198.18.0.1", egress.ClassReserved},
		{"192.0.0.8", egress.ClassReserved},
		{"2001:db8::1", egress.ClassReserved},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		if got := egress.Classify(a); got != tt.want {
			t.Errorf("Classify(%s) = %q, want %q", tt.addr, got, tt.want)
		}
		if got := egress.Public(a); got != (tt.want == "") {
			t.Errorf("Public(%s) = %v, want %v", tt.addr, got, tt.want == "")
		}
	}
	if got := egress.Classify(netip.Addr{}); got != egress.ClassInvalid {
		t.Errorf("Classify(zero Addr) = %q, want %q", got, egress.ClassInvalid)
	}
}

func TestCheckAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		address string
		class   string // "" when allowed
	}{
		{"93.184.215.14:443", ""},
		{"[2606:4700::6810:84e5]:443", ""},
		{"127.0.0.1:8080", egress.ClassLoopback},
		{"[::1]:443", egress.ClassLoopback},
		{"[::ffff:10.1.2.3]:443", egress.ClassPrivate},
		{"169.254.169.254:80", egress.ClassLinkLocal},
		{"not-an-address", egress.ClassInvalid},
	}
	for _, tt := range tests {
		err := egress.CheckAddress("tcp", tt.address, nil)
		if tt.class == "" {
			if err != nil {
				t.Errorf("CheckAddress(%q) = %v, want nil", tt.address, err)
			}
			continue
		}
		var re *egress.RefusedError
		if !errors.As(err, &re) || re.Class != tt.class || !errors.Is(err, egress.ErrRefused) {
			t.Errorf("CheckAddress(%q) = %v, want a refusal of class %s", tt.address, err, tt.class)
		}
	}
	err := egress.CheckAddress("tcp", "[::ffff:127.0.0.1]:80", nil)
	want := "egress: refusing to connect to 127.0.0.1, a loopback address: the strict profile allows only public addresses"
	if err == nil || err.Error() != want {
		t.Errorf("CheckAddress(mapped loopback) = %v, want %q", err, want)
	}
}
