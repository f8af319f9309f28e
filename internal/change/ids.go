package change

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Ids that several packages must agree on without a lookup: the subscriptions API
// normalises /users/{id}/mailFolders('inbox')/messages and /users/{id}/drive/root to
// topic keys before the folder or drive was ever touched, so these ids are derived, not
// stored first.

// WellKnownFolderID is the id of a user's well-known mail folder (inbox, drafts,
// sentitems, deleteditems, archive, junkemail, outbox), name in any case.
func WellKnownFolderID(user, name string) string {
	sum := sha256.Sum256([]byte("mailFolder:" + strings.ToLower(user) + ":" + strings.ToLower(name)))
	return "AAMkAG" + base64.RawURLEncoding.EncodeToString(sum[:24])
}

// WellKnownContactFolderID is the id of a user's default contact folder ("contacts").
func WellKnownContactFolderID(user string) string {
	sum := sha256.Sum256([]byte("contactFolder:" + strings.ToLower(user)))
	return "AAMkAC" + base64.RawURLEncoding.EncodeToString(sum[:24])
}

// DefaultCalendarID is the id of a user's default calendar.
func DefaultCalendarID(user string) string {
	sum := sha256.Sum256([]byte("calendar:" + strings.ToLower(user)))
	return "AAMkAD" + base64.RawURLEncoding.EncodeToString(sum[:24])
}

// UserDriveID is the id of a work or school user's OneDrive for Business drive.
func UserDriveID(user string) string {
	sum := sha256.Sum256([]byte("drive:user:" + strings.ToLower(user)))
	return "b!" + base64.RawURLEncoding.EncodeToString(sum[:30])
}

// PersonalDriveID is the id of a personal account's OneDrive (16 hex digits, the
// form personal drive ids take).
func PersonalDriveID(user string) string {
	sum := sha256.Sum256([]byte("drive:personal:" + strings.ToLower(user)))
	return strings.ToUpper(hex.EncodeToString(sum[:8]))
}

// SiteDriveID is the id of a site's default document library.
func SiteDriveID(site string) string {
	sum := sha256.Sum256([]byte("drive:site:" + strings.ToLower(site)))
	return "b!" + base64.RawURLEncoding.EncodeToString(sum[:30])
}

// GroupDriveID is the id of a Microsoft 365 group's document library.
func GroupDriveID(group string) string {
	sum := sha256.Sum256([]byte("drive:group:" + strings.ToLower(group)))
	return "b!" + base64.RawURLEncoding.EncodeToString(sum[:30])
}

// DriveRootID is the id of a drive's root item.
func DriveRootID(drive string) string {
	sum := sha256.Sum256([]byte("root:" + drive))
	return "01" + strings.ToUpper(base64.RawURLEncoding.EncodeToString(sum[:24]))
}
