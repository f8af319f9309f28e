// Package odata implements the OData query options graphhook's Graph API accepts:
// $filter, $select, $orderby, $top and $skiptoken. It is pure: it parses option text
// and applies it to JSON documents (map[string]any as encoding/json decodes them), and
// does no I/O. Every parse error is an *Error whose message can go to the client as
// it is; the caller answers it with 400.
//
// A filter or an order may also be handed to the store (StoreCond, StoreOrder), which
// then filters and pages a collection in the database; the translation keeps only
// what the store evaluates with the same meaning as Match and SortDocs, and says
// when the caller must match the rest itself.
//
// # $filter
//
// A filter is compiled once by ParseFilter and matched many times: the matcher runs
// each subscription's filter against every change on its topic, so Match does no
// parsing, no reflection and, unless the filter has a lambda, no allocation. A Filter
// is immutable and safe for concurrent use.
//
// Parsing uses github.com/CiscoM31/godata's tokenizer engine and shunting-yard parser,
// with this package's own token rules and operator table (filter_parse.go says why);
// the evaluator over the resulting parse tree is ours. The subset supported is what
// Graph's change-notification and list filters use:
//
//   - comparisons eq, ne, gt, ge, lt, le, and x in (v1, v2, ...);
//   - and, or, not, parentheses; a boolean property on its own (isRead) is a condition;
//   - contains, startswith, endswith;
//   - any and all lambdas over collections, mentions/any(u: u/mentioned/user/id eq
//     '…'), nested at most two deep (each level multiplies the cost of a match by a
//     collection's size); coll/any() tests non-emptiness;
//   - property paths with '/': from/emailAddress/address;
//   - literals: strings in single quotes (a quote inside is doubled), numbers, true,
//     false, null, GUIDs, DateTimeOffset (2026-01-02T03:04:05Z) and Date (2026-01-02)
//     values, and enum members with or without their type
//     (microsoft.graph.importance'high').
//
// Not supported, and rejected with an error naming the construct: arithmetic (add,
// sub, ...), has, every other canonical function (tolower, length, year, ...), type
// casts and isof, $it and $root, parameter aliases, duration and binary literals.
// Graph itself accepts few of these in subscription filters, and each would be a
// place for our semantics to drift from Exchange's.
//
// # Case and types
//
// Graph compares the way Exchange and Entra ID do, and clients depend on it:
//
//   - Keywords and function names are case-insensitive (hasAttachments eq true AND
//     importance eq 'High' is valid), as OData 4.01 requires.
//   - Property names are matched ignoring case (IsRead eq false reads isRead), and
//     so are lambda range variables. The document's exact spelling is tried first.
//   - String comparison ignores case: eq, ne, the ordering operators, contains,
//     startswith and endswith all fold case (Unicode simple folding), so
//     importance eq 'High' matches "high". Enum members and GUIDs are strings in JSON
//     and compare the same way. No Graph property we serve needs case-sensitive
//     comparison, and a filter that matched in Graph but not here would silently lose
//     notifications, which is the worse failure.
//   - A DateTimeOffset or Date literal compares as an instant against a document
//     string holding an RFC 3339 time (any number of fractional digits; no zone
//     means UTC), so receivedDateTime ge 2026-01-01T00:00:00Z means what it says
//     whatever offset the document uses. Quoted times are plain strings.
//   - A missing property reads as null. null eq null is true; ne is the negation of
//     eq; gt, ge, lt and le are false when either side is null or the two sides are
//     of kinds that do not compare (a number and a string, say).
//   - A lambda over a missing, null or non-array property sees an empty collection:
//     any is false and all is true.
//
// # $select, $orderby, $top, $skiptoken
//
// Select keeps the named properties plus id and annotations; SortDocs sorts stably
// with the same case and time rules as filters, nulls first when ascending; ParseTop
// bounds page sizes; skip tokens are opaque base64url JSON, not signed, so whatever
// a caller keeps in one it must validate again on the way back.
package odata
