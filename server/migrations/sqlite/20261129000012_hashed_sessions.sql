-- Sessions keyed by the SHA-256 of their id: whoever reads the database (a backup, a
-- copied file) finds no id that would sign them in. The data is the session's JSON.
-- Sessions of the old table end: everyone signs in once more after this upgrade.
CREATE TABLE sessions (
    id_hash    BLOB    PRIMARY KEY NOT NULL,
    data       TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

DROP TABLE tower_sessions;
