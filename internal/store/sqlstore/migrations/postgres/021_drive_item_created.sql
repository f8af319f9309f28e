-- A folder's children by createdDateTime ($orderby=createdDateTime): the store's
-- creation time of a drive item is its createdDateTime, and created / 100 is that
-- time to the 100 ns Graph's times show, so that ties among the shown times go by id
-- as the in-memory order breaks them.
CREATE INDEX objects_driveitem_created ON objects (tenant, parent, deleted, (created / 100), id) WHERE kind = 'driveItem';
