package trigger

import (
	"encoding/json"
	"net/http"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/httpapi"
)

// Routes registers GET and POST /_graphhook/trigger on the admin router.
func (t *Trigger) Routes(r *httpapi.Router) {
	r.Handle("GET", "trigger", t.list)
	r.Handle("POST", "trigger", t.post)
}

func (t *Trigger) list(c *httpapi.Ctx) error {
	return c.JSON(http.StatusOK, map[string]any{"value": t.Types()})
}

// post serves POST /_graphhook/trigger: {"type", "changeType"?, "tenantId"?,
// "userId"?, "params"?, "count"?}.
func (t *Trigger) post(c *httpapi.Ctx) error {
	body, err := admin.Object(c)
	if err != nil {
		return err
	}
	var req Request
	for k, v := range body {
		ok := true
		switch k {
		case "type":
			req.Type, ok = v.(string)
		case "changeType":
			req.ChangeType, ok = v.(string)
		case "tenantId":
			req.Tenant, ok = v.(string)
		case "userId":
			req.User, ok = v.(string)
		case "count":
			var n json.Number
			if n, ok = v.(json.Number); ok {
				i, err := n.Int64()
				ok = err == nil && i >= 1 && i <= MaxCount
				req.Count = int(i)
			}
			if !ok {
				return admin.BadRequest("'count' must be a whole number between 1 and %d.", MaxCount)
			}
		case "params":
			var m map[string]any
			if m, ok = v.(map[string]any); ok {
				req.Params = map[string]string{}
				for name, pv := range m {
					s, isString := pv.(string)
					if !isString {
						return admin.BadRequest("Parameter '%s' must be a string.", name)
					}
					req.Params[name] = s
				}
			}
		default:
			return admin.BadRequest("Unknown property '%s'; the body takes type, changeType, tenantId, userId, params and count.", k)
		}
		if !ok {
			return admin.BadRequest("Invalid value for '%s'.", k)
		}
	}
	results, err := t.Run(c.R.Context(), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"value": results})
}
