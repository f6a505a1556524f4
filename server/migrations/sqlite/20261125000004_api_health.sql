-- Connection status: the health of each account's marketplace APIs, judged from the
-- outcomes of their calls, kept so that a restart does not forget it.

CREATE TABLE api_health (
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    api          TEXT    NOT NULL CHECK (api IN ('products', 'writeback', 'orders', 'trading')),
    health       TEXT    NOT NULL CHECK (health IN ('none', 'green', 'yellow', 'red')),
    sentence     TEXT    NOT NULL,            -- the plain-sentence explanation
    figures      TEXT    NOT NULL,            -- JSON: the figures behind it
    since        INTEGER NOT NULL,            -- when the API turned this health
    last_call_at INTEGER,
    recent_calls TEXT    NOT NULL,            -- JSON: the calls judged (the window)
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, api)
);

-- The last day of each API, in slices: the panel's sparkline.
CREATE TABLE api_health_history (
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    api          TEXT    NOT NULL,
    bucket_start INTEGER NOT NULL,            -- a multiple of the slice length
    calls        INTEGER NOT NULL,
    failed       INTEGER NOT NULL,
    worst        INTEGER NOT NULL CHECK (worst BETWEEN 0 AND 3),  -- 0 none, 1 green, 2 yellow, 3 red
    PRIMARY KEY (account_id, api, bucket_start)
);

-- The grid filtered by account (the panel's badges link to it).
CREATE INDEX shipments_account_ship_date ON shipments (account_key, ship_date, id);
