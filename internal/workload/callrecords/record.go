package callrecords

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/graph"
)

// Graph's enums of callRecords.
var (
	callTypes  = []string{"unknown", "groupCall", "peerToPeer", "unknownFutureValue"}
	modalities = []string{"audio", "video", "videoBasedScreenSharing", "data", "screenSharing", "unknownFutureValue"}
)

// serverManaged are the properties graphhook sets itself; bodies may carry them (a
// record copied from Graph does) and their values are ignored.
var serverManaged = []string{"version", "lastModifiedDateTime"}

// recordProps are the properties of microsoft.graph.callRecords.callRecord an admin
// body may set, and the value a new record gets when the body leaves one out.
var recordProps = map[string]func() any{
	"id":            func() any { return nil },
	"type":          func() any { return "unknown" },
	"modalities":    func() any { return []any{} },
	"startDateTime": func() any { return nil },
	"endDateTime":   func() any { return nil },
	"joinWebUrl":    func() any { return nil },
	"organizer":     func() any { return nil },
	"participants":  func() any { return []any{} },
	"sessions":      func() any { return []any{} },
}

var sessionProps = []string{"id", "modalities", "startDateTime", "endDateTime", "caller", "callee", "failureInfo", "isTest", "segments"}
var segmentProps = []string{"id", "startDateTime", "endDateTime", "caller", "callee", "failureInfo", "media"}

func badValue(path, want string) error {
	return admin.BadRequest("Invalid value for property '%s': %s expected.", path, want)
}

func checkTime(path string, v any) error {
	if v == nil {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return badValue(path, "a DateTimeOffset string")
	}
	if _, err := graph.ParseTime(s); err != nil {
		return badValue(path, "a DateTimeOffset (RFC 3339) string")
	}
	return nil
}

func checkModalities(path string, v any) error {
	arr, ok := v.([]any)
	if !ok {
		return badValue(path, "an array of modalities ("+strings.Join(modalities, ", ")+")")
	}
	for _, m := range arr {
		if s, ok := m.(string); !ok || !slices.Contains(modalities, s) {
			return admin.BadRequest("Invalid modality '%v' in '%s'; expected one of: %s.", m, path, strings.Join(modalities, ", "))
		}
	}
	return nil
}

func checkObject(path string, v any) error {
	if v == nil {
		return nil
	}
	if _, ok := v.(map[string]any); !ok {
		return badValue(path, "an object")
	}
	return nil
}

// checkBody validates the properties of an admin body (create or patch).
func checkBody(body map[string]any) error {
	for k, v := range body {
		if slices.Contains(serverManaged, k) {
			continue
		}
		if _, ok := recordProps[k]; !ok {
			return admin.BadRequest("Property '%s' does not exist on type 'microsoft.graph.callRecords.callRecord'.", k)
		}
		var err error
		switch k {
		case "id", "joinWebUrl":
			if _, ok := v.(string); v != nil && !ok {
				err = badValue(k, "a string")
			}
		case "type":
			if s, ok := v.(string); !ok || !slices.Contains(callTypes, s) {
				err = admin.BadRequest("Invalid value '%v' for property 'type'; expected one of: %s.", v, strings.Join(callTypes, ", "))
			}
		case "modalities":
			err = checkModalities(k, v)
		case "startDateTime", "endDateTime":
			err = checkTime(k, v)
		case "organizer":
			err = checkObject(k, v)
		case "participants":
			arr, ok := v.([]any)
			if !ok {
				return badValue(k, "an array of identitySet objects")
			}
			for _, p := range arr {
				if _, ok := p.(map[string]any); !ok {
					return badValue(k, "an array of identitySet objects")
				}
			}
		case "sessions":
			err = checkSessions(v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func checkSessions(v any) error {
	arr, ok := v.([]any)
	if !ok {
		return badValue("sessions", "an array of session objects")
	}
	for i, e := range arr {
		s, ok := e.(map[string]any)
		if !ok {
			return badValue("sessions", "an array of session objects")
		}
		if err := checkPart(s, "sessions", i, sessionProps); err != nil {
			return err
		}
		if segs, ok := s["segments"]; ok && segs != nil {
			list, ok := segs.([]any)
			if !ok {
				return badValue("sessions/segments", "an array of segment objects")
			}
			for j, e := range list {
				seg, ok := e.(map[string]any)
				if !ok {
					return badValue("sessions/segments", "an array of segment objects")
				}
				if err := checkPart(seg, "sessions/segments", j, segmentProps); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkPart(m map[string]any, path string, i int, props []string) error {
	for k, v := range m {
		if strings.HasPrefix(k, "@") {
			continue
		}
		if !slices.Contains(props, k) {
			return admin.BadRequest("Property '%s' does not exist on the %s item %d.", k, path, i)
		}
		var err error
		switch k {
		case "id":
			if _, ok := v.(string); v != nil && !ok {
				err = badValue(path+"/id", "a string")
			}
		case "modalities":
			err = checkModalities(path+"/modalities", v)
		case "startDateTime", "endDateTime":
			err = checkTime(path+"/"+k, v)
		case "caller", "callee", "failureInfo":
			err = checkObject(path+"/"+k, v)
		case "isTest":
			if _, ok := v.(bool); v != nil && !ok {
				err = badValue(path+"/isTest", "a boolean")
			}
		case "media":
			if _, ok := v.([]any); v != nil && !ok {
				err = badValue(path+"/media", "an array")
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// normalise gives sessions and segments ids and every property Graph serves, so the
// stored record always has the full shape.
func normalise(doc map[string]any) {
	sessions, _ := doc["sessions"].([]any)
	for _, e := range sessions {
		s := e.(map[string]any)
		fill(s, sessionProps)
		if s["modalities"] == nil {
			s["modalities"] = []any{}
		}
		if s["segments"] == nil {
			s["segments"] = []any{}
		}
		for _, e := range s["segments"].([]any) {
			fill(e.(map[string]any), segmentProps)
		}
	}
	if sessions == nil {
		doc["sessions"] = []any{}
	}
}

func fill(m map[string]any, props []string) {
	for _, p := range props {
		if _, ok := m[p]; !ok {
			m[p] = nil
		}
	}
	if s, _ := m["id"].(string); s == "" {
		m["id"] = uuid.NewString()
	}
}

// newRecord builds version 1 of a record from an admin body.
func newRecord(body map[string]any, id string, now time.Time) map[string]any {
	doc := map[string]any{}
	for k, def := range recordProps {
		doc[k] = def()
	}
	for k, v := range body {
		if !slices.Contains(serverManaged, k) {
			doc[k] = v
		}
	}
	doc["id"] = id
	stamp := graph.FormatTime(now)
	if doc["startDateTime"] == nil {
		doc["startDateTime"] = stamp
	}
	if doc["endDateTime"] == nil {
		doc["endDateTime"] = doc["startDateTime"]
	}
	doc["version"] = 1
	doc["lastModifiedDateTime"] = stamp
	normalise(doc)
	return doc
}

// nextVersion applies a patch body to a stored record and bumps its version.
func nextVersion(doc, body map[string]any, now time.Time) {
	for k, v := range body {
		if slices.Contains(serverManaged, k) || k == "id" {
			continue
		}
		if v == nil {
			v = recordProps[k]()
		}
		doc[k] = v
	}
	version, _ := doc["version"].(json.Number).Int64()
	doc["version"] = version + 1
	doc["lastModifiedDateTime"] = graph.FormatTime(now)
	normalise(doc)
}
