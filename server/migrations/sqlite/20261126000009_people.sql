-- People who sign in to the dashboard, and their sessions.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    -- argon2id, in the PHC string format (algorithm, parameters and salt included).
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at    INTEGER NOT NULL
);

-- The schema tower-sessions' SQLite store reads and writes; created here, by a
-- migration, rather than by the store's own `migrate()`.
CREATE TABLE tower_sessions (
    id          TEXT    PRIMARY KEY NOT NULL,
    data        BLOB    NOT NULL,
    expiry_date INTEGER NOT NULL
);
