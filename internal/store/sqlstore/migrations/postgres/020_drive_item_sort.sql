-- A drive item's sort key is its lastModifiedDateTime as Graph writes it
-- (2006-01-02T15:04:05.0000000Z, fixed width, so that its bytes sort as its
-- instants): a folder's children in that order are read from objects_parent_sort.
-- Items written before the key existed get it from the time their document holds
-- (RFC 3339 with up to nine fraction digits, Z or an offset): the seconds in UTC,
-- read without the fraction (a timestamp would round it), then the fraction's first
-- seven digits (Graph's times are truncated, not rounded).
UPDATE objects SET sort =
        to_char(regexp_replace(t.m, '\.[0-9]+', '')::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || '.' || rpad(left(coalesce(substring(t.m from '\.([0-9]+)'), ''), 7), 7, '0') || 'Z'
    FROM (SELECT tenant, id, graphhook_doc(data) ->> 'modified' AS m FROM objects WHERE kind = 'driveItem' AND sort = '') t
    WHERE objects.tenant = t.tenant AND objects.kind = 'driveItem' AND objects.id = t.id AND t.m IS NOT NULL;
