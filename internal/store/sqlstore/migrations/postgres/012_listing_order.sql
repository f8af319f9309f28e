-- Indexes in the order a group's conversations, its threads (all of them, or a
-- conversation's) and a thread's posts are listed (newest delivery first, ties by
-- the id as OData orders strings, then by the stored id; posts as delivered), so
-- that a page, at any $skip, is read from an index instead of sorting the group's
-- or the thread's objects. Partial, for their kind only; the expressions are
-- exactly those sqlstore/objectfilter.go writes.
CREATE INDEX objects_conversation_delivered ON objects (tenant, owner, deleted, ((graphhook_doc(data) #>> '{lastDeliveredDateTime}') COLLATE "C") DESC NULLS LAST, lower(replace(replace(((graphhook_doc(data) #>> '{id}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id) WHERE kind = 'conversation';
CREATE INDEX objects_thread_delivered ON objects (tenant, owner, deleted, ((graphhook_doc(data) #>> '{lastDeliveredDateTime}') COLLATE "C") DESC NULLS LAST, lower(replace(replace(((graphhook_doc(data) #>> '{id}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id) WHERE kind = 'thread';
CREATE INDEX objects_thread_parent_delivered ON objects (tenant, parent, deleted, ((graphhook_doc(data) #>> '{lastDeliveredDateTime}') COLLATE "C") DESC NULLS LAST, lower(replace(replace(((graphhook_doc(data) #>> '{id}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id) WHERE kind = 'thread';
CREATE INDEX objects_post_received ON objects (tenant, parent, deleted, ((graphhook_doc(data) #>> '{receivedDateTime}') COLLATE "C") NULLS FIRST, id) WHERE kind = 'post';
-- The lists whose display name is not plain ASCII (or is shaped like a date):
-- normally none. A list is found by name through its alt key, the lower-cased
-- name; case folding also matches a name that lower-casing keeps apart (a long s),
-- and those lists are looked for here, in an index that is normally empty.
CREATE INDEX objects_list_name_unplain ON objects (tenant, owner, deleted, id) WHERE kind = 'list' AND (((graphhook_doc(data) #>> '{list,displayName}') COLLATE "C") ~ '[^ -~]' OR (substr(((graphhook_doc(data) #>> '{list,displayName}') COLLATE "C"), 5, 1) = '-' AND substr(((graphhook_doc(data) #>> '{list,displayName}') COLLATE "C"), 8, 1) = '-'));
