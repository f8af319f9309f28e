CREATE TABLE subscriptions (
    id               TEXT    PRIMARY KEY,
    tenant           TEXT    NOT NULL,
    app_id           TEXT    NOT NULL,
    creator_id       TEXT    NOT NULL,
    permission_type  INTEGER NOT NULL,
    resource_type    TEXT    NOT NULL,
    topic            TEXT    NOT NULL,
    change_types     TEXT    NOT NULL,
    filter           TEXT    NOT NULL DEFAULT '',
    notification_url TEXT    NOT NULL,
    lifecycle_url    TEXT    NOT NULL DEFAULT '',
    client_state     TEXT    NOT NULL DEFAULT '',
    include_data     INTEGER NOT NULL DEFAULT 0,
    expiration       INTEGER NOT NULL,
    authorized_until INTEGER NOT NULL,
    next_reminder    INTEGER NOT NULL DEFAULT 0,
    created          INTEGER NOT NULL,
    version          INTEGER NOT NULL,
    data             BLOB    NOT NULL
);
CREATE INDEX subscriptions_topic      ON subscriptions (tenant, topic);
CREATE INDEX subscriptions_app        ON subscriptions (tenant, app_id, id);
CREATE INDEX subscriptions_expiration ON subscriptions (expiration);
CREATE INDEX subscriptions_reminder   ON subscriptions (next_reminder);
CREATE INDEX subscriptions_url        ON subscriptions (notification_url);
