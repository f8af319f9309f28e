package rest

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
)

// QueryError turns a query option error from package odata into Graph's 400; other
// errors pass through.
func QueryError(err error) error {
	var oe *odata.Error
	if errors.As(err, &oe) {
		return &graph.Error{Status: http.StatusBadRequest, Code: graph.CodeBadRequest, Message: oe.Message, Err: err}
	}
	return err
}

// Top reads $top: def when absent, otherwise an integer from 1 to limit.
func Top(c *httpapi.Ctx, def, limit int) (int, error) {
	return TopAs(c, def, limit, graph.BadRequest)
}

// TopAs is Top for services that answer a bad query option with their own 400, such
// as graph.SharePointInvalidRequest.
func TopAs(c *httpapi.Ctx, def, limit int, bad func(format string, args ...any) *graph.Error) (int, error) {
	s := c.Query("$top")
	if s == "" {
		return def, nil
	}
	n, err := odata.ParseTop(s, limit)
	if err != nil {
		return 0, bad("%s", err.Error())
	}
	return n, nil
}

// Skip reads $skip: 0 when absent, otherwise a non-negative integer.
func Skip(c *httpapi.Ctx) (int, error) {
	s := c.Query("$skip")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, graph.BadRequest("Invalid value '%s' for $skip: it must be a non-negative integer.", s)
	}
	return n, nil
}

// SkipToken decodes $skiptoken into v, a pointer, and reports whether the request
// carried one; v is left alone when it did not.
func SkipToken(c *httpapi.Ctx, v any) (bool, error) {
	return SkipTokenAs(c, v, graph.BadRequest)
}

// SkipTokenAs is SkipToken answering a malformed token with bad (see TopAs).
func SkipTokenAs(c *httpapi.Ctx, v any, bad func(format string, args ...any) *graph.Error) (bool, error) {
	s := c.Query("$skiptoken")
	if s == "" {
		return false, nil
	}
	if err := odata.DecodeSkipToken(s, v); err != nil {
		return true, bad("%s", err.Error())
	}
	return true, nil
}

// NextSkip is the @odata.nextLink of the page that starts at offset skip.
func NextSkip(c *httpapi.Ctx, skip int) string {
	return c.LinkWith(map[string]string{"$skip": strconv.Itoa(skip)})
}

// NextToken is the @odata.nextLink that carries v as its $skiptoken.
func NextToken(c *httpapi.Ctx, v any) string {
	return c.LinkWith(map[string]string{"$skiptoken": odata.EncodeSkipToken(v)})
}

// Fields reads $select: nil when absent (every property).
func Fields(c *httpapi.Ctx) ([]string, error) { return option(c, "$select", odata.ParseSelect) }

// Filter reads $filter: nil when absent.
func Filter(c *httpapi.Ctx) (*odata.Filter, error) { return option(c, "$filter", odata.ParseFilter) }

// option parses the query option name when present, answering a bad one with 400.
func option[T any](c *httpapi.Ctx, name string, parse func(string) (T, error)) (T, error) {
	var v T
	s := c.Query(name)
	if s == "" {
		return v, nil
	}
	v, err := parse(s)
	if err != nil {
		return v, QueryError(err)
	}
	return v, nil
}

// Select applies $select fields to doc; nil fields keep every property.
func Select(doc map[string]any, fields []string) map[string]any {
	if fields == nil {
		return doc
	}
	return odata.Select(doc, fields)
}
