-- A counter that moves whenever something the shipments screen shows changes: a
-- shipment's own columns, its attempts, a manual confirmation, and the marketplace's
-- order, lines and catalog data its detail shows. The live feed tells open pages when it
-- moves, so that other commits (the audit log, sessions, tokens' last use, API health,
-- orders without a shipment, a worker's claim) no longer make every open grid read again.

CREATE TABLE change_counters (
    topic TEXT    PRIMARY KEY,
    n     INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO change_counters (topic, n) VALUES ('shipments', 0);

CREATE TRIGGER shipments_changed_on_insert AFTER INSERT ON shipments
BEGIN
    UPDATE change_counters SET n = n + 1 WHERE topic = 'shipments';
END;

-- Not lease_owner, lease_until and fence: a worker's claim changes nothing on screen.
CREATE TRIGGER shipments_changed_on_update AFTER UPDATE OF
    account_id, account_key, order_id, carrier, service, tracking_number, ship_date, items,
    quantity, status, error_count, revision, last_attempt_at, next_attempt_at, last_error
ON shipments
BEGIN
    UPDATE change_counters SET n = n + 1 WHERE topic = 'shipments';
END;

CREATE TRIGGER shipments_changed_on_delete AFTER DELETE ON shipments
BEGIN
    UPDATE change_counters SET n = n + 1 WHERE topic = 'shipments';
END;

CREATE TRIGGER shipments_changed_on_attempt AFTER INSERT ON writeback_attempts
BEGIN
    UPDATE change_counters SET n = n + 1 WHERE topic = 'shipments';
END;

CREATE TRIGGER shipments_changed_on_confirmation AFTER INSERT ON manual_confirmations
BEGIN
    UPDATE change_counters SET n = n + 1 WHERE topic = 'shipments';
END;

-- The order's status shows in a shipment's detail; most imported orders have no shipment.
CREATE TRIGGER shipments_changed_on_order_insert AFTER INSERT ON marketplace_orders
WHEN EXISTS (SELECT 1 FROM shipments WHERE order_id = NEW.order_id AND account_id = NEW.account_id)
BEGIN
    UPDATE change_counters SET n = n + 1 WHERE topic = 'shipments';
END;

CREATE TRIGGER shipments_changed_on_order_update AFTER UPDATE OF status, shipped ON marketplace_orders
WHEN EXISTS (SELECT 1 FROM shipments WHERE order_id = NEW.order_id AND account_id = NEW.account_id)
BEGIN
    UPDATE change_counters SET n = n + 1 WHERE topic = 'shipments';
END;

CREATE TRIGGER shipments_changed_on_line_insert AFTER INSERT ON marketplace_order_items
WHEN EXISTS (SELECT 1 FROM shipments WHERE order_id = NEW.order_id AND account_id = NEW.account_id)
BEGIN
    UPDATE change_counters SET n = n + 1 WHERE topic = 'shipments';
END;

CREATE TRIGGER shipments_changed_on_line_update AFTER UPDATE ON marketplace_order_items
WHEN EXISTS (SELECT 1 FROM shipments WHERE order_id = NEW.order_id AND account_id = NEW.account_id)
BEGIN
    UPDATE change_counters SET n = n + 1 WHERE topic = 'shipments';
END;

-- Catalog data (pictures, titles, weights) is fetched daily per item: rare enough to
-- count every write.
CREATE TRIGGER shipments_changed_on_catalog_insert AFTER INSERT ON catalog_items
BEGIN
    UPDATE change_counters SET n = n + 1 WHERE topic = 'shipments';
END;

CREATE TRIGGER shipments_changed_on_catalog_update AFTER UPDATE ON catalog_items
BEGIN
    UPDATE change_counters SET n = n + 1 WHERE topic = 'shipments';
END;
