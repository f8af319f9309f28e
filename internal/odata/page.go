package odata

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ParseTop parses a $top value: a positive decimal integer no greater than limit,
// the largest page the caller serves.
func ParseTop(s string, limit int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > limit || strings.IndexFunc(s, isNotDigit) >= 0 {
		return 0, &Error{
			Option:  "$top",
			Message: fmt.Sprintf("Invalid value '%s' for $top: it must be an integer from 1 to %d.", s, limit),
			Err:     err,
		}
	}
	return n, nil
}

func isNotDigit(r rune) bool { return r < '0' || r > '9' }

// maxSkipTokenLen bounds the skip tokens DecodeSkipToken reads; the ones this package
// writes are far shorter.
const maxSkipTokenLen = 4096

// EncodeSkipToken packs paging state into an opaque, URL-safe $skiptoken: v as JSON,
// in unpadded base64url. The token is not signed: state a client could tamper with
// must be checked again when decoded. v must marshal to JSON; a value that cannot is a
// programming error, and EncodeSkipToken panics.
func EncodeSkipToken(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("odata: cannot encode %T as a skip token: %v", v, err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeSkipToken unpacks a token made by EncodeSkipToken into v, a pointer. Any
// malformed token yields an *Error for the client.
func DecodeSkipToken(s string, v any) error {
	fail := func(err error) error {
		return &Error{
			Option:  "$skiptoken",
			Message: "Invalid $skiptoken: the token is malformed. Use the @odata.nextLink of the previous page as it is.",
			Err:     err,
		}
	}
	if s == "" || len(s) > maxSkipTokenLen {
		return fail(fmt.Errorf("skip token length %d", len(s)))
	}
	// Padding is not written, but accept it from clients that add it back.
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return fail(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fail(err)
	}
	return nil
}
