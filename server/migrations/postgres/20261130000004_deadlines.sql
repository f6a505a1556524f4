-- Deadlines (docs/deadlines.md); see the SQLite migration of the same name for why
-- "no deadline known" is the largest integer rather than NULL.
ALTER TABLE shipments ADD COLUMN ship_by BIGINT NOT NULL DEFAULT 9223372036854775807;
ALTER TABLE shipments ADD COLUMN confirmed_at BIGINT;
ALTER TABLE shipments ADD COLUMN deadline_alerted BIGINT NOT NULL DEFAULT 0;

UPDATE shipments SET confirmed_at = updated_at WHERE status IN ('success', 'confirmed_manually');
UPDATE shipments s SET ship_by = o.ship_by
  FROM marketplace_orders o
 WHERE o.account_id = s.account_id AND o.order_id = s.order_id COLLATE "C" AND o.ship_by IS NOT NULL;

CREATE INDEX shipments_ship_by ON shipments (ship_by, id) INCLUDE (status, account_key, carrier, ship_date);
CREATE INDEX shipments_unconfirmed_ship_by ON shipments (ship_by, account_id)
    WHERE confirmed_at IS NULL;

ALTER TABLE users ADD COLUMN time_zone TEXT;
