-- The shipping station's and scripts' bearer tokens. Only a SHA-256 of each token is
-- kept: a token is 32 random bytes, so a fast hash is enough to make a stolen database
-- useless for calling the API, and lookup by hash stays one index probe per request.

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    scopes       TEXT    NOT NULL,             -- comma-separated: ingest, read, operate
    token_hash   BLOB    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
