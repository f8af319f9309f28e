-- One partial index of in-flight rows, by node then claim time, instead of two
-- (one by claim time, one by node): every claim and every acknowledgement of a
-- notification wrote both. The rescuer's two rules still find their rows in it:
-- a lapsed node's rows by its leading column, rows in flight too long by a scan of
-- the in-flight rows alone, which are few (at most what the dispatchers have
-- claimed).
DROP INDEX notifications_running;
DROP INDEX notifications_running_node;
CREATE INDEX notifications_running ON notifications (node, claimed) WHERE state = 'running';
