// Package sqlstore implements the store contract once, in SQL that both backends
// understand; internal/store/sqlite and internal/store/postgres supply the connection,
// the dialect (placeholders, schema, error translation) and their own tuning (group
// commit on SQLite, LISTEN/NOTIFY on PostgreSQL).
//
// Statements are written with '?' placeholders and rebound to '$n' for PostgreSQL once,
// when first prepared.
package sqlstore
