// Package fault holds graphhook's fault tests: they build the real binary, drive it
// only through its command line and HTTP API, and kill it (SIGKILL) or stop it
// (SIGTERM) in the middle of a stream of changes, on SQLite and on two PostgreSQL
// nodes sharing one database. A loopback webhook records every notification, and the
// tests check the delivery promise a user relies on: every change the API
// acknowledged is notified at least once, and a clean stop repeats nothing.
//
// The default run is short and bounded (10 kills on SQLite, 3 on PostgreSQL). The
// soak, behind `go test -soak` or GRAPHHOOK_SOAK=1, runs 1,000 kills on SQLite and 50
// on PostgreSQL and prints kills, acknowledged changes, lost, duplicated and the
// takeover time:
//
//	GRAPHHOOK_SOAK=1 go test -count=1 -timeout 3h -run 'TestKill' -v ./internal/e2e/fault
//
// The package holds only tests; it imports nothing of graphhook but the test helper
// that starts PostgreSQL, so it keeps working while the code behind the API changes.
package fault
