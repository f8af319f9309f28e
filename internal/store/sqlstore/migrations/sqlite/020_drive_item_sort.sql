-- A drive item's sort key is its lastModifiedDateTime as Graph writes it
-- (2006-01-02T15:04:05.0000000Z, fixed width, so that its bytes sort as its
-- instants): a folder's children in that order are read from objects_parent_sort.
-- Items written before the key existed get it from the time their document holds
-- (RFC 3339 with up to nine fraction digits, Z or an offset): the seconds in UTC,
-- then the fraction's first seven digits (Graph's times are truncated, not rounded).
CREATE TEMP TABLE item_times AS
    SELECT tenant, id, m, substr(m, 20) AS r, '' AS frac, '' AS zone, NULL AS key
    FROM (SELECT tenant, id, json_extract(data, '$.modified') AS m FROM objects WHERE kind = 'driveItem' AND sort = '')
    WHERE m IS NOT NULL;
UPDATE item_times SET frac = substr(r, 2, length(r) - 1 - length(ltrim(substr(r, 2), '0123456789'))) WHERE substr(r, 1, 1) = '.';
UPDATE item_times SET zone = CASE WHEN substr(r, 1, 1) = '.' THEN substr(r, 2 + length(frac)) ELSE r END;
UPDATE item_times SET key = strftime('%Y-%m-%dT%H:%M:%S', substr(m, 1, 19) || zone) || '.' || substr(frac || '0000000', 1, 7) || 'Z';
UPDATE objects SET sort = item_times.key FROM item_times
    WHERE objects.tenant = item_times.tenant AND objects.kind = 'driveItem' AND objects.id = item_times.id AND item_times.key IS NOT NULL;
DROP TABLE item_times;
