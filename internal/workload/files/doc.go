// Package files is the OneDrive workload: drives (a OneDrive for Business drive per
// work or school user, a personal OneDrive per personal account, a document library
// per site and per Microsoft 365 group), drive items (folders and files with their
// content), uploads (simple up to 4 MB, resumable upload sessions beyond), downloads,
// rename, move, copy, delete, and the drive delta query.
//
// # Why delta must be exact
//
// Drive notifications carry no item data: Graph reports any change under a drive root
// as "updated" on the root itself, and the app calls root/delta to learn what changed.
// So every item write appends exactly one change record per item it changes, in the
// same transaction, on the drive root's topic (and, for personal drives, on the topic
// of every ancestor folder, since personal OneDrive accepts subscriptions on any
// folder); delta reads those records and nothing else writes that topic. Drive and
// root objects are materialised lazily without a change record: they exist, in
// Graph's model, from the start, and their ids are derived (internal/change), so a
// subscription made before the first write names the right topic.
//
// # Storage
//
// A drive is a store object of kind "drive" (owner: the user, site or group; alt
// "user:{id}", "site:{id}" or "group:{id}"). An item is a "driveItem" object (owner:
// drive id, parent: parent item id); its data holds the item's own properties, and
// the computed ones (parentReference.path, webUrl) are derived when the item is
// rendered, so moving a folder rewrites one object, not its subtree. A folder's size
// and childCount, and the drive's quota.used, are store totals of the folder that
// each write adjusts along the item's ancestors in its own transaction (totals.go),
// so rendering them does not walk the subtree. File content lives in store blobs keyed by drive, item and version;
// upload sessions keep their state in a blob and append each accepted chunk to a
// content blob. A chunk streams into a staging blob in 1 MiB pieces, hashed on the
// way (the hash states live in the session), so memory stays bounded by the piece
// size; one short transaction then moves it onto the session's content, and the
// last chunk's transaction moves that content to the file, inside the store.
package files
