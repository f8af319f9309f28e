// Package egress builds the HTTP clients for every request graphhook makes to an
// app's endpoint: the validation handshake and the notification POSTs. Having one
// factory keeps the outbound rules in one place, so that no path can forget them:
//
//   - redirects are never followed: a 3xx is the endpoint's answer, so a
//     subscription cannot be pointed at another host through a redirect;
//   - no proxy from the environment: the address check must see the endpoint's
//     address, not a proxy's;
//   - the highest TLS version offered is the subscription's
//     latestSupportedTlsVersion (v1_0 … v1_3, default v1_2), and older versions stay
//     allowed down to TLS 1.0, since an endpoint that declares v1_0 must be
//     reachable;
//   - in the strict profile, the dialer refuses loopback, private, link-local,
//     unspecified, multicast and reserved addresses when it connects, after name
//     resolution, on the address actually dialled, so a DNS name that resolves (or
//     re-resolves) to an inside address is caught as surely as a literal one.
package egress
