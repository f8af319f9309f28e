-- Blobs are kept as ordered parts so that content can grow by appending a piece
-- (store.BlobTx.AppendBlob) and move between keys (ConcatBlob) without any caller
-- holding the whole content in memory. A blob has at least one part; an empty blob
-- is one empty part.
CREATE TABLE blob_parts (
    key  TEXT    NOT NULL,
    seq  INTEGER NOT NULL,
    data BLOB    NOT NULL,
    PRIMARY KEY (key, seq)
);
INSERT INTO blob_parts (key, seq, data) SELECT key, 0, data FROM blobs;
DROP TABLE blobs;
