-- Amazon's Orders API 2026-01-01 gives each order its ship-by window and its
-- packages, with what the buyer sees of each (carrier, service, tracking number);
-- eBay's GetOrders gives each line's tracking numbers. Both are kept with the order.
ALTER TABLE marketplace_orders ADD COLUMN ship_by INTEGER;           -- latest ship date
ALTER TABLE marketplace_orders ADD COLUMN ship_by_earliest INTEGER;
-- JSON: [{"reference_id", "carrier", "service", "tracking_number", "items": [[line, qty]]}]
ALTER TABLE marketplace_orders ADD COLUMN packages TEXT NOT NULL DEFAULT '[]';
