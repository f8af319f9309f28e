package subscription

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/richdata"
)

// Limits of Microsoft's "subscription resource type" and Microsoft's "Set up change notifications that include resource data".
const (
	maxClientState     = 128
	maxCertificateID   = 128
	tlsVersionsAllowed = "v1_0, v1_1, v1_2, v1_3"
)

// Property names of the subscription resource.
const (
	propResource                 = "resource"
	propChangeType               = "changeType"
	propNotificationURL          = "notificationUrl"
	propExpiration               = "expirationDateTime"
	propClientState              = "clientState"
	propLifecycleURL             = "lifecycleNotificationUrl"
	propIncludeResourceData      = "includeResourceData"
	propEncryptionCertificate    = "encryptionCertificate"
	propEncryptionCertificateID  = "encryptionCertificateId"
	propLatestSupportedTLS       = "latestSupportedTlsVersion"
	propNotificationQueryOptions = "notificationQueryOptions"
	propNotificationURLAppID     = "notificationUrlAppId"
	propNotificationContentType  = "notificationContentType"
)

// contentTypeJSON is the one notificationContentType Graph delivers webhooks in.
const contentTypeJSON = "application/json"

// readOnly properties are accepted in a body and ignored, as Graph ignores them: SDKs
// send back objects they read.
var readOnly = []string{"id", "applicationId", "creatorId"}

// webPush properties select Web Push delivery, which graphhook does not offer.
var webPush = []string{"vapidPublicKey", "webPushEncryptionP256dhPublicKey", "webPushEncryptionSecret"}

// writable are the properties a create accepts.
var writable = []string{
	propResource, propChangeType, propNotificationURL, propExpiration, propClientState, propLifecycleURL,
	propIncludeResourceData, propEncryptionCertificate, propEncryptionCertificateID, propLatestSupportedTLS,
	propNotificationQueryOptions, propNotificationURLAppID, propNotificationContentType,
}

// payload is a decoded request body: property name → raw JSON, annotations dropped.
type payload map[string]json.RawMessage

// decodePayload reads a subscription body. Anything that is not a JSON object of
// known properties is refused with Graph's payload message.
func decodePayload(c *httpapi.Ctx) (payload, error) {
	data, err := c.Body()
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil || raw == nil || dec.More() {
		return nil, invalidRequest(msgPayload)
	}
	out := payload{}
	for k, v := range raw {
		switch {
		case strings.Contains(k, "@"):
		case slices.Contains(readOnly, k):
		case slices.Contains(webPush, k):
			if string(v) != "null" {
				return nil, invalidRequest("Web Push delivery is not supported: remove '%s' from the subscription.", k)
			}
		case slices.Contains(writable, k):
			out[k] = v
		default:
			return nil, invalidRequest(msgPayload)
		}
	}
	return out, nil
}

// str reads a string property; ok is false when it is absent or null. A value of
// another JSON type is a payload error.
func (pl payload) str(name string) (s string, ok bool, err error) {
	v, present := pl[name]
	if !present || string(v) == "null" {
		return "", false, nil
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false, invalidRequest(msgPayload)
	}
	return s, true, nil
}

// boolean reads a Boolean property (absent or null: ok false).
func (pl payload) boolean(name string) (b bool, ok bool, err error) {
	v, present := pl[name]
	if !present || string(v) == "null" {
		return false, false, nil
	}
	if err := json.Unmarshal(v, &b); err != nil {
		return false, false, invalidRequest(msgPayload)
	}
	return b, true, nil
}

// parseChangeTypes reads a comma-separated changeType case-insensitively (Microsoft's "changeNotification resource type")
// and returns the lower-case types in the client's order, without repeats. The
// error names the first type that is unknown or not allowed on the resource.
func parseChangeTypes(s string, allowed []string) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		ct := strings.ToLower(strings.TrimSpace(part))
		if !slices.Contains(allowed, ct) {
			return nil, invalidRequest("Invalid 'changeType' attribute: '%s'.", strings.TrimSpace(part))
		}
		if !slices.Contains(out, ct) {
			out = append(out, ct)
		}
	}
	return out, nil
}

// sameChangeTypes compares two normalised lists as sets.
func sameChangeTypes(a, b string) bool {
	x, y := strings.Split(a, ","), strings.Split(b, ",")
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// urlKind names a URL property in its error messages.
type urlKind struct {
	invalid string // Invalid {invalid} url='…'.
	scheme  string // {scheme} scheme='…' is not supported.
}

var (
	notificationURLKind = urlKind{invalid: "notification", scheme: "NotificationUrl"}
	lifecycleURLKind    = urlKind{invalid: "lifecycle notification", scheme: "LifecycleNotificationUrl"}
)

// checkURL checks a webhook URL's form: absolute, with a host, https (or http in the
// dev profile). Whether its host may be connected to is decided at connect time.
func (s *Service) checkURL(raw string, kind urlKind) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return invalidRequest("Invalid %s url='%s'.", kind.invalid, raw)
	}
	// The scheme is judged first, so "EventHub:https://…" reports its scheme as Graph
	// does for channels graphhook does not offer.
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && (scheme != "http" || s.cfg.Profile == ProfileStrict) {
		return invalidRequest("%s scheme='%s' is not supported.", kind.scheme, scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" || strings.HasPrefix(u.Path, "//") {
		return invalidRequest("Invalid %s url='%s'.", kind.invalid, raw)
	}
	return nil
}

// expiration reads and bounds an expirationDateTime: over the resource's maximum
// (plus the skew allowance) is refused, under the floor is raised to it (Microsoft's "subscription resource type",
// Microsoft's "subscription resource type"). Times keep Graph's precision of 100 ns.
func (s *Service) expiration(raw string, d *resource.Descriptor, now time.Time, op string) (time.Time, error) {
	t, err := graph.ParseTime(raw)
	if err != nil {
		return time.Time{}, invalidRequest(msgExpirationRequired)
	}
	t = t.Truncate(100 * time.Nanosecond)
	limit := s.cfg.lifetime(d)
	if t.After(now.Add(limit + s.cfg.ClockSkew)) {
		return time.Time{}, graph.Errorf(http.StatusBadRequest, graph.CodeExtensionError,
			"Subscription expiration can only be %d minutes in the future.", int(limit/time.Minute))
	}
	if floor := now.Add(s.cfg.MinLifetime).Truncate(100 * time.Nanosecond); t.Before(floor) {
		t = floor
	}
	return t, nil
}

// checkClientState enforces the 128-character limit.
func checkClientState(cs string) error {
	if utf8.RuneCountInString(cs) > maxClientState {
		return invalidRequest("clientState must be at most %d characters long; it has %d.", maxClientState, utf8.RuneCountInString(cs))
	}
	return nil
}

// checkCertificate validates the rich-notification certificate fields when present.
func checkCertificate(cert string, hasCert bool, certID string, hasID bool) error {
	if hasCert {
		if _, err := richdata.ParseCertificate(cert); err != nil {
			return err
		}
	}
	if hasID && utf8.RuneCountInString(certID) > maxCertificateID {
		return invalidRequest("encryptionCertificateId must be at most %d characters long; it has %d.", maxCertificateID, utf8.RuneCountInString(certID))
	}
	return nil
}

// parseTLSVersion normalises latestSupportedTlsVersion.
func parseTLSVersion(v string) (string, error) {
	lv := strings.ToLower(v)
	if _, ok := tlsVersions[lv]; !ok {
		return "", invalidRequest("Invalid 'latestSupportedTlsVersion' attribute: '%s'. Supported values: %s.", v, tlsVersionsAllowed)
	}
	return lv, nil
}

// parseContentType checks notificationContentType: Graph sends webhook
// notifications as JSON only.
func parseContentType(v string) (string, error) {
	if mt, params, _ := strings.Cut(v, ";"); !strings.EqualFold(strings.TrimSpace(mt), contentTypeJSON) || strings.TrimSpace(params) != "" {
		return "", invalidRequest("Invalid 'notificationContentType' attribute: '%s'. Supported values: %s.", v, contentTypeJSON)
	}
	return contentTypeJSON, nil
}

// checkAppID validates notificationUrlAppId, an application (client) id.
func checkAppID(v string) error {
	if _, err := uuid.Parse(v); err != nil {
		return invalidRequest("Invalid 'notificationUrlAppId' attribute: '%s'. It must be an application (client) id.", v)
	}
	return nil
}
