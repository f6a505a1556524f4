-- Deadlines (docs/deadlines.md). Each shipment carries its order's latest ship date,
-- copied from marketplace_orders when the order is imported (or when the shipment
-- arrives after it), so that the grid sorts and filters by it along an index.
-- 9223372036854775807 (the largest integer) means "no deadline known": it sorts after
-- every real date in both databases, where NULL would sort first in one and last in
-- the other and the page cursor would disagree.
ALTER TABLE shipments ADD COLUMN ship_by INTEGER NOT NULL DEFAULT 9223372036854775807;
-- When the marketplace first learnt the shipment was sent (the write-back's success, or a
-- person's manual confirmation); kept through later corrections, because the marketplace
-- judges lateness by the first confirmation.
ALTER TABLE shipments ADD COLUMN confirmed_at INTEGER;
-- The deadline_at_risk webhook sent so far: 0 none, 1 due within the warning time, 2 late.
ALTER TABLE shipments ADD COLUMN deadline_alerted INTEGER NOT NULL DEFAULT 0;

UPDATE shipments SET confirmed_at = updated_at WHERE status IN ('success', 'confirmed_manually');
UPDATE shipments SET ship_by = (
    SELECT o.ship_by FROM marketplace_orders o
     WHERE o.account_id = shipments.account_id AND o.order_id = shipments.order_id)
 WHERE EXISTS (
    SELECT 1 FROM marketplace_orders o
     WHERE o.account_id = shipments.account_id AND o.order_id = shipments.order_id
       AND o.ship_by IS NOT NULL);

-- The grid's sort by ship-by, carrying the filter columns like the other sort indexes.
CREATE INDEX shipments_ship_by ON shipments (ship_by, id, status, account_key, carrier, ship_date);
-- What is still to be confirmed, by deadline: the "due" and "late" filters, the status
-- panel's counts and the deadline webhook read only these.
CREATE INDEX shipments_unconfirmed_ship_by ON shipments (ship_by, account_id)
    WHERE confirmed_at IS NULL;

-- Each person's time zone (an IANA name); NULL follows the site's --time-zone.
ALTER TABLE users ADD COLUMN time_zone TEXT;
