// Package rest is the toolkit every workload's Graph handlers are built from: the
// handler skeleton (a read or write transaction for one request, then the entity or
// collection written with its @odata.context), the OData query options a collection
// takes ($top, $skip, $skiptoken, $select), permission checks with Graph's wording,
// and the decoding of stored documents.
//
// Handlers return errors rather than writing them: a *graph.Error returned from here
// or from the transaction reaches httpapi, which writes the Graph error envelope.
package rest
