package receiver

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Lifecycle events (Notification.LifecycleEvent). Apps must ignore events they do
// not know: the sender may add more.
const (
	LifecycleReauthorizationRequired = "reauthorizationRequired"
	LifecycleSubscriptionRemoved     = "subscriptionRemoved"
	LifecycleMissed                  = "missed"
)

// Collection is the body of a notification POST.
type Collection struct {
	Value []ChangeNotification `json:"value"`
	// ValidationTokens are JWTs, one per (app, tenant) pair with rich notifications in
	// Value; absent when there are none.
	ValidationTokens []string `json:"validationTokens,omitempty"`
}

// ChangeNotification is one item of a Collection, as sent. Exactly one of ChangeType
// and LifecycleEvent is set.
type ChangeNotification struct {
	ID             string `json:"id,omitempty"`
	SubscriptionID string `json:"subscriptionId"`
	// SubscriptionExpirationDateTime is the subscription's current expiry.
	SubscriptionExpirationDateTime time.Time `json:"subscriptionExpirationDateTime"`
	ClientState                    string    `json:"clientState,omitempty"`
	// ChangeType is created, updated or deleted; empty on lifecycle notifications.
	ChangeType string `json:"changeType,omitempty"`
	// LifecycleEvent is one of the Lifecycle constants; empty on change notifications.
	LifecycleEvent string `json:"lifecycleEvent,omitempty"`
	// Resource is the changed item's path relative to https://graph.microsoft.com.
	Resource string `json:"resource,omitempty"`
	TenantID string `json:"tenantId,omitempty"`
	// OrganizationID is sent by Graph on some lifecycle notifications instead of
	// TenantID; TenantID is filled from it when missing.
	OrganizationID   string            `json:"organizationId,omitempty"`
	ResourceData     *ResourceData     `json:"resourceData,omitempty"`
	EncryptedContent *EncryptedContent `json:"encryptedContent,omitempty"`
}

// IsLifecycle reports whether n is about the subscription rather than a resource.
func (n ChangeNotification) IsLifecycle() bool { return n.LifecycleEvent != "" }

// UnmarshalJSON accepts every time form Graph was seen to send, and fills TenantID
// from organizationId when only that is present.
func (n *ChangeNotification) UnmarshalJSON(b []byte) error {
	type plain ChangeNotification
	var w struct {
		plain
		SubscriptionExpirationDateTime string `json:"subscriptionExpirationDateTime"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*n = ChangeNotification(w.plain)
	if w.SubscriptionExpirationDateTime != "" {
		t, err := parseTime(w.SubscriptionExpirationDateTime)
		if err != nil {
			return fmt.Errorf("subscriptionExpirationDateTime: %w", err)
		}
		n.SubscriptionExpirationDateTime = t
	}
	if n.TenantID == "" {
		n.TenantID = n.OrganizationID
	}
	return nil
}

// parseTime reads RFC 3339 with any fraction and offset, and a bare timestamp as UTC.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", s)
}

// ResourceData is the changed item's reference. Its keys differ per resource; the
// common ones are fields and Raw holds the whole object for the rest (for example
// sequenceNumber on users and groups, members@delta on groups).
type ResourceData struct {
	ODataType string          `json:"@odata.type,omitempty"`
	ODataID   string          `json:"@odata.id,omitempty"`
	ODataEtag string          `json:"@odata.etag,omitempty"`
	ID        string          `json:"id,omitempty"`
	Raw       json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object next to the common fields.
func (d *ResourceData) UnmarshalJSON(b []byte) error {
	type plain ResourceData
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*d = ResourceData(p)
	d.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MarshalJSON writes the object as received when there is one, so that keys without
// a field survive a round trip.
func (d ResourceData) MarshalJSON() ([]byte, error) {
	if d.Raw != nil {
		return d.Raw, nil
	}
	type plain ResourceData
	return json.Marshal(plain(d))
}

// EncryptedContent is a rich notification's resource, encrypted for the app's
// certificate; Decrypt opens it.
type EncryptedContent struct {
	Data                            string `json:"data"`
	DataSignature                   string `json:"dataSignature"`
	DataKey                         string `json:"dataKey"`
	EncryptionCertificateID         string `json:"encryptionCertificateId"`
	EncryptionCertificateThumbprint string `json:"encryptionCertificateThumbprint"`
}

// Notification is what the app's callback receives: the notification as sent and,
// for a rich notification, its decrypted resource.
type Notification struct {
	ChangeNotification
	// Data is the decrypted resource JSON; nil when the notification had no
	// encryptedContent.
	Data json.RawMessage
}

// ParseCollection reads a notification POST body. Unknown fields are ignored, as the
// sender may add some; a body that is not one JSON object with a value array wraps
// ErrMalformed.
func ParseCollection(r io.Reader) (*Collection, error) {
	dec := json.NewDecoder(r)
	var c struct {
		Collection
		Value *[]ChangeNotification `json:"value"`
	}
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	if c.Value == nil {
		return nil, fmt.Errorf("%w: no value array", ErrMalformed)
	}
	c.Collection.Value = *c.Value
	for i, n := range c.Collection.Value {
		if (n.ChangeType == "") == (n.LifecycleEvent == "") {
			return nil, fmt.Errorf("%w: value[%d] must have exactly one of changeType and lifecycleEvent", ErrMalformed, i)
		}
	}
	return &c.Collection, nil
}
