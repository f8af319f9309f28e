-- Running totals of objects (store.TotalsTx): a drive folder's bytes below it and its
-- count of direct children, kept by the files workload in the transactions that
-- change them, so that rendering a folder or a drive reads one index range instead
-- of walking the folder's subtree or the drive. An object's totals are the sums of
-- its rows; a backend with concurrent writers spreads them over a few shards.
CREATE TABLE object_totals (
    tenant      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    shard       INTEGER NOT NULL,
    total_size  INTEGER NOT NULL,
    total_count INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, id, shard)
) WITHOUT ROWID;

-- Totals of the drive folders that exist before this migration, from a walk up from
-- every item: each live item adds its own size (a folder's is 0) to every ancestor
-- and counts once for its parent. The depth cap is the workload's maxDepth, against a
-- corrupt parent cycle.
INSERT INTO object_totals (tenant, kind, id, shard, total_size, total_count)
WITH RECURSIVE up (tenant, size, anc, depth) AS (
    SELECT tenant, COALESCE(json_extract(data, '$.size'), 0), parent, 1
    FROM objects WHERE kind = 'driveItem' AND deleted = 0 AND parent <> ''
    UNION ALL
    SELECT up.tenant, up.size, o.parent, up.depth + 1
    FROM up JOIN objects o ON o.tenant = up.tenant AND o.kind = 'driveItem' AND o.id = up.anc
    WHERE o.parent <> '' AND up.depth < 65
)
SELECT tenant, 'driveItem', anc, 0, SUM(size), SUM(depth = 1) FROM up GROUP BY tenant, anc;
