-- What operators and admins did, and every sign-in: who, what, to what, when, from where.
-- Rows are only ever added.

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    role    TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    detail  TEXT    NOT NULL,
    address TEXT    NOT NULL
);
