package security

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/graph"
)

// propKind says how a property of the alert is checked on input.
type propKind int

const (
	kString propKind = iota + 1
	kInt
	kTime
	kObject
	kArray // of anything
	kStringArray
	kEnum
)

type propSpec struct {
	kind  propKind
	enum  []string
	empty any // the value an alert created without the property holds
}

// Graph's enums of the legacy alert type.
var (
	alertSeverity = []string{"unknown", "informational", "low", "medium", "high", "unknownFutureValue"}
	alertStatus   = []string{"unknown", "newAlert", "inProgress", "resolved", "unknownFutureValue"}
	alertFeedback = []string{"unknown", "truePositive", "falsePositive", "benignPositive", "unknownFutureValue"}
)

// alertProps is every property of microsoft.graph.alert (v1.0), so that an alert is
// always served with Graph's full set and an unknown property in a body is refused.
var alertProps = map[string]propSpec{
	"id":                          {kind: kString},
	"activityGroupName":           {kind: kString},
	"alertDetections":             {kind: kArray, empty: []any{}},
	"assignedTo":                  {kind: kString},
	"azureSubscriptionId":         {kind: kString},
	"azureTenantId":               {kind: kString},
	"category":                    {kind: kString},
	"closedDateTime":              {kind: kTime},
	"cloudAppStates":              {kind: kArray, empty: []any{}},
	"comments":                    {kind: kStringArray, empty: []any{}},
	"confidence":                  {kind: kInt},
	"createdDateTime":             {kind: kTime},
	"description":                 {kind: kString},
	"detectionIds":                {kind: kStringArray, empty: []any{}},
	"eventDateTime":               {kind: kTime},
	"feedback":                    {kind: kEnum, enum: alertFeedback},
	"fileStates":                  {kind: kArray, empty: []any{}},
	"historyStates":               {kind: kArray, empty: []any{}},
	"hostStates":                  {kind: kArray, empty: []any{}},
	"incidentIds":                 {kind: kStringArray, empty: []any{}},
	"investigationSecurityStates": {kind: kArray, empty: []any{}},
	"lastEventDateTime":           {kind: kTime},
	"lastModifiedDateTime":        {kind: kTime},
	"malwareStates":               {kind: kArray, empty: []any{}},
	"messageSecurityStates":       {kind: kArray, empty: []any{}},
	"networkConnections":          {kind: kArray, empty: []any{}},
	"processes":                   {kind: kArray, empty: []any{}},
	"recommendedActions":          {kind: kStringArray, empty: []any{}},
	"registryKeyStates":           {kind: kArray, empty: []any{}},
	"securityResources":           {kind: kArray, empty: []any{}},
	"severity":                    {kind: kEnum, enum: alertSeverity},
	"sourceMaterials":             {kind: kStringArray, empty: []any{}},
	"status":                      {kind: kEnum, enum: alertStatus},
	"tags":                        {kind: kStringArray, empty: []any{}},
	"title":                       {kind: kString},
	"triggers":                    {kind: kArray, empty: []any{}},
	"uriClickSecurityStates":      {kind: kArray, empty: []any{}},
	"userStates":                  {kind: kArray, empty: []any{}},
	"vendorInformation":           {kind: kObject},
	"vulnerabilityStates":         {kind: kArray, empty: []any{}},
}

// patchable are the properties Graph lets a client update (besides the required
// vendorInformation).
var patchable = []string{"assignedTo", "closedDateTime", "comments", "feedback", "status", "tags"}

// checkProp validates one property value against its spec; null is always accepted
// (it clears an optional property, as in Graph).
func checkProp(name string, v any) error {
	spec, ok := alertProps[name]
	if !ok {
		return admin.BadRequest("Property '%s' does not exist on type 'microsoft.graph.alert'.", name)
	}
	if v == nil {
		return nil
	}
	bad := func(want string) error {
		return admin.BadRequest("Invalid value for property '%s': %s expected.", name, want)
	}
	switch spec.kind {
	case kString:
		if _, ok := v.(string); !ok {
			return bad("a string")
		}
	case kInt:
		n, ok := v.(json.Number)
		if !ok {
			return bad("an integer")
		}
		if _, err := n.Int64(); err != nil {
			return bad("an integer")
		}
	case kTime:
		s, ok := v.(string)
		if !ok {
			return bad("a DateTimeOffset string")
		}
		if _, err := graph.ParseTime(s); err != nil {
			return bad("a DateTimeOffset (RFC 3339) string")
		}
	case kObject:
		if _, ok := v.(map[string]any); !ok {
			return bad("an object")
		}
	case kArray:
		if _, ok := v.([]any); !ok {
			return bad("an array")
		}
	case kStringArray:
		arr, ok := v.([]any)
		if !ok {
			return bad("an array of strings")
		}
		for _, e := range arr {
			if _, ok := e.(string); !ok {
				return bad("an array of strings")
			}
		}
	case kEnum:
		s, ok := v.(string)
		if !ok || !slices.Contains(spec.enum, s) {
			return admin.BadRequest("Invalid value '%v' for property '%s'; expected one of: %s.", v, name, strings.Join(spec.enum, ", "))
		}
	}
	return nil
}

// vendorInfo reads vendorInformation {provider, vendor} from a body.
func vendorInfo(body map[string]any) (provider, vendor string, ok bool) {
	vi, _ := body["vendorInformation"].(map[string]any)
	provider, _ = vi["provider"].(string)
	vendor, _ = vi["vendor"].(string)
	return provider, vendor, provider != "" && vendor != ""
}

// newAlert builds a stored alert from an admin body: every property present, with
// Graph's defaults for the ones the body leaves out.
func newAlert(body map[string]any, id, tenant string, now time.Time) (map[string]any, error) {
	for k, v := range body {
		if err := checkProp(k, v); err != nil {
			return nil, err
		}
	}
	doc := make(map[string]any, len(alertProps))
	for name, spec := range alertProps {
		doc[name] = spec.empty
	}
	for k, v := range body {
		doc[k] = v
	}
	doc["id"] = id
	stamp := graph.FormatTime(now)
	if doc["createdDateTime"] == nil {
		doc["createdDateTime"] = stamp
	}
	if doc["eventDateTime"] == nil {
		doc["eventDateTime"] = doc["createdDateTime"]
	}
	doc["lastModifiedDateTime"] = stamp
	if doc["azureTenantId"] == nil {
		doc["azureTenantId"] = tenant
	}
	if doc["status"] == nil {
		doc["status"] = "newAlert"
	}
	if doc["severity"] == nil {
		doc["severity"] = "unknown"
	}
	// Graph's alerts always name their source; an admin body may leave it out, and
	// then graphhook stands in as the provider so that PATCH has something to match.
	vi, _ := doc["vendorInformation"].(map[string]any)
	if vi == nil {
		vi = map[string]any{}
	}
	for k, def := range map[string]any{"provider": "graphhook", "providerVersion": nil, "subProvider": nil, "vendor": "graphhook"} {
		if v, ok := vi[k]; !ok || (v == nil && def != nil) {
			vi[k] = def
		}
	}
	for k, v := range vi {
		if v != nil {
			if _, ok := v.(string); !ok {
				return nil, admin.BadRequest("Invalid value for property 'vendorInformation/%s': a string expected.", k)
			}
		}
	}
	doc["vendorInformation"] = vi
	return doc, nil
}

// applyPatch applies a PATCH body (already checked) to a stored alert.
func applyPatch(doc, body map[string]any, now time.Time) error {
	provider, vendor, ok := vendorInfo(body)
	if !ok {
		return graph.Errorf(400, graph.CodeBadRequest, "The vendorInformation property, with provider and vendor, is required to update an alert.")
	}
	cur, _ := doc["vendorInformation"].(map[string]any)
	if !strings.EqualFold(fmt.Sprint(cur["provider"]), provider) || !strings.EqualFold(fmt.Sprint(cur["vendor"]), vendor) {
		return graph.Errorf(400, graph.CodeBadRequest, "vendorInformation (provider '%s', vendor '%s') does not match the alert's provider '%v' and vendor '%v'.", provider, vendor, cur["provider"], cur["vendor"])
	}
	for k, v := range body {
		if k == "vendorInformation" {
			continue
		}
		if !slices.Contains(patchable, k) {
			if _, known := alertProps[k]; known {
				return graph.Errorf(400, graph.CodeBadRequest, "Property '%s' cannot be updated; updatable properties are %s.", k, strings.Join(patchable, ", "))
			}
		}
		if err := checkProp(k, v); err != nil {
			return err
		}
	}
	for k, v := range body {
		if k == "vendorInformation" {
			continue
		}
		if v == nil {
			v = alertProps[k].empty
		}
		doc[k] = v
	}
	doc["lastModifiedDateTime"] = graph.FormatTime(now)
	return nil
}
