-- Change sequence numbers that need no lock (see Dialect.SeqHorizon).
--
-- Readers page the change log by seq (delta tokens, ListChanges), so a seq must never
-- become visible below a position a reader already handed out. A counter (BIGSERIAL)
-- hands out seqs in the order transactions take them, not the order they commit, and
-- kept that promise only under one advisory lock that every change-writing
-- transaction held until its commit: every writer of every node waited for it.
--
-- Instead a change's seq is its transaction's id shifted left by 20 bits plus its
-- rank in that transaction. A snapshot lists the transactions it saw running: every
-- other one below the oldest of them has ended, so the seqs below that id << 20 are
-- final, and every transaction still to commit has an id of at least that and so
-- seqs at or above it. Readers list only the final seqs (graphhook_change_horizon),
-- and a position they hand out can never be passed by a later commit. Writers take no
-- lock at all; a change becomes readable once the transactions of this database
-- that were under way before it have ended.
--
-- The lock also ordered the queue rows the change hook writes in the same
-- transactions. Without it, two transactions that notify one subscription and touch
-- no common row may take queue ids in one order and commit in the other; nothing
-- orders them for a client either (each may commit first, and SERIALIZABLE only
-- promises some serial order), while changes that are ordered still are: two changes
-- of one resource write its row, so the second waits for the first's commit (or is
-- retried after it) and takes the larger seq and ids; a change made after another
-- committed takes larger ones too. The dispatcher sends what is committed, per URL
-- in queue order, so a subscription's notifications follow the order of its
-- resources' changes.
--
-- Transaction ids only grow (xid8 counts wraparounds), and the ids of this database
-- are far above the count of its earlier changes, so new seqs start above the
-- BIGSERIAL ones written before this migration.
CREATE FUNCTION graphhook_change_seq() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    -- The rank of the transaction's next change, kept in a transaction-local
    -- setting: it starts again at 0 in the next transaction (and in a retry).
    rank bigint := COALESCE(NULLIF(current_setting('graphhook.change_rank', true), '')::bigint, 0);
BEGIN
    IF rank >= 1048576 THEN
        RAISE EXCEPTION 'graphhook: more than 1048576 changes in one transaction';
    END IF;
    PERFORM set_config('graphhook.change_rank', (rank + 1)::text, true);
    RETURN (pg_current_xact_id()::text::bigint << 20) + rank;
END
$$;
ALTER TABLE changes ALTER COLUMN seq SET DEFAULT graphhook_change_seq();

-- The first seq that a transaction this snapshot does not see may still commit:
-- every seq below it is final. That is the oldest transaction the snapshot saw
-- running (or, with none, the first id it did not see assigned), shifted as above.
-- Transactions that cannot write this log are left out when they are still running:
-- those of other databases on the same server (a long transaction elsewhere must not
-- hold this log back) and the NOTIFYs of graphhook's nodes (connections named
-- graphhook-notify-…, see notify.go; a NOTIFY waits at its commit for a lock that
-- every database shares). One that ended since the snapshot cannot be told apart
-- from a writer of this log, and is counted, which only delays a change's
-- visibility, never skips it.
CREATE FUNCTION graphhook_change_horizon() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT MIN(x) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
         -- Read once (a hashed subplan), and only when the snapshot saw any running.
         WHERE x::text::bigint % 4294967296 NOT IN (
             SELECT a.backend_xid::text::bigint FROM pg_stat_get_activity(NULL) AS a
             WHERE a.backend_xid IS NOT NULL
               AND (a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database())
                    OR a.application_name LIKE 'graphhook-notify-%'))),
        pg_snapshot_xmax(pg_current_snapshot())
    )::text::bigint << 20
$$;

-- The same bound for every snapshot taken after this function returns, read from the
-- transactions of this database running now (Dialect.LiveHorizon): one below the
-- oldest of them has ended, and is seen by a later snapshot, whatever other
-- databases do meanwhile. next comes first: a transaction with an id below it had
-- its id before the activity is read, so it shows there unless it has ended. The
-- activity gives 32-bit ids; each is widened by its signed distance from next.
CREATE FUNCTION graphhook_live_horizon() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    next bigint := pg_snapshot_xmax(pg_current_snapshot())::text::bigint;
    oldest bigint;
BEGIN
    SELECT MIN(next + ((a.backend_xid::text::bigint - next % 4294967296 + 6442450944) % 4294967296) - 2147483648)
      INTO oldest
      FROM pg_stat_get_activity(NULL) AS a
     WHERE a.backend_xid IS NOT NULL
       AND a.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND a.application_name NOT LIKE 'graphhook-notify-%';
    RETURN LEAST(next, COALESCE(oldest, next)) << 20;
END
$$;
