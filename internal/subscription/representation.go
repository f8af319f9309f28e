package subscription

import (
	"encoding/json"
)

// Resource is the subscription resource as the API serves it (Microsoft's "subscription resource type"), and what
// store.Subscription.Data holds. Every property is always present; unset ones are
// null. The delivery pipeline reads encryptionCertificate, encryptionCertificateId,
// latestSupportedTlsVersion and notificationUrlAppId from it.
type Resource struct {
	ID                        string  `json:"id"`
	Resource                  string  `json:"resource"`
	ApplicationID             string  `json:"applicationId"`
	ChangeType                string  `json:"changeType"`
	ClientState               *string `json:"clientState"`
	NotificationURL           string  `json:"notificationUrl"`
	NotificationQueryOptions  *string `json:"notificationQueryOptions"`
	NotificationContentType   *string `json:"notificationContentType"`
	LifecycleNotificationURL  *string `json:"lifecycleNotificationUrl"`
	ExpirationDateTime        string  `json:"expirationDateTime"`
	CreatorID                 string  `json:"creatorId"`
	IncludeResourceData       *bool   `json:"includeResourceData"`
	LatestSupportedTLSVersion string  `json:"latestSupportedTlsVersion"`
	EncryptionCertificate     *string `json:"encryptionCertificate"`
	EncryptionCertificateID   *string `json:"encryptionCertificateId"`
	NotificationURLAppID      *string `json:"notificationUrlAppId"`
}

// ParseResource decodes store.Subscription.Data.
func ParseResource(data []byte) (Resource, error) {
	var r Resource
	err := json.Unmarshal(data, &r)
	return r, err
}

// entity is a Resource with its @odata.context, for single-entity responses.
type entity struct {
	Context string `json:"@odata.context"`
	Resource
}

// collection is one page of a list.
type collection struct {
	Context  string     `json:"@odata.context"`
	NextLink string     `json:"@odata.nextLink,omitempty"`
	Value    []Resource `json:"value"`
}

func ptr[T any](v T) *T { return &v }
