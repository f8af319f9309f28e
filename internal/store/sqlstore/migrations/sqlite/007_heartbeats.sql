-- Node heartbeats (store.HeartbeatTx): every node sharing the database records that
-- it is alive, and each claim names its node, so that the rescuer takes back the
-- rows of a node whose heartbeat lapsed instead of waiting a fixed time. beat is in
-- Unix nanoseconds; rows claimed before this migration name no node ('').
ALTER TABLE notifications ADD COLUMN node TEXT NOT NULL DEFAULT '';
CREATE INDEX notifications_running_node ON notifications (node) WHERE state = 'running';
CREATE TABLE heartbeats (
    node TEXT    NOT NULL PRIMARY KEY,
    beat INTEGER NOT NULL
);
