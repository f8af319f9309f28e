-- A folder's children in name order ($orderby=name), as OData orders strings (the
-- expression sqlstore/objectfilter.go writes, then the stored id), so that a page at
-- any $skip is read from an index instead of sorting the folder. Names that are not
-- plain ASCII (or are shaped like a date) are ordered in memory, over the folder:
-- the second index finds whether a folder has any.
CREATE INDEX objects_driveitem_name ON objects (tenant, parent, deleted, lower(replace(replace(((graphhook_doc(data) #>> '{name}') COLLATE "C"), 'K', 'k'), 'ſ', 's')) NULLS FIRST, id) WHERE kind = 'driveItem';
CREATE INDEX objects_driveitem_name_unplain ON objects (tenant, parent, deleted, id) WHERE kind = 'driveItem' AND (((graphhook_doc(data) #>> '{name}') COLLATE "C") ~ '[^ -~]' OR (substr(((graphhook_doc(data) #>> '{name}') COLLATE "C"), 5, 1) = '-' AND substr(((graphhook_doc(data) #>> '{name}') COLLATE "C"), 8, 1) = '-'));
