-- A sort key per object, set by its workload (a message's receivedDateTime), so a
-- collection's default order and its pages are read from an index instead of
-- sorting the whole collection in memory. Rows written before this migration get
-- the key their workload would give them.
ALTER TABLE objects ADD COLUMN sort TEXT NOT NULL DEFAULT '';
UPDATE objects SET sort = COALESCE(convert_from(data, 'UTF8')::jsonb ->> 'receivedDateTime', '') WHERE kind = 'message';
CREATE INDEX objects_owner_sort  ON objects (tenant, kind, owner, deleted, sort, id);
CREATE INDEX objects_parent_sort ON objects (tenant, kind, parent, deleted, sort, id);
-- A drive item's alt key is its parent and lower-cased name (one index read finds a
-- name in a folder, however large the folder).
UPDATE objects SET alt = parent || '/' || lower(COALESCE(convert_from(data, 'UTF8')::jsonb ->> 'name', '')) WHERE kind = 'driveItem' AND parent <> '';
