// Package resource describes subscribable resources: one Descriptor per resource type
// (message, driveItem, chatMessage, …), written by the workload that owns the
// resource and handed by main to the subscriptions API and the delivery pipeline.
//
// A descriptor gathers every fact about a resource that the generic parts of the
// server need: the resource paths a subscription may name (and how each resolves to
// a topic key), the change types, the maximum lifetime, who may subscribe with which
// permission, the quotas, which lifecycle notifications it gets, which subscriptions
// die with a deleted object, and sample changes. The subscriptions API and the
// delivery pipeline read only descriptors, so a new resource type touches its
// workload and the list of workloads in main, nothing else.
//
// What a notification about a change says (resource, resourceData, whether a
// creation is reported as "updated", whether resource data may be attached) is
// decided per change by the change.Notice the workload records with it, so the
// delivery pipeline renders every resource the same way; a descriptor adds only
// what depends on the subscription (lifecycle events, permissions, removals).
//
// The package holds data and small pure helpers only; it imports no workload.
package resource
