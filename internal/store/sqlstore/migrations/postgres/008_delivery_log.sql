-- The delivery log (store.DeliveryLogTx): each POST attempt of each queued
-- notification, written by the acker in the transaction that records the outcome;
-- replays (new rows naming the row they repeat); and the push-side faults the admin
-- API injects, kept here so that every node sharing the database applies them.
-- Times are Unix nanoseconds.
ALTER TABLE notifications ADD COLUMN replay_of BIGINT NOT NULL DEFAULT 0;
CREATE TABLE delivery_attempts (
    notification_id BIGINT NOT NULL,
    number          INTEGER NOT NULL,
    started         BIGINT NOT NULL,
    status          INTEGER NOT NULL DEFAULT 0,
    latency         BIGINT NOT NULL DEFAULT 0,
    error           TEXT    NOT NULL DEFAULT '',
    injected        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX delivery_attempts_notification ON delivery_attempts (notification_id, number);
CREATE TABLE delivery_faults (
    id          TEXT    NOT NULL PRIMARY KEY,
    url         TEXT    NOT NULL,
    mode        TEXT    NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,
    delay       BIGINT NOT NULL DEFAULT 0,
    remaining   INTEGER NOT NULL DEFAULT -1,
    expires     BIGINT NOT NULL DEFAULT 0,
    created     BIGINT NOT NULL
);
