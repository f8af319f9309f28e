package store

import "context"

// changeLogReadKey marks a context whose View will read the change log after other
// reads (see ReadsChangeLog).
type changeLogReadKey struct{}

// ReadsChangeLog marks ctx for a View that reads the change log (ListChanges,
// LastSeq) after other statements, as a delta request does after finding its user
// or folder: the view then sees every change committed before it began. Without
// the mark a backend whose writers commit out of seq order (PostgreSQL) may read
// the log below a bound its snapshot alone gives, which can lag behind the newest
// changes while other databases on the same server are busy; with it, the backend
// takes the bound before the view's snapshot, at the cost of one more statement
// per view. A view whose first read is of the log needs no mark.
func ReadsChangeLog(ctx context.Context) context.Context {
	return context.WithValue(ctx, changeLogReadKey{}, true)
}

// ReadingChangeLog reports whether ctx carries ReadsChangeLog's mark.
func ReadingChangeLog(ctx context.Context) bool {
	v, _ := ctx.Value(changeLogReadKey{}).(bool)
	return v
}

// internalReadKey marks a context whose View's results stay in the process (see
// ReadsForItself).
type internalReadKey struct{}

// ReadsForItself marks ctx for a View whose results stay in the process and reach
// nobody before a write of the caller's own: the dispatcher's list of due URLs,
// whose rows it claims in a write before it sends anything. A backend that answers
// a View only once every commit it may have read is durable (sqlstore's syncer)
// answers such a view at once, without waiting for a flush.
func ReadsForItself(ctx context.Context) context.Context {
	return context.WithValue(ctx, internalReadKey{}, true)
}

// ReadingForItself reports whether ctx carries ReadsForItself's mark.
func ReadingForItself(ctx context.Context) bool {
	v, _ := ctx.Value(internalReadKey{}).(bool)
	return v
}
