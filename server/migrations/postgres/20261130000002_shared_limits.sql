-- The marketplaces' usage plans, kept by every instance together (see the SQLite
-- migration of the same name and store/pacing.rs).
CREATE TABLE api_pacing (
    key TEXT   PRIMARY KEY,
    tat BIGINT NOT NULL
);

-- Wrong passwords, counted by every instance together (see the SQLite migration).
CREATE TABLE sign_in_failures (
    key      TEXT   PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_at  BIGINT NOT NULL
);

-- The marketplaces' OAuth access tokens, sealed (see the SQLite migration).
CREATE TABLE marketplace_access_tokens (
    key        TEXT   PRIMARY KEY,
    token      TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
