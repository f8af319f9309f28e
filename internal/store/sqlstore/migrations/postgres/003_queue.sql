CREATE TABLE notifications (
    id              BIGSERIAL PRIMARY KEY,
    url             TEXT    NOT NULL,
    tenant          TEXT    NOT NULL,
    subscription_id TEXT    NOT NULL,
    resource_type   TEXT    NOT NULL DEFAULT '',
    lifecycle       INTEGER NOT NULL DEFAULT 0,
    event           TEXT    NOT NULL,
    resource        TEXT    NOT NULL DEFAULT '',
    payload         BYTEA    NOT NULL,
    rich            BYTEA,
    seq             BIGINT  NOT NULL DEFAULT 0,
    state           TEXT    NOT NULL,
    attempt         INTEGER NOT NULL DEFAULT 0,
    created         BIGINT  NOT NULL,
    scheduled       BIGINT  NOT NULL,
    claimed         BIGINT  NOT NULL DEFAULT 0,
    finished        BIGINT  NOT NULL DEFAULT 0,
    error           TEXT    NOT NULL DEFAULT ''
);
-- Partial indexes keep the hot ones small: only waiting rows are in the due index,
-- only in-flight rows in the rescuer's, only finished rows in retention's.
CREATE INDEX notifications_due      ON notifications (url, scheduled, id) WHERE state IN ('available', 'retryable');
CREATE INDEX notifications_running  ON notifications (claimed) WHERE state = 'running';
CREATE INDEX notifications_finished ON notifications (finished) WHERE state IN ('delivered', 'discarded');
