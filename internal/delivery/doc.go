// Package delivery turns committed changes into webhook POSTs, the way Microsoft
// Graph delivers change notifications (Microsoft's "Receive change notifications through webhooks"):
//
//   - the matcher (matcher.go) runs as the store's change hook, inside the
//     transaction that appends each change: it looks the change's topics up in the
//     subscription topic index, re-checks the subscribing app's permission, applies
//     changeType and $filter (entering the filter is "created", leaving it
//     "deleted"), renders the parts of each notification that do not change later,
//     and enqueues one queue row per match. A committed change therefore always has
//     its queue rows; a rolled-back one has none.
//   - the dispatcher (dispatcher.go) claims due rows per notification URL, batches
//     them into one {"value":[…]} POST (across subscriptions and tenants sharing the
//     URL), re-reads each subscription at send time (current expiry and clientState,
//     current encryption certificate for rich notifications), and records the
//     outcome. Concurrency is bounded per URL, so a slow endpoint holds only its own
//     slots.
//     Every POST goes through the egress package's clients: no redirects, at most
//     the subscription's latestSupportedTlsVersion, and in the strict profile no
//     connection to a non-public address (a refused connection is a failed POST).
//   - endpoint health (health.go) tracks slow and drop windows per URL (Microsoft's "Receive change notifications through webhooks").
//   - lifecycle notifications (lifecycle.go): missed, subscriptionRemoved,
//     reauthorizationRequired (Microsoft's "Reduce missing subscriptions and change notifications").
//   - background services (Pipeline.Services), each a service.Loop: the heartbeat,
//     the dispatcher (dispatcher.go), the reauthorization scheduler (lifecycle.go),
//     the rescuer and retention (pipeline.go). The dispatcher keeps two caches: subscriptions as
//     sent (subcache.go) and validation tokens (tokencache.go).
//
// # Queue row states
//
// A row is one notification item of a future POST. Every state write after the
// claim is guarded by "state = running", so a dispatcher that comes back after the
// rescuer moved its rows changes nothing (it may only cause a duplicate POST, which
// at-least-once delivery allows).
//
//	         enqueue (matcher, same transaction as the change)
//	            │
//	            ▼
//	┌──────▶ available ◀──────────────── release (authorization lapsed:
//	│           │                          held, attempt not counted)
//	│         claim (one transaction; attempt+1)   ▲
//	│           ▼                                  │
//	│        running ──────────────────────────────┘
//	│        │  │  │
//	│        │  │  └── 2xx in time ─────────────▶ delivered ──┐
//	│        │  └───── gave up: horizon passed,               ├─ retention prunes
//	│        │         endpoint dropping, subscription gone ─▶ discarded ──┘
//	│        └──────── failure / timeout / crash (rescuer) ─▶ retryable
//	│                                                            │
//	└─────────────── claim when due (backoff, Retry-After) ──────┘
//
// # The rescuer and node heartbeats
//
// A row stays running while its POST is in flight; if the node that claimed it dies,
// nobody else may send it until the rescuer takes it back. Nodes sharing a database
// each beat (record that they are alive) every third of HeartbeatTTL, and each claim
// names its node, so the rescuer (on the leader) takes back the rows of a node whose
// last beat is older than HeartbeatTTL: within about a lease TTL of the kill. Rows
// of a live node are left to it, except that any row running longer than RescueAfter
// is taken back whatever its node (a node that does not beat, such as the one process
// on SQLite, whose dispatcher takes back everything at its start, before it claims
// anything, or a stuck dispatcher). What
// a killed node had sent but not recorded is sent again; what it had claimed but not
// sent is sent once, by another node.
//
// A subscription deleted through the API, expired, or removed by the matcher takes
// its available and retryable rows to discarded in the deleting transaction
// (DiscardQueued, the subscriptions API's OnDelete); its running rows finish their
// POST, and a later claim discards whatever is left of them.
//
// # The delivery log, replay and faults
//
// Delivered and discarded rows stay in the queue for Config.Retention: they are the
// delivery log (log.go). The acker records one attempt per item tried in the
// transaction of its outcomes, so the log adds no commit to the dispatch path. A
// replay is a new row (ReplayOf set) rendered and encrypted at dispatch like any
// other, so it carries the subscription's current certificate and fresh validation
// tokens. Faults injected on the admin API's request (fault.go) live in the store
// for every node; the dispatcher reads them at each pass and, for a URL that has
// one, fails the POST without making it (status, timeout) or delays it (slow), and
// records the attempt as injected. Each POST also carries X-Graphhook-Attempt, the
// items' attempt numbers, which graphhook listen shows.
//
// # Endpoint health (per notification URL, Microsoft's "Receive change notifications through webhooks")
//
//	healthy ──(>10 % of responses slower than the timeout in a window)──▶ slow
//	slow    ──(window ends with <10 % slow)──────────────────────────────▶ healthy
//	any     ──(>15 % of responses slower than the retry timeout)─────────▶ drop
//	drop    ──(drop window over)─────────────────────────────────────────▶ probing
//	probing ──(a drop-class response)──▶ drop;  (ProbeSize good responses)──▶ healthy
//
// While slow, rows are claimed only once they are SlowDelay old (new notifications
// are delayed). While dropping, claimed rows are discarded and the subscriptions
// that support it get a "missed" lifecycle notification. Ratios are computed once a
// window holds MinSamples responses.
package delivery
