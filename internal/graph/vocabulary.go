package graph

import (
	"net/http"
	"strings"
)

// Graph's recurring error texts, one function each, so that every workload answers
// a given mistake in the same words. Texts specific to one resource stay with the
// workload that owns it.

// BadRequest is the generic 400 with code BadRequest.
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, CodeBadRequest, format, args...)
}

// MissingPermissions is the 403 of an API whose permissions the caller lacks. need is
// the list any one of which would do, have the permissions the token carries (sorted);
// delegated callers are told about scopes, applications about roles.
func MissingPermissions(delegated bool, need, have []string) *Error {
	what := "role"
	if delegated {
		what = "scope"
	}
	return Errorf(http.StatusForbidden, "Forbidden", "Missing %s permissions on the request. API requires one of '%s'. %ss on the request '%s'.",
		what, strings.Join(need, ", "), strings.ToUpper(what[:1])+what[1:], strings.Join(have, ", "))
}

// Exchange error codes, answered by the Outlook and group conversation APIs.
const (
	CodeExchangeItemNotFound    = "ErrorItemNotFound"
	CodeExchangeAccessDenied    = "ErrorAccessDenied"
	CodeExchangeInvalidProperty = "ErrorInvalidProperty"
	CodeExchangeInvalidRequest  = "ErrorInvalidRequest"
)

// ExchangeAccessDenied is Exchange's 403, for a missing permission or a mailbox or
// group the caller may not reach.
func ExchangeAccessDenied() *Error {
	return Errorf(http.StatusForbidden, CodeExchangeAccessDenied, "Access is denied. Check credentials and try again.")
}

// ExchangeItemNotFound is Exchange's 404 for an item, folder or post that does not
// exist (or belongs to another mailbox or group).
func ExchangeItemNotFound() *Error {
	return Errorf(http.StatusNotFound, CodeExchangeItemNotFound, "The specified object was not found in the store.")
}

// ExchangeInvalidProperty is Exchange's 400 for a property of the wrong name or shape.
func ExchangeInvalidProperty(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, CodeExchangeInvalidProperty, format, args...)
}

// ExchangeInvalidRequest is Exchange's 400 for a request that is well formed but
// cannot be carried out.
func ExchangeInvalidRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, CodeExchangeInvalidRequest, format, args...)
}

// SharePointAccessDenied is the 403 of the SharePoint and OneDrive APIs.
func SharePointAccessDenied() *Error {
	return Errorf(http.StatusForbidden, CodeAccessDenied, "Access denied. You do not have permission to perform this action or access this resource.")
}

// SharePointInvalidRequest is the 400 of the SharePoint and OneDrive APIs.
func SharePointInvalidRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "invalidRequest", format, args...)
}
