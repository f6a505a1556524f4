-- The grid's total count, kept as the shipments change, so that counting a filter over
-- a million shipments sums a few hundred counters instead of reading every matching
-- index entry. Two grains: a UTC day of ship date, and a block of 32 days, so that a
-- long date range sums blocks and only its ends sum days. Triggers keep both exact
-- whatever code path writes a shipment (ingest, worker, retry, manual confirmation).

CREATE TABLE shipment_counts_by_day (
    day         INTEGER NOT NULL,   -- ship_date / 86,400,000: days since 1970-01-01 UTC
    status      TEXT    NOT NULL,
    account_key TEXT    NOT NULL,
    carrier     TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (day, status, account_key, carrier)
) WITHOUT ROWID;

CREATE TABLE shipment_counts_by_block (
    block       INTEGER NOT NULL,   -- day / 32
    status      TEXT    NOT NULL,
    account_key TEXT    NOT NULL,
    carrier     TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (block, status, account_key, carrier)
) WITHOUT ROWID;

INSERT INTO shipment_counts_by_day (day, status, account_key, carrier, n)
SELECT ship_date / 86400000, status, account_key, carrier, COUNT(*)
FROM shipments GROUP BY 1, 2, 3, 4;

INSERT INTO shipment_counts_by_block (block, status, account_key, carrier, n)
SELECT day / 32, status, account_key, carrier, SUM(n)
FROM shipment_counts_by_day GROUP BY 1, 2, 3, 4;

CREATE TRIGGER shipment_counts_insert AFTER INSERT ON shipments
BEGIN
    INSERT INTO shipment_counts_by_day (day, status, account_key, carrier, n)
    VALUES (NEW.ship_date / 86400000, NEW.status, NEW.account_key, NEW.carrier, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO shipment_counts_by_block (block, status, account_key, carrier, n)
    VALUES (NEW.ship_date / 86400000 / 32, NEW.status, NEW.account_key, NEW.carrier, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER shipment_counts_delete AFTER DELETE ON shipments
BEGIN
    UPDATE shipment_counts_by_day SET n = n - 1
    WHERE day = OLD.ship_date / 86400000 AND status = OLD.status
      AND account_key = OLD.account_key AND carrier = OLD.carrier;
    UPDATE shipment_counts_by_block SET n = n - 1
    WHERE block = OLD.ship_date / 86400000 / 32 AND status = OLD.status
      AND account_key = OLD.account_key AND carrier = OLD.carrier;
END;

CREATE TRIGGER shipment_counts_update AFTER UPDATE OF status, account_key, carrier, ship_date ON shipments
WHEN OLD.status IS NOT NEW.status
  OR OLD.account_key IS NOT NEW.account_key
  OR OLD.carrier IS NOT NEW.carrier
  OR OLD.ship_date / 86400000 IS NOT NEW.ship_date / 86400000
BEGIN
    UPDATE shipment_counts_by_day SET n = n - 1
    WHERE day = OLD.ship_date / 86400000 AND status = OLD.status
      AND account_key = OLD.account_key AND carrier = OLD.carrier;
    UPDATE shipment_counts_by_block SET n = n - 1
    WHERE block = OLD.ship_date / 86400000 / 32 AND status = OLD.status
      AND account_key = OLD.account_key AND carrier = OLD.carrier;
    INSERT INTO shipment_counts_by_day (day, status, account_key, carrier, n)
    VALUES (NEW.ship_date / 86400000, NEW.status, NEW.account_key, NEW.carrier, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO shipment_counts_by_block (block, status, account_key, carrier, n)
    VALUES (NEW.ship_date / 86400000 / 32, NEW.status, NEW.account_key, NEW.carrier, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
