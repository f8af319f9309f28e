-- graphhook_doc (migration 010) becomes a PL/pgSQL function, with the same result.
--
-- As an SQL function it was a candidate for inlining, which PostgreSQL tries, and
-- gives up on (its body calls convert_from, only STABLE, under an IMMUTABLE
-- declaration), every time it prepares an expression that calls it: after parsing
-- the body again. An insert into objects prepares the predicate of every partial
-- index (twenty, most of them calling graphhook_doc), so each insert parsed the body
-- dozens of times, whatever its kind; and each call that did run (a message's
-- unread predicates) planned the body again in every statement. Under the single
-- bench that was most of the insert's cost: 2.5 ms of its database time of 5.3 ms
-- per change. PostgreSQL never inlines a PL/pgSQL function, and keeps its compiled
-- body for the session.
--
-- The function keeps its OID, so the indexes over it stay as they are; its result is
-- unchanged, so they need no rebuild.
CREATE OR REPLACE FUNCTION graphhook_doc(data bytea) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RETURN convert_from(data, 'UTF8')::jsonb; END $$;
