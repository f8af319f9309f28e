-- Indexes over JSON properties of the data, for the listings that filter and order
-- in the store (store.Cond, store.OrderKey): a page of users by displayName, or a
-- user found by userPrincipalName or mail, reads an index instead of every object of
-- the kind. Each index is partial, for its kind only, so other kinds' writes do not
-- pay for it; queries spell the kind as a constant so that the planner can use it.
-- The expressions are exactly those sqlstore/objectfilter.go writes.
-- graphhook_doc reads the bytea data column as jsonb. convert_from is only STABLE (it
-- looks up the conversion), which an index expression may not use; the database's
-- encoding never changes under it, so the reading is declared IMMUTABLE.
CREATE FUNCTION graphhook_doc(data bytea) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT convert_from(data, 'UTF8')::jsonb $$;
CREATE INDEX objects_user_displayname ON objects (tenant, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id) WHERE kind = 'user';
CREATE INDEX objects_user_upn ON objects (tenant, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{userPrincipalName}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id) WHERE kind = 'user';
CREATE INDEX objects_user_mail ON objects (tenant, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{mail}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id) WHERE kind = 'user';
CREATE INDEX objects_group_displayname ON objects (tenant, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id) WHERE kind = 'group';
-- The rows whose ordering property is not plain (store.Plain): normally none, so the
-- check that a listing may be ordered in the store reads an empty index.
CREATE INDEX objects_user_displayname_unplain ON objects (tenant, deleted, id) WHERE kind = 'user' AND (((graphhook_doc(data) #>> '{displayName}') COLLATE "C") ~ '[^ -~]' OR (substr(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 5, 1) = '-' AND substr(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 8, 1) = '-'));
CREATE INDEX objects_user_upn_unplain ON objects (tenant, deleted, id) WHERE kind = 'user' AND (((graphhook_doc(data) #>> '{userPrincipalName}') COLLATE "C") ~ '[^ -~]' OR (substr(((graphhook_doc(data) #>> '{userPrincipalName}') COLLATE "C"), 5, 1) = '-' AND substr(((graphhook_doc(data) #>> '{userPrincipalName}') COLLATE "C"), 8, 1) = '-'));
CREATE INDEX objects_group_displayname_unplain ON objects (tenant, deleted, id) WHERE kind = 'group' AND (((graphhook_doc(data) #>> '{displayName}') COLLATE "C") ~ '[^ -~]' OR (substr(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 5, 1) = '-' AND substr(((graphhook_doc(data) #>> '{displayName}') COLLATE "C"), 8, 1) = '-'));
