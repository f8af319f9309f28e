-- Migration 016's indexes of unread messages, with a predicate that reads a
-- message's document once instead of twice. Every insert or update of a message
-- tests both predicates, and each reading parses the whole document: four parses
-- per message write became two. isRead is false exactly when the property is the
-- JSON value false, which one jsonb comparison says (a missing property gives NULL,
-- which a predicate counts as false, as before). The condition is exactly the one
-- sqlstore/objectfilter.go writes for isRead eq false.
DROP INDEX objects_message_unread;
DROP INDEX objects_message_unread_parent;
CREATE INDEX objects_message_unread ON objects (tenant, owner, deleted, sort, id) WHERE kind = 'message' AND (graphhook_doc(data) #> '{isRead}') = 'false'::jsonb;
CREATE INDEX objects_message_unread_parent ON objects (tenant, parent, deleted, sort, id) WHERE kind = 'message' AND (graphhook_doc(data) #> '{isRead}') = 'false'::jsonb;
