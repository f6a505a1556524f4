-- The manual's "Confirm Shipment" procedure: a person confirmed a failed shipment by
-- hand in Seller Central or My eBay. Who, when and why are kept.

CREATE TABLE manual_confirmations (
    id           INTEGER PRIMARY KEY,
    shipment_row INTEGER NOT NULL REFERENCES shipments(id) ON DELETE CASCADE,
    revision     INTEGER NOT NULL,            -- the round that had failed
    confirmed_by TEXT    NOT NULL,
    note         TEXT    NOT NULL,
    confirmed_at INTEGER NOT NULL
);

CREATE INDEX manual_confirmations_shipment ON manual_confirmations (shipment_row, id);
