-- Objects in one partition per kind that has indexes of its own, and the other
-- kinds in one more (PostgreSQL's declarative partitioning, by LIST of kind).
--
-- Every index of a table is opened, and its predicate prepared, by every INSERT
-- and UPDATE of a row of it, whether the row belongs in the index or not: with the
-- 21 partial indexes of one kind or another (migrations 010 to 021) beside the six
-- of every object, one message written in its own statement cost PostgreSQL about
-- 400 µs, 140 µs more than with the eight indexes a message is in. In its own
-- partition a message meets only those, a user only the user's, and a kind without
-- indexes of its own only the six. A query names the kind (the partial indexes
-- already needed it as a constant), so it reads the one partition.
--
-- The six indexes of every object are made on each partition first, named after
-- the index and the partition's kind (objects_owner_sort_message), then on the
-- table, which takes them as its partitions' indexes; a plan names the partition's.
-- The partial indexes move to their kind's partition under their own names.
--
-- Each partition also keeps statistics of how owner and parent depend on each
-- other: a folder's items, a thread's posts, belong to one owner, and a query that
-- names both would otherwise be estimated at a fraction of its rows (as if the two
-- were independent), which in a partition of one kind tips the planner into reading
-- every row and sorting them instead of reading an index in order.
CREATE TABLE objects_by_kind (LIKE objects INCLUDING DEFAULTS) PARTITION BY LIST (kind);
CREATE TABLE objects_alert PARTITION OF objects_by_kind FOR VALUES IN ('alert');
CREATE TABLE objects_contact PARTITION OF objects_by_kind FOR VALUES IN ('contact');
CREATE TABLE objects_conversation PARTITION OF objects_by_kind FOR VALUES IN ('conversation');
CREATE TABLE objects_driveitem PARTITION OF objects_by_kind FOR VALUES IN ('driveItem');
CREATE TABLE objects_event PARTITION OF objects_by_kind FOR VALUES IN ('event');
CREATE TABLE objects_group PARTITION OF objects_by_kind FOR VALUES IN ('group');
CREATE TABLE objects_list PARTITION OF objects_by_kind FOR VALUES IN ('list');
CREATE TABLE objects_message PARTITION OF objects_by_kind FOR VALUES IN ('message');
CREATE TABLE objects_post PARTITION OF objects_by_kind FOR VALUES IN ('post');
CREATE TABLE objects_thread PARTITION OF objects_by_kind FOR VALUES IN ('thread');
CREATE TABLE objects_user PARTITION OF objects_by_kind FOR VALUES IN ('user');
CREATE TABLE objects_other PARTITION OF objects_by_kind DEFAULT;
INSERT INTO objects_by_kind SELECT * FROM objects;
DROP TABLE objects;
ALTER TABLE objects_by_kind RENAME TO objects;

DO $$
DECLARE
    p text;
    k text;
BEGIN
    FOR p IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'objects'::regclass LOOP
        k := substr(p, length('objects_') + 1);
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (tenant, kind, id)', p, 'objects_pkey_' || k);
        EXECUTE format('CREATE INDEX %I ON %I (tenant, kind, owner, id)', 'objects_owner_' || k, p);
        EXECUTE format('CREATE INDEX %I ON %I (tenant, kind, parent, id)', 'objects_parent_' || k, p);
        EXECUTE format('CREATE INDEX %I ON %I (tenant, kind, alt, id)', 'objects_alt_' || k, p);
        EXECUTE format('CREATE INDEX %I ON %I (tenant, kind, owner, deleted, sort, id)', 'objects_owner_sort_' || k, p);
        EXECUTE format('CREATE INDEX %I ON %I (tenant, kind, parent, deleted, sort, id)', 'objects_parent_sort_' || k, p);
        EXECUTE format('CREATE STATISTICS %I (dependencies) ON owner, parent FROM %I', 'objects_owner_parent_' || k, p);
    END LOOP;
END
$$;
ALTER TABLE objects ADD CONSTRAINT objects_pkey PRIMARY KEY (tenant, kind, id);
CREATE INDEX objects_owner ON objects (tenant, kind, owner, id);
CREATE INDEX objects_parent ON objects (tenant, kind, parent, id);
CREATE INDEX objects_alt ON objects (tenant, kind, alt, id);
CREATE INDEX objects_owner_sort ON objects (tenant, kind, owner, deleted, sort, id);
CREATE INDEX objects_parent_sort ON objects (tenant, kind, parent, deleted, sort, id);

CREATE INDEX objects_alert_created ON objects_alert (tenant, deleted, ((graphhook_doc(data) #>> '{createdDateTime}'::text[])) COLLATE "C" NULLS FIRST, id) WHERE (kind = 'alert'::text);
CREATE INDEX objects_contact_displayname ON objects_contact (tenant, owner, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{displayName}'::text[]) COLLATE "C"), 'K'::text, 'k'::text), 'ſ'::text, 's'::text)) NULLS FIRST, id) WHERE (kind = 'contact'::text);
CREATE INDEX objects_contact_displayname_unplain ON objects_contact (tenant, owner, deleted, id) WHERE ((kind = 'contact'::text) AND ((((graphhook_doc(data) #>> '{displayName}'::text[]) COLLATE "C") ~ '[^ -~]'::text) OR ((substr(((graphhook_doc(data) #>> '{displayName}'::text[]) COLLATE "C"), 5, 1) = '-'::text) AND (substr(((graphhook_doc(data) #>> '{displayName}'::text[]) COLLATE "C"), 8, 1) = '-'::text))));
CREATE INDEX objects_conversation_delivered ON objects_conversation (tenant, owner, deleted, ((graphhook_doc(data) #>> '{lastDeliveredDateTime}'::text[])) COLLATE "C" DESC NULLS LAST, lower(replace(replace(((graphhook_doc(data) #>> '{id}'::text[]) COLLATE "C"), 'K'::text, 'k'::text), 'ſ'::text, 's'::text)) NULLS FIRST, id) WHERE (kind = 'conversation'::text);
CREATE INDEX objects_driveitem_created ON objects_driveitem (tenant, parent, deleted, ((created / 100)), id) WHERE (kind = 'driveItem'::text);
CREATE INDEX objects_driveitem_name ON objects_driveitem (tenant, parent, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{name}'::text[]) COLLATE "C"), 'K'::text, 'k'::text), 'ſ'::text, 's'::text)) NULLS FIRST, id) WHERE (kind = 'driveItem'::text);
CREATE INDEX objects_driveitem_name_unplain ON objects_driveitem (tenant, parent, deleted, id) WHERE ((kind = 'driveItem'::text) AND ((((graphhook_doc(data) #>> '{name}'::text[]) COLLATE "C") ~ '[^ -~]'::text) OR ((substr(((graphhook_doc(data) #>> '{name}'::text[]) COLLATE "C"), 5, 1) = '-'::text) AND (substr(((graphhook_doc(data) #>> '{name}'::text[]) COLLATE "C"), 8, 1) = '-'::text))));
CREATE INDEX objects_event_start ON objects_event (tenant, owner, deleted, ((graphhook_doc(data) #>> '{start,dateTime}'::text[])) COLLATE "C" NULLS FIRST, id) WHERE (kind = 'event'::text);
CREATE INDEX objects_group_displayname ON objects_group (tenant, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{displayName}'::text[]) COLLATE "C"), 'K'::text, 'k'::text), 'ſ'::text, 's'::text)) NULLS FIRST, id) WHERE (kind = 'group'::text);
CREATE INDEX objects_group_displayname_unplain ON objects_group (tenant, deleted, id) WHERE ((kind = 'group'::text) AND ((((graphhook_doc(data) #>> '{displayName}'::text[]) COLLATE "C") ~ '[^ -~]'::text) OR ((substr(((graphhook_doc(data) #>> '{displayName}'::text[]) COLLATE "C"), 5, 1) = '-'::text) AND (substr(((graphhook_doc(data) #>> '{displayName}'::text[]) COLLATE "C"), 8, 1) = '-'::text))));
CREATE INDEX objects_list_name_unplain ON objects_list (tenant, owner, deleted, id) WHERE ((kind = 'list'::text) AND ((((graphhook_doc(data) #>> '{list,displayName}'::text[]) COLLATE "C") ~ '[^ -~]'::text) OR ((substr(((graphhook_doc(data) #>> '{list,displayName}'::text[]) COLLATE "C"), 5, 1) = '-'::text) AND (substr(((graphhook_doc(data) #>> '{list,displayName}'::text[]) COLLATE "C"), 8, 1) = '-'::text))));
CREATE INDEX objects_message_unread ON objects_message (tenant, owner, deleted, sort, id) WHERE ((kind = 'message'::text) AND ((graphhook_doc(data) #> '{isRead}'::text[]) = 'false'::jsonb));
CREATE INDEX objects_message_unread_parent ON objects_message (tenant, parent, deleted, sort, id) WHERE ((kind = 'message'::text) AND ((graphhook_doc(data) #> '{isRead}'::text[]) = 'false'::jsonb));
CREATE INDEX objects_post_received ON objects_post (tenant, parent, deleted, ((graphhook_doc(data) #>> '{receivedDateTime}'::text[])) COLLATE "C" NULLS FIRST, id) WHERE (kind = 'post'::text);
CREATE INDEX objects_thread_delivered ON objects_thread (tenant, owner, deleted, ((graphhook_doc(data) #>> '{lastDeliveredDateTime}'::text[])) COLLATE "C" DESC NULLS LAST, lower(replace(replace(((graphhook_doc(data) #>> '{id}'::text[]) COLLATE "C"), 'K'::text, 'k'::text), 'ſ'::text, 's'::text)) NULLS FIRST, id) WHERE (kind = 'thread'::text);
CREATE INDEX objects_thread_parent_delivered ON objects_thread (tenant, parent, deleted, ((graphhook_doc(data) #>> '{lastDeliveredDateTime}'::text[])) COLLATE "C" DESC NULLS LAST, lower(replace(replace(((graphhook_doc(data) #>> '{id}'::text[]) COLLATE "C"), 'K'::text, 'k'::text), 'ſ'::text, 's'::text)) NULLS FIRST, id) WHERE (kind = 'thread'::text);
CREATE INDEX objects_user_displayname ON objects_user (tenant, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{displayName}'::text[]) COLLATE "C"), 'K'::text, 'k'::text), 'ſ'::text, 's'::text)) NULLS FIRST, id) WHERE (kind = 'user'::text);
CREATE INDEX objects_user_displayname_unplain ON objects_user (tenant, deleted, id) WHERE ((kind = 'user'::text) AND ((((graphhook_doc(data) #>> '{displayName}'::text[]) COLLATE "C") ~ '[^ -~]'::text) OR ((substr(((graphhook_doc(data) #>> '{displayName}'::text[]) COLLATE "C"), 5, 1) = '-'::text) AND (substr(((graphhook_doc(data) #>> '{displayName}'::text[]) COLLATE "C"), 8, 1) = '-'::text))));
CREATE INDEX objects_user_mail ON objects_user (tenant, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{mail}'::text[]) COLLATE "C"), 'K'::text, 'k'::text), 'ſ'::text, 's'::text)) NULLS FIRST, id) WHERE (kind = 'user'::text);
CREATE INDEX objects_user_upn ON objects_user (tenant, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{userPrincipalName}'::text[]) COLLATE "C"), 'K'::text, 'k'::text), 'ſ'::text, 's'::text)) NULLS FIRST, id) WHERE (kind = 'user'::text);
CREATE INDEX objects_user_upn_unplain ON objects_user (tenant, deleted, id) WHERE ((kind = 'user'::text) AND ((((graphhook_doc(data) #>> '{userPrincipalName}'::text[]) COLLATE "C") ~ '[^ -~]'::text) OR ((substr(((graphhook_doc(data) #>> '{userPrincipalName}'::text[]) COLLATE "C"), 5, 1) = '-'::text) AND (substr(((graphhook_doc(data) #>> '{userPrincipalName}'::text[]) COLLATE "C"), 8, 1) = '-'::text))));
ANALYZE objects;
