package graph

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error is an error meant for the client: an HTTP status, the Graph error code and a
// developer-facing message. httpapi writes it as the OData error envelope; any other
// error reaching httpapi is logged in full and answered with a generic 500.
type Error struct {
	Status  int
	Code    string
	Message string
	// Header holds extra response headers (WWW-Authenticate, Retry-After, Location).
	Header http.Header
	// Err is internal detail for the log; it never reaches the client.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a client error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithHeader returns e with a response header added.
func (e *Error) WithHeader(key, value string) *Error {
	if e.Header == nil {
		e.Header = http.Header{}
	}
	e.Header.Set(key, value)
	return e
}

// AsError reports whether err carries a client error, and returns it.
func AsError(err error) (*Error, bool) {
	var ge *Error
	if errors.As(err, &ge) {
		return ge, true
	}
	return nil, false
}

// Codes that several packages use. Workload-specific codes stay in their workload.
const (
	CodeBadRequest                 = "BadRequest"
	CodeInvalidRequest             = "InvalidRequest"
	CodeInvalidAuthenticationToken = "InvalidAuthenticationToken"
	CodeAccessDenied               = "accessDenied"
	CodeAuthorizationRequestDenied = "Authorization_RequestDenied"
	CodeRequestBadRequest          = "Request_BadRequest"
	CodeRequestResourceNotFound    = "Request_ResourceNotFound"
	CodeResourceNotFound           = "ResourceNotFound"
	CodeItemNotFound               = "itemNotFound"
	CodeExtensionError             = "ExtensionError"
	CodeValidationError            = "ValidationError"
	CodeRequestEntityTooLarge      = "RequestEntityTooLarge"
	CodeUnsupportedMediaType       = "UnsupportedMediaType"
	CodeGeneralException           = "generalException"
	CodePreconditionFailed         = "PreconditionFailed"
	CodeConflict                   = "Conflict"
	CodeTooManyRequests            = "TooManyRequests"
	CodeServiceNotAvailable        = "serviceNotAvailable"
	CodeSyncStateNotFound          = "syncStateNotFound"
	CodeResyncRequired             = "resyncRequired"
	CodeNotSupported               = "notSupported"
)

// ErrorBody is the OData error envelope.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the "error" member of the envelope.
type ErrorDetail struct {
	Code       string     `json:"code"`
	Message    string     `json:"message"`
	InnerError InnerError `json:"innerError"`
}

// InnerError carries the request identifiers, as Graph does.
type InnerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// NewErrorBody fills the envelope for e.
func NewErrorBody(code, message, requestID, clientRequestID string, now time.Time) ErrorBody {
	return ErrorBody{Error: ErrorDetail{
		Code:    code,
		Message: message,
		InnerError: InnerError{
			Date:            now.UTC().Format("2006-01-02T15:04:05"),
			RequestID:       requestID,
			ClientRequestID: clientRequestID,
		},
	}}
}
