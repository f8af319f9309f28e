package identity

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// OAuthError is an error answer of the identity endpoints, in Entra's JSON shape.
// Handlers fill Status, Code, Description and ErrorCodes; writeOAuthError adds the
// trace, correlation and time fields when it writes the answer.
type OAuthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
	ErrorCodes  []int  `json:"error_codes"`
	Timestamp   string `json:"timestamp"`
	TraceID     string `json:"trace_id"`
	Correlation string `json:"correlation_id"`
	ErrorURI    string `json:"error_uri,omitempty"`
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

// oauthErr builds an error with its AADSTS code; the description starts with it, as
// Entra's do (libraries show it and match on it).
func oauthErr(status int, code string, aadsts int, format string, args ...any) *OAuthError {
	return &OAuthError{
		Status: status, Code: code,
		Description: fmt.Sprintf("AADSTS%d: ", aadsts) + fmt.Sprintf(format, args...),
		ErrorCodes:  []int{aadsts},
	}
}

// errTransient answers a failure of graphhook itself; the detail stays in the log.
func errTransient() *OAuthError {
	return oauthErr(http.StatusInternalServerError, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
}

// entraTime is the form of Entra's "timestamp" field and Timestamp line.
const entraTime = "2006-01-02 15:04:05Z"

// writeOAuthError writes e as Entra does: the description ends with the Trace ID,
// Correlation ID and Timestamp lines, and the same values are fields of their own.
// The correlation id is the caller's client-request-id when it sent one; the trace id
// is new for every answer.
func writeOAuthError(w http.ResponseWriter, r *http.Request, now time.Time, e *OAuthError) {
	out := *e
	out.TraceID = uuid.NewString()
	out.Correlation = r.Header.Get("client-request-id")
	if _, err := uuid.Parse(out.Correlation); err != nil {
		out.Correlation = uuid.NewString()
	}
	out.Timestamp = now.UTC().Format(entraTime)
	out.Description += "\r\nTrace ID: " + out.TraceID + "\r\nCorrelation ID: " + out.Correlation + "\r\nTimestamp: " + out.Timestamp
	if out.ErrorCodes == nil {
		out.ErrorCodes = []int{}
	}
	if len(out.ErrorCodes) > 0 {
		out.ErrorURI = baseURL(r) + "/error?code=" + strconv.Itoa(out.ErrorCodes[0])
	}
	w.Header().Set("x-ms-request-id", out.TraceID)
	w.Header().Set("client-request-id", out.Correlation)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, out.Status, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(data)
}
