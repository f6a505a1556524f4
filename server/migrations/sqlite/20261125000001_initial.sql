-- Shipback's first schema: marketplace accounts, shipments to write back, and every
-- write-back attempt. Instants are Unix milliseconds (UTC) so that they sort and compare
-- as integers in keyset pagination.

CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    key            TEXT    NOT NULL UNIQUE,   -- what the shipping station names the account by
    marketplace    TEXT    NOT NULL,          -- 'amazon' | 'ebay'
    display_name   TEXT    NOT NULL,
    company        TEXT    NOT NULL,
    enabled        INTEGER NOT NULL DEFAULT 1,
    marketplace_id TEXT    NOT NULL,          -- Amazon marketplace id (ATVPDKIKX0DER), eBay site id
    region         TEXT    NOT NULL,          -- 'na', 'eu', 'fe'
    api_base_url   TEXT    NOT NULL,          -- SP-API endpoint, or the emulator
    auth_base_url  TEXT    NOT NULL,          -- Login with Amazon endpoint, or the emulator
    client_id      TEXT    NOT NULL,
    client_secret  TEXT    NOT NULL,
    refresh_token  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE shipments (
    -- Also the packageReferenceId sent to Amazon: it never changes, so a corrected
    -- shipment updates the same package instead of adding a second one.
    id              INTEGER PRIMARY KEY,
    shipment_id     TEXT    NOT NULL UNIQUE,  -- the shipping station's id
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    account_key     TEXT    NOT NULL,         -- copy of accounts.key, so the grid sorts without a join
    order_id        TEXT    NOT NULL,
    carrier         TEXT    NOT NULL,
    service         TEXT    NOT NULL,
    tracking_number TEXT    NOT NULL,
    ship_date       INTEGER NOT NULL,
    items           TEXT    NOT NULL,         -- JSON [{order_item_id, sku, quantity}]
    quantity        INTEGER NOT NULL,         -- sum of the items' quantities
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'retrying', 'success', 'failed', 'confirmed_manually')),
    error_count     INTEGER NOT NULL DEFAULT 0,   -- failed attempts in the current round
    revision        INTEGER NOT NULL DEFAULT 0,   -- bumped by each corrected re-post
    last_attempt_at INTEGER NOT NULL DEFAULT 0,   -- 0: never attempted
    next_attempt_at INTEGER,                      -- NULL: nothing scheduled
    last_error      TEXT,
    -- The worker's claim: who holds it, until when, and the fencing token that makes a
    -- late answer from an older claim harmless.
    lease_owner     TEXT,
    lease_until     INTEGER,
    fence           INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- The worker's queue: only scheduled shipments are in it.
CREATE INDEX shipments_due ON shipments (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- The grid's most used views: by ship date or last attempt, optionally by status.
CREATE INDEX shipments_ship_date ON shipments (ship_date, id);
CREATE INDEX shipments_status_ship_date ON shipments (status, ship_date, id);
CREATE INDEX shipments_last_attempt ON shipments (last_attempt_at, id);
CREATE INDEX shipments_status_last_attempt ON shipments (status, last_attempt_at, id);

CREATE TABLE writeback_attempts (
    id            INTEGER PRIMARY KEY,
    shipment_row  INTEGER NOT NULL REFERENCES shipments(id) ON DELETE CASCADE,
    revision      INTEGER NOT NULL,
    number        INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    outcome       TEXT    NOT NULL CHECK (outcome IN ('success', 'retryable_error', 'permanent_error')),
    http_status   INTEGER,
    error_code    TEXT,
    error_message TEXT,
    worker        TEXT    NOT NULL
);

CREATE INDEX writeback_attempts_shipment ON writeback_attempts (shipment_row, id);
