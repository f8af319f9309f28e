package odata

import "fmt"

// Error reports a query option the client got wrong. Its message is written for the
// client and can be shown as-is; the caller maps it to HTTP 400.
type Error struct {
	// Option names the query option at fault: "$filter", "$select", "$orderby", "$top"
	// or "$skiptoken".
	Option string
	// Message is the client-facing text.
	Message string
	// Err is internal detail (for instance a decoder error) for the log only.
	Err error
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

func optionError(option, prefix, format string, args ...any) *Error {
	return &Error{Option: option, Message: prefix + fmt.Sprintf(format, args...)}
}
