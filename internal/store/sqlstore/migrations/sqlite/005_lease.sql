-- Leases elect the node that runs leader-only services (store.LeaseTx). One row per
-- lease name; a released lease has no row. expires is in Unix nanoseconds.
CREATE TABLE leases (
    name    TEXT    NOT NULL PRIMARY KEY,
    holder  TEXT    NOT NULL,
    expires INTEGER NOT NULL
);
