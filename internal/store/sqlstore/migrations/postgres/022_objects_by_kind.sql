-- objects becomes a table partitioned by kind: one partition for each kind that has
-- indexes of its own, and objects_other for every other kind.
--
-- PostgreSQL opens every index of a table, and prepares the predicate of every
-- partial index, in each statement that inserts a row or updates one, whatever the
-- row's kind: with twenty-seven indexes on one table, a message's insert paid for
-- the nineteen that are partial on another kind. A partition carries the six
-- indexes every kind has, and only its own kind's: the store writes and reads a
-- kind's rows through its partition (Dialect.ObjectPartitions), so a message's
-- insert opens eight indexes, and its reads need no partition pruning.
--
-- The indexes of one kind lose their "kind = ..." predicate: the partition's bound
-- says it. The six indexes every kind has are created on each partition under the
-- name of the whole table's index with the partition's suffix (objects_owner_message
-- under objects_owner), so that a plan names the index it reads.
ALTER TABLE objects RENAME TO objects_unpartitioned;

CREATE TABLE objects (
    tenant   TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    id       TEXT    NOT NULL,
    owner    TEXT    NOT NULL DEFAULT '',
    parent   TEXT    NOT NULL DEFAULT '',
    alt      TEXT    NOT NULL DEFAULT '',
    deleted  INTEGER NOT NULL DEFAULT 0,
    version  BIGINT  NOT NULL,
    created  BIGINT  NOT NULL,
    updated  BIGINT  NOT NULL,
    data     BYTEA   NOT NULL,
    sort     TEXT    NOT NULL DEFAULT ''
) PARTITION BY LIST (kind);

CREATE TABLE objects_message      PARTITION OF objects FOR VALUES IN ('message');
CREATE TABLE objects_event        PARTITION OF objects FOR VALUES IN ('event');
CREATE TABLE objects_contact      PARTITION OF objects FOR VALUES IN ('contact');
CREATE TABLE objects_user         PARTITION OF objects FOR VALUES IN ('user');
CREATE TABLE objects_group        PARTITION OF objects FOR VALUES IN ('group');
CREATE TABLE objects_alert        PARTITION OF objects FOR VALUES IN ('alert');
CREATE TABLE objects_conversation PARTITION OF objects FOR VALUES IN ('conversation');
CREATE TABLE objects_thread       PARTITION OF objects FOR VALUES IN ('thread');
CREATE TABLE objects_post         PARTITION OF objects FOR VALUES IN ('post');
CREATE TABLE objects_list         PARTITION OF objects FOR VALUES IN ('list');
CREATE TABLE objects_driveitem    PARTITION OF objects FOR VALUES IN ('driveItem');
CREATE TABLE objects_other        PARTITION OF objects DEFAULT;

INSERT INTO objects (tenant, kind, id, owner, parent, alt, deleted, version, created, updated, data, sort)
    SELECT tenant, kind, id, owner, parent, alt, deleted, version, created, updated, data, sort FROM objects_unpartitioned;
DROP TABLE objects_unpartitioned;

-- The indexes every kind has, on each partition first (every table just created
-- as one, read from the catalogue) and then on the whole table, which adopts them.
DO $$
DECLARE
    part TEXT;
BEGIN
    FOR part IN SELECT substr(c.relname, length('objects_') + 1) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'objects'::regclass LOOP
        EXECUTE format('ALTER TABLE objects_%s ADD CONSTRAINT objects_pkey_%s PRIMARY KEY (tenant, kind, id)', part, part);
        EXECUTE format('CREATE INDEX objects_owner_%s ON objects_%s (tenant, kind, owner, id)', part, part);
        EXECUTE format('CREATE INDEX objects_parent_%s ON objects_%s (tenant, kind, parent, id)', part, part);
        EXECUTE format('CREATE INDEX objects_alt_%s ON objects_%s (tenant, kind, alt, id)', part, part);
        EXECUTE format('CREATE INDEX objects_owner_sort_%s ON objects_%s (tenant, kind, owner, deleted, sort, id)', part, part);
        EXECUTE format('CREATE INDEX objects_parent_sort_%s ON objects_%s (tenant, kind, parent, deleted, sort, id)', part, part);
    END LOOP;
END $$;
ALTER TABLE objects ADD CONSTRAINT objects_pkey PRIMARY KEY (tenant, kind, id);
CREATE INDEX objects_owner       ON objects (tenant, kind, owner, id);
CREATE INDEX objects_parent      ON objects (tenant, kind, parent, id);
CREATE INDEX objects_alt         ON objects (tenant, kind, alt, id);
CREATE INDEX objects_owner_sort  ON objects (tenant, kind, owner, deleted, sort, id);
CREATE INDEX objects_parent_sort ON objects (tenant, kind, parent, deleted, sort, id);

-- Each kind's own indexes, on its partition.
CREATE INDEX objects_user_displayname ON objects_user (tenant, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id);
CREATE INDEX objects_user_upn ON objects_user (tenant, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{userPrincipalName}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id);
CREATE INDEX objects_user_mail ON objects_user (tenant, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{mail}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id);
CREATE INDEX objects_user_displayname_unplain ON objects_user (tenant, deleted, id) WHERE (((graphhook_doc(data) #>> '{displayName}') COLLATE "C") ~ '[^ -~]' OR (substr(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 5, 1) = '-' AND substr(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 8, 1) = '-'));
CREATE INDEX objects_user_upn_unplain ON objects_user (tenant, deleted, id) WHERE (((graphhook_doc(data) #>> '{userPrincipalName}') COLLATE "C") ~ '[^ -~]' OR (substr(((graphhook_doc(data) #>> '{userPrincipalName}') COLLATE "C"), 5, 1) = '-' AND substr(((graphhook_doc(data) #>> '{userPrincipalName}') COLLATE "C"), 8, 1) = '-'));
CREATE INDEX objects_group_displayname ON objects_group (tenant, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id);
CREATE INDEX objects_group_displayname_unplain ON objects_group (tenant, deleted, id) WHERE (((graphhook_doc(data) #>> '{displayName}') COLLATE "C") ~ '[^ -~]' OR (substr(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 5, 1) = '-' AND substr(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 8, 1) = '-'));
CREATE INDEX objects_event_start ON objects_event (tenant, owner, deleted, ((graphhook_doc(data) #>> '{start,dateTime}') COLLATE "C") NULLS FIRST, id);
CREATE INDEX objects_contact_displayname ON objects_contact (tenant, owner, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id);
CREATE INDEX objects_contact_displayname_unplain ON objects_contact (tenant, owner, deleted, id) WHERE (((graphhook_doc(data) #>> '{displayName}') COLLATE "C") ~ '[^ -~]' OR (substr(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 5, 1) = '-' AND substr(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 8, 1) = '-'));
CREATE INDEX objects_alert_created ON objects_alert (tenant, deleted, ((graphhook_doc(data) #>> '{createdDateTime}') COLLATE "C") NULLS FIRST, id);
CREATE INDEX objects_conversation_delivered ON objects_conversation (tenant, owner, deleted, ((graphhook_doc(data) #>> '{lastDeliveredDateTime}') COLLATE "C") DESC NULLS LAST, lower(replace(replace(((graphhook_doc(data) #>> '{id}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id);
CREATE INDEX objects_thread_delivered ON objects_thread (tenant, owner, deleted, ((graphhook_doc(data) #>> '{lastDeliveredDateTime}') COLLATE "C") DESC NULLS LAST, lower(replace(replace(((graphhook_doc(data) #>> '{id}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id);
CREATE INDEX objects_thread_parent_delivered ON objects_thread (tenant, parent, deleted, ((graphhook_doc(data) #>> '{lastDeliveredDateTime}') COLLATE "C") DESC NULLS LAST, lower(replace(replace(((graphhook_doc(data) #>> '{id}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id);
CREATE INDEX objects_post_received ON objects_post (tenant, parent, deleted, ((graphhook_doc(data) #>> '{receivedDateTime}') COLLATE "C") NULLS FIRST, id);
CREATE INDEX objects_list_name_unplain ON objects_list (tenant, owner, deleted, id) WHERE (((graphhook_doc(data) #>> '{list,displayName}') COLLATE "C") ~ '[^ -~]' OR (substr(((graphhook_doc(data) #>> '{list,displayName}') COLLATE "C"), 5, 1) = '-' AND substr(((graphhook_doc(data) #>> '{list,displayName}') COLLATE "C"), 8, 1) = '-'));
CREATE INDEX objects_driveitem_name ON objects_driveitem (tenant, parent, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{name}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id);
CREATE INDEX objects_driveitem_name_unplain ON objects_driveitem (tenant, parent, deleted, id) WHERE (((graphhook_doc(data) #>> '{name}') COLLATE "C") ~ '[^ -~]' OR (substr(((graphhook_doc(data) #>> '{name}') COLLATE "C"), 5, 1) = '-' AND substr(((graphhook_doc(data) #>> '{name}') COLLATE "C"), 8, 1) = '-'));
CREATE INDEX objects_driveitem_created ON objects_driveitem (tenant, parent, deleted, (created / 100), id);
CREATE INDEX objects_message_unread ON objects_message (tenant, owner, deleted, sort, id) WHERE (graphhook_doc(data) #> '{isRead}') = 'false'::jsonb;
CREATE INDEX objects_message_unread_parent ON objects_message (tenant, parent, deleted, sort, id) WHERE (graphhook_doc(data) #> '{isRead}') = 'false'::jsonb;
