-- What Shipback learns from the marketplaces besides write-back answers: imported
-- orders and their lines (for the order's status after a write-back, and for order
-- item ids when the station sends SKUs only), catalog data of the items shipped, and
-- where each account's order import stands.

-- Which API writes shipments back, where a marketplace offers two: for eBay,
-- 'trading' (CompleteSale, the default) or 'fulfillment' (createShippingFulfillment).
ALTER TABLE accounts ADD COLUMN writeback_api TEXT NOT NULL DEFAULT '';

CREATE TABLE marketplace_orders (
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    order_id      TEXT    NOT NULL,
    status        TEXT    NOT NULL,          -- the marketplace's own word (Shipped, Unshipped...)
    shipped       INTEGER NOT NULL,          -- the marketplace shows it shipped
    purchase_date INTEGER,
    last_updated  INTEGER NOT NULL,          -- the marketplace's last change
    checked_at    INTEGER NOT NULL,          -- when Shipback last read it
    PRIMARY KEY (account_id, order_id)
);

CREATE TABLE marketplace_order_items (
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    order_id         TEXT    NOT NULL,
    order_item_id    TEXT    NOT NULL,
    sku              TEXT,
    item_number      TEXT,                   -- ASIN, or eBay item id
    title            TEXT,
    quantity_ordered INTEGER NOT NULL,
    quantity_shipped INTEGER NOT NULL,
    PRIMARY KEY (account_id, order_id, order_item_id)
);

CREATE INDEX marketplace_order_items_item ON marketplace_order_items (account_id, item_number);

CREATE TABLE catalog_items (
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    item_number  TEXT    NOT NULL,           -- ASIN
    title        TEXT,
    weight_value REAL,
    weight_unit  TEXT,
    image_url    TEXT,
    found        INTEGER NOT NULL,           -- 0: the catalog does not know the item
    fetched_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, item_number)
);

-- Orders whose status to read after a successful write-back; filled in the same
-- transaction as the success, drained by the order sync.
CREATE TABLE order_checks (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    order_id   TEXT    NOT NULL,
    due_at     INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, order_id)
);

CREATE INDEX order_checks_due ON order_checks (due_at);

-- Where each account's order import stands: orders changed after this are not in yet.
CREATE TABLE order_import_cursors (
    account_id     INTEGER PRIMARY KEY REFERENCES accounts(id),
    complete_until INTEGER NOT NULL,
    last_run_at    INTEGER NOT NULL
);
