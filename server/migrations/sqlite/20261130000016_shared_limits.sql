-- The marketplaces' usage plans, kept by every process together: for each account's
-- operation, the theoretical arrival time of its next call (GCRA, in microseconds since
-- 1970). A call takes its turn with one statement (store/pacing.rs), so that three
-- workers keep the plan one worker would.
CREATE TABLE api_pacing (
    key TEXT    PRIMARY KEY,   -- '<operation>:<account id>'
    tat INTEGER NOT NULL
);

-- Wrong passwords, per name and per address, counted by every instance together (the
-- sign-in throttle, server/src/people/mod.rs).
CREATE TABLE sign_in_failures (
    key      TEXT    PRIMARY KEY,   -- 'user:<name>' or 'ip:<address>'
    failures INTEGER NOT NULL,
    last_at  INTEGER NOT NULL
);

-- The marketplaces' OAuth access tokens, sealed like the credentials, so that a second
-- worker uses the token the first one fetched instead of exchanging its own.
CREATE TABLE marketplace_access_tokens (
    key        TEXT    PRIMARY KEY,   -- '<marketplace>:<account id>'
    token      TEXT    NOT NULL,      -- sealed (server/src/secrets)
    expires_at INTEGER NOT NULL
);
