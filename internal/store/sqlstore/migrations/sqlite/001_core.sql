CREATE TABLE objects (
    tenant   TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    id       TEXT    NOT NULL,
    owner    TEXT    NOT NULL DEFAULT '',
    parent   TEXT    NOT NULL DEFAULT '',
    alt      TEXT    NOT NULL DEFAULT '',
    deleted  INTEGER NOT NULL DEFAULT 0,
    version  INTEGER NOT NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    data     BLOB    NOT NULL,
    PRIMARY KEY (tenant, kind, id)
) WITHOUT ROWID;
CREATE INDEX objects_owner  ON objects (tenant, kind, owner, id);
CREATE INDEX objects_parent ON objects (tenant, kind, parent, id);
CREATE INDEX objects_alt    ON objects (tenant, kind, alt, id);

CREATE TABLE changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    change_type TEXT    NOT NULL,
    topics      TEXT    NOT NULL,
    time        INTEGER NOT NULL,
    before      BLOB,
    after       BLOB,
    extra       BLOB
);
CREATE INDEX changes_time ON changes (time);

CREATE TABLE change_topics (
    tenant TEXT    NOT NULL,
    topic  TEXT    NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (tenant, topic, seq)
) WITHOUT ROWID;
CREATE INDEX change_topics_seq ON change_topics (seq);

CREATE TABLE blobs (
    key  TEXT PRIMARY KEY,
    data BLOB NOT NULL
);
