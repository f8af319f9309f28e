// Package outlook is the per-user Outlook workload: mail folders, messages (drafts,
// send, sendMail, reply, forward, move, copy), events with calendarView, contacts with
// contact folders, and the per-folder delta queries Graph offers on them.
//
// # Mailboxes
//
// Every user of a tenant and every personal account (consumers tenant) has a mailbox.
// Nothing is stored for a mailbox until it is first used: the well-known mail folders
// and the default contact folder are created then, in the same transaction as the
// first write, with ids derived by internal/change (WellKnownFolderID,
// WellKnownContactFolderID, DefaultCalendarID). The subscriptions API normalises
// /users/{id}/mailFolders('inbox')/messages to a topic key before the folder exists,
// so those ids must never depend on when the folder was created.
//
// # Objects
//
// Each item is a store.Object whose Data is exactly the item's API representation
// (with @odata.etag), so a read serves the document as stored and a change record's
// Before and After are what a $filter subscription is evaluated on. Columns follow
// docs/architecture.md: mailFolder (owner user, parent folder, alt well-known name),
// message (owner user, parent folder), event (owner user, parent calendar),
// contactFolder and contact (owner user, parent folder), and attachment (owner user,
// parent message).
//
// # Attachments
//
// A message's file attachments are objects of their own (kind "attachment"), each
// holding its full fileAttachment representation, contentBytes included, so that
// listing a message, and the change records a $filter is evaluated on, never carry
// attachment content. Adding or removing one changes the message (change key,
// hasAttachments, which counts only attachments that are not inline, as in Graph) and
// is recorded as the message's "updated" in the same transaction: a subscription on
// hasAttachments eq true sees the message enter and leave its filter. Attachments go
// with their message: moved with it (the new id inherits them), duplicated by copy,
// send, sendMail and forward, deleted with it. Only #microsoft.graph.fileAttachment
// is stored, at most 3 MB each, Graph's limit for one request (upload sessions are
// not offered).
//
// # Moves get new ids
//
// Exchange gives an item a new id when it changes folder (move, sending a draft), and
// Graph clients are written for that. graphhook does the same, and records the move as
// two changes: "deleted" of the old id on the user and old folder topics, "created" of
// the new id on the user and new folder topics. Per-folder subscriptions then see the
// item leave one folder and enter the other, per-folder delta reports @removed in the
// old folder, and a mailbox-wide subscription sees what Graph sends for a move.
//
// # Errors
//
// Outlook answers with Exchange's codes: ErrorItemNotFound (404), ErrorInvalidUser
// (404), ErrorAccessDenied (403), ErrorInvalidProperty and ErrorInvalidRequest (400),
// ErrorIrresolvableConflict (412) for a stale If-Match.
package outlook
