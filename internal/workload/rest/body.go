package rest

import "github.com/graphhook/graphhook/internal/httpapi"

// Body decodes a request's JSON object without its instance annotations
// (@odata.type and the like), which Graph accepts and ignores on writes. Bad bodies
// get Graph's 400 or 415 from httpapi.
func Body(c *httpapi.Ctx) (map[string]any, error) {
	body, err := c.DecodeObject()
	if err != nil {
		return nil, err
	}
	return httpapi.StripAnnotations(body), nil
}
