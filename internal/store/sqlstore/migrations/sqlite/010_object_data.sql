-- Indexes over JSON properties of the data, for the listings that filter and order
-- in the store (store.Cond, store.OrderKey): a page of users by displayName, a user
-- found by userPrincipalName or mail, a page of a calendar by start or of contacts by
-- displayName reads an index instead of every object of the kind (or mailbox). Each
-- index is partial, for its kind only, so other kinds' writes do not pay for it;
-- queries spell the kind as a constant so that the planner can use it. The
-- expressions are exactly those sqlstore/objectfilter.go writes.
CREATE INDEX objects_user_displayname ON objects (tenant, deleted, lower(replace(replace(json_extract(data, '$.displayName'), 'K', 'k'), 'ſ', 's')), id) WHERE kind = 'user';
CREATE INDEX objects_user_upn ON objects (tenant, deleted, lower(replace(replace(json_extract(data, '$.userPrincipalName'), 'K', 'k'), 'ſ', 's')), id) WHERE kind = 'user';
CREATE INDEX objects_user_mail ON objects (tenant, deleted, lower(replace(replace(json_extract(data, '$.mail'), 'K', 'k'), 'ſ', 's')), id) WHERE kind = 'user';
CREATE INDEX objects_group_displayname ON objects (tenant, deleted, lower(replace(replace(json_extract(data, '$.displayName'), 'K', 'k'), 'ſ', 's')), id) WHERE kind = 'group';
CREATE INDEX objects_event_start ON objects (tenant, owner, deleted, json_extract(data, '$.start.dateTime'), id) WHERE kind = 'event';
CREATE INDEX objects_contact_displayname ON objects (tenant, owner, deleted, lower(replace(replace(json_extract(data, '$.displayName'), 'K', 'k'), 'ſ', 's')), id) WHERE kind = 'contact';
CREATE INDEX objects_alert_created ON objects (tenant, deleted, json_extract(data, '$.createdDateTime'), id) WHERE kind = 'alert';
-- The objects whose ordering property is not plain (store.Plain): normally none, so
-- the check that a listing may be ordered in the store reads an empty index.
CREATE INDEX objects_user_displayname_unplain ON objects (tenant, deleted, id) WHERE kind = 'user' AND (json_extract(data, '$.displayName') GLOB '*[^ -~]*' OR (substr(json_extract(data, '$.displayName'), 5, 1) = '-' AND substr(json_extract(data, '$.displayName'), 8, 1) = '-'));
CREATE INDEX objects_user_upn_unplain ON objects (tenant, deleted, id) WHERE kind = 'user' AND (json_extract(data, '$.userPrincipalName') GLOB '*[^ -~]*' OR (substr(json_extract(data, '$.userPrincipalName'), 5, 1) = '-' AND substr(json_extract(data, '$.userPrincipalName'), 8, 1) = '-'));
CREATE INDEX objects_group_displayname_unplain ON objects (tenant, deleted, id) WHERE kind = 'group' AND (json_extract(data, '$.displayName') GLOB '*[^ -~]*' OR (substr(json_extract(data, '$.displayName'), 5, 1) = '-' AND substr(json_extract(data, '$.displayName'), 8, 1) = '-'));
CREATE INDEX objects_contact_displayname_unplain ON objects (tenant, owner, deleted, id) WHERE kind = 'contact' AND (json_extract(data, '$.displayName') GLOB '*[^ -~]*' OR (substr(json_extract(data, '$.displayName'), 5, 1) = '-' AND substr(json_extract(data, '$.displayName'), 8, 1) = '-'));
-- To Do tasks are listed in creation order, which becomes their sort key (the
-- creation time in nanoseconds, in 20 digits) so that a page is read from the
-- parent's sort index.
UPDATE objects SET sort = printf('%020d', created) WHERE kind = 'todoTask';
