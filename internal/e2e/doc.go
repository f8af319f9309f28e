// Package e2e holds graphhook's cross-cutting end-to-end tests: they build the real
// binary, run `graphhook serve` on a loopback port with an embedded store, and act on
// it only as an app would, over HTTP, receiving notifications on real loopback
// webhooks through the public receiver package. Nothing a user would run is mocked,
// so these tests prove that the workloads, the subscriptions API and the delivery
// pipeline fit together on the wire.
package e2e
