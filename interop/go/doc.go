// Package interop runs Microsoft's own Go libraries (azidentity, msgraph-sdk-go and MSAL
// for Go) against a real graphhook binary, to show that an app written for Microsoft
// Graph works against graphhook unchanged (proxy mode) or with only the options the
// libraries document (direct HTTPS mode).
//
// It is a module of its own so that graphhook does not depend on the SDKs. The tests
// refuse to run outside a network namespace that has only loopback: scripts/interop.sh
// builds the test binary and runs it inside one.
package interop
