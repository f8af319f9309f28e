CREATE TABLE objects (
    tenant   TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    id       TEXT    NOT NULL,
    owner    TEXT    NOT NULL DEFAULT '',
    parent   TEXT    NOT NULL DEFAULT '',
    alt      TEXT    NOT NULL DEFAULT '',
    deleted  INTEGER NOT NULL DEFAULT 0,
    version  BIGINT  NOT NULL,
    created  BIGINT  NOT NULL,
    updated  BIGINT  NOT NULL,
    data     BYTEA   NOT NULL,
    PRIMARY KEY (tenant, kind, id)
);
CREATE INDEX objects_owner  ON objects (tenant, kind, owner, id);
CREATE INDEX objects_parent ON objects (tenant, kind, parent, id);
CREATE INDEX objects_alt    ON objects (tenant, kind, alt, id);

CREATE TABLE changes (
    seq         BIGSERIAL PRIMARY KEY,
    tenant      TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    id          TEXT   NOT NULL,
    change_type TEXT   NOT NULL,
    topics      TEXT   NOT NULL,
    time        BIGINT NOT NULL,
    before      BYTEA,
    after       BYTEA,
    extra       BYTEA
);
CREATE INDEX changes_time ON changes (time);

CREATE TABLE change_topics (
    tenant TEXT   NOT NULL,
    topic  TEXT   NOT NULL,
    seq    BIGINT NOT NULL,
    PRIMARY KEY (tenant, topic, seq)
);
CREATE INDEX change_topics_seq ON change_topics (seq);

CREATE TABLE blobs (
    key  TEXT PRIMARY KEY,
    data BYTEA NOT NULL
);
