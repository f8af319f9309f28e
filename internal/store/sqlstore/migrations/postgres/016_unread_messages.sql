-- A mailbox's and a folder's unread messages, newest first: a page (or a count) of
-- $filter=isRead eq false, a mail client's first question, reads only the unread
-- ones, instead of walking the mailbox's sort index past every read message.
-- Partial, so a read message costs nothing; the condition is exactly the one
-- sqlstore/objectfilter.go writes for isRead eq false.
CREATE INDEX objects_message_unread ON objects (tenant, owner, deleted, sort, id) WHERE kind = 'message' AND (jsonb_typeof(graphhook_doc(data) #> '{isRead}') = 'boolean' AND ((graphhook_doc(data) #>> '{isRead}') COLLATE "C") = 'false');
CREATE INDEX objects_message_unread_parent ON objects (tenant, parent, deleted, sort, id) WHERE kind = 'message' AND (jsonb_typeof(graphhook_doc(data) #> '{isRead}') = 'boolean' AND ((graphhook_doc(data) #>> '{isRead}') COLLATE "C") = 'false');
