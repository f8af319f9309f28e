package resource

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

// Resolver is what a Path's Resolve reads the store with, for one caller. The
// caller of Resolve (the subscriptions API) sets the error constructors, so that
// resolve functions produce that API's error shapes.
type Resolver struct {
	Ctx       context.Context
	Tx        store.Tx
	Principal *identity.Principal
	// Resource is the resource string as the client sent it.
	Resource string
	// NotFoundError makes the error for a resource that does not exist.
	NotFoundError func(msg string) error
	// InvalidError makes the error for a resource that exists but cannot be
	// watched.
	InvalidError func(msg string) error
}

// NotFound is the error for a resource that does not exist.
func (r *Resolver) NotFound(format string, args ...any) error {
	return r.NotFoundError(fmt.Sprintf(format, args...))
}

// Invalid is the error for a resource that exists but cannot be watched.
func (r *Resolver) Invalid(format string, args ...any) error {
	return r.InvalidError(fmt.Sprintf(format, args...))
}

// Object finds a live object of the caller's tenant by id (as given, then
// lower-cased, since directory and Teams ids are stored lower-case) and, when owner
// is set, checks that it belongs there; notFound (with %s for the id) is the
// message when it does not.
func (r *Resolver) Object(kind, id, owner, notFound string) (store.Object, error) {
	o, err := r.Tx.GetObject(r.Ctx, r.Principal.TenantID, kind, id)
	if errors.Is(err, store.ErrNotFound) && strings.ToLower(id) != id {
		o, err = r.Tx.GetObject(r.Ctx, r.Principal.TenantID, kind, strings.ToLower(id))
	}
	if err == nil && (o.Deleted || (owner != "" && o.Owner != owner)) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return o, r.NotFound(notFound, id)
	}
	return o, err
}
