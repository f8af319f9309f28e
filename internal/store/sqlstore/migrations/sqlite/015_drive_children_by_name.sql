-- A folder's children in name order ($orderby=name), as OData orders strings (the
-- expression sqlstore/objectfilter.go writes, then the stored id), so that a page at
-- any $skip is read from an index instead of sorting the folder. Names that are not
-- plain ASCII (or are shaped like a date) are ordered in memory, over the folder:
-- the second index finds whether a folder has any.
CREATE INDEX objects_driveitem_name ON objects (tenant, parent, deleted, lower(replace(replace(json_extract(data, '$.name'), 'K', 'k'), 'ſ', 's')), id) WHERE kind = 'driveItem';
CREATE INDEX objects_driveitem_name_unplain ON objects (tenant, parent, deleted, id) WHERE kind = 'driveItem' AND (json_extract(data, '$.name') GLOB '*[^ -~]*' OR (substr(json_extract(data, '$.name'), 5, 1) = '-' AND substr(json_extract(data, '$.name'), 8, 1) = '-'));
