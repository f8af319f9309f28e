package subscription

import (
	"fmt"
	"net/http"

	"github.com/graphhook/graphhook/internal/graph"
)

// Operations named in ExtensionError messages.
const (
	opCreate = "Create"
	opGet    = "Get"
	opUpdate = "Update"
	opDelete = "Delete"
)

// Messages Graph sends, word for word (Microsoft's "Create subscription" and "Receive change notifications through webhooks").
const (
	msgPayload            = "Could not process subscription creation payload. Are all property names spelled and camelCased properly?"
	msgExpirationRequired = "expirationDateTime is a required property for subscription creation"
	msgTimedOut           = "Subscription validation request timed out."
	msgNot200             = "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."
	msgMismatch           = "Subscription validation request failed. Response must exactly match validationToken query parameter."
	msgPatchNeedsProperty = "Subscription must contain either the 'expirationDateTime' or 'notificationUrl' property and its value."
	msgNotFound           = "The object was not found."
	msgTeamsLifecycle     = "lifecycleNotificationUrl is a required property for subscription creation on this resource when the expirationDateTime value is set to greater than 1 hour."
)

func invalidRequest(format string, args ...any) *graph.Error {
	return graph.Errorf(http.StatusBadRequest, graph.CodeInvalidRequest, format, args...)
}

// extensionError is Graph's form for failures reported by the resource's workload:
// the outer status equals the inner one.
func extensionError(status int, op, statusName, reason string) *graph.Error {
	return graph.Errorf(status, graph.CodeExtensionError, "Operation: %s; Exception: [Status Code: %s; Reason: %s]", op, statusName, reason)
}

// accessDenied is Graph's 403 with its reason (see denied.go for the reasons).
func accessDenied(op, reason string) *graph.Error {
	return extensionError(http.StatusForbidden, op, "Forbidden", reason)
}

// quotaExceeded names the limit that was hit, as Microsoft's "Create subscription" asks.
func quotaExceeded(op, format string, args ...any) *graph.Error {
	return extensionError(http.StatusForbidden, op, "Forbidden", fmt.Sprintf(format, args...))
}

func subscriptionNotFound() *graph.Error {
	return graph.Errorf(http.StatusNotFound, graph.CodeResourceNotFound, msgNotFound)
}
