package graph

import (
	"encoding/json"
	"errors"
)

// Lifecycle events a lifecycle notification carries in lifecycleEvent ("Reduce missing subscriptions and change notifications").
// Receivers must ignore values they do not know, so more may be added.
const (
	LifecycleReauthorizationRequired = "reauthorizationRequired"
	LifecycleSubscriptionRemoved     = "subscriptionRemoved"
	LifecycleMissed                  = "missed"
)

// ChangeNotificationCollection is the body of every notification POST ("changeNotificationCollection resource type").
// ValidationTokens is omitted entirely, not sent as [] or null, when the batch holds
// no rich notification: receivers written against Graph read a present-but-empty
// array as a failed token check.
type ChangeNotificationCollection struct {
	Value            []ChangeNotification `json:"value"`
	ValidationTokens []string             `json:"validationTokens,omitempty"`
}

// ChangeNotification is one item of a collection: a change notification (ChangeType
// set) or a lifecycle notification (LifecycleEvent set), never both ("changeNotification resource type").
// The field order follows the samples on Microsoft's change-notification and lifecycle pages.
type ChangeNotification struct {
	// ID is the notification id; Graph leaves it out of lifecycle notifications.
	ID             string `json:"id,omitempty"`
	SubscriptionID string `json:"subscriptionId"`
	// SubscriptionExpirationDateTime is the subscription's current expiry, in
	// TimeLayout (see FormatTime).
	SubscriptionExpirationDateTime string `json:"subscriptionExpirationDateTime"`
	ClientState                    string `json:"clientState,omitempty"`
	ChangeType                     string `json:"changeType,omitempty"`
	LifecycleEvent                 string `json:"lifecycleEvent,omitempty"`
	// Resource is relative to https://graph.microsoft.com with no version segment.
	// Lifecycle notifications carry none.
	Resource string `json:"resource,omitempty"`
	TenantID string `json:"tenantId"`
	// OrganizationID repeats TenantID on lifecycle notifications, for receivers
	// written against the shape Graph was seen to send.
	OrganizationID string `json:"organizationId,omitempty"`
	// ResourceData is the workload's object (@odata.type, @odata.id, id, ...);
	// it is kept raw because its keys differ per resource (the samples of Microsoft's per-resource change-notification pages).
	ResourceData     json.RawMessage   `json:"resourceData,omitempty"`
	EncryptedContent *EncryptedContent `json:"encryptedContent,omitempty"`
}

// EncryptedContent carries the resource of a rich notification, encrypted as the scheme of Microsoft's "Set up change notifications that include resource data"
// describes. Binary values are standard base64 with padding.
type EncryptedContent struct {
	Data                            string `json:"data"`
	DataSignature                   string `json:"dataSignature"`
	DataKey                         string `json:"dataKey"`
	EncryptionCertificateID         string `json:"encryptionCertificateId"`
	EncryptionCertificateThumbprint string `json:"encryptionCertificateThumbprint"`
}

// Validate reports whether n is well formed for the wire: exactly one of ChangeType and
// LifecycleEvent, and the fields every notification must carry. It guards the sender
// against emitting a shape no receiver expects.
func (n ChangeNotification) Validate() error {
	switch {
	case n.ChangeType == "" && n.LifecycleEvent == "":
		return errors.New("notification has neither changeType nor lifecycleEvent")
	case n.ChangeType != "" && n.LifecycleEvent != "":
		return errors.New("notification has both changeType and lifecycleEvent")
	case n.SubscriptionID == "":
		return errors.New("notification has no subscriptionId")
	case n.SubscriptionExpirationDateTime == "":
		return errors.New("notification has no subscriptionExpirationDateTime")
	case n.TenantID == "":
		return errors.New("notification has no tenantId")
	case n.ChangeType != "" && n.Resource == "":
		return errors.New("change notification has no resource")
	}
	return nil
}
