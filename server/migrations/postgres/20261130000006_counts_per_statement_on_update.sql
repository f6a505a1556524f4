-- The grid's counters, kept per statement for updates and deletes too (see migration 3
-- for inserts). A worker records a run of results in one UPDATE, and the row trigger's
-- four upserts for each shipment whose status moved were most of what recording cost
-- PostgreSQL. A trigger with transition tables cannot be limited to columns, so these
-- fire for every UPDATE of shipments, claims included: a row whose counted columns did
-- not move cancels out in the sums, and a statement that moved none writes nothing.
-- The counters are written in key order, so that two writers never wait on each
-- other's counters crosswise.

DROP TRIGGER shipment_counts ON shipments;
DROP FUNCTION shipment_counts();
DROP FUNCTION shipment_counts_add(BIGINT, TEXT, TEXT, TEXT, BIGINT);

CREATE FUNCTION shipment_counts_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO shipment_counts_by_day AS c (day, status, account_key, carrier, n)
    SELECT day, status, account_key, carrier, sum(delta) FROM (
        SELECT ship_date / 86400000 AS day, status, account_key, carrier, -1 AS delta
          FROM before_update
        UNION ALL
        SELECT ship_date / 86400000, status, account_key, carrier, 1 FROM after_update
    ) AS moves
     GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, status, account_key, carrier) DO UPDATE SET n = c.n + excluded.n;
    INSERT INTO shipment_counts_by_block AS c (block, status, account_key, carrier, n)
    SELECT block, status, account_key, carrier, sum(delta) FROM (
        SELECT ship_date / 86400000 / 32 AS block, status, account_key, carrier, -1 AS delta
          FROM before_update
        UNION ALL
        SELECT ship_date / 86400000 / 32, status, account_key, carrier, 1 FROM after_update
    ) AS moves
     GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (block, status, account_key, carrier) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END;
$$;

CREATE TRIGGER shipment_counts_updated AFTER UPDATE ON shipments
REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
FOR EACH STATEMENT EXECUTE FUNCTION shipment_counts_updated();

CREATE FUNCTION shipment_counts_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO shipment_counts_by_day AS c (day, status, account_key, carrier, n)
    SELECT ship_date / 86400000, status, account_key, carrier, -count(*) FROM deleted
     GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, status, account_key, carrier) DO UPDATE SET n = c.n + excluded.n;
    INSERT INTO shipment_counts_by_block AS c (block, status, account_key, carrier, n)
    SELECT ship_date / 86400000 / 32, status, account_key, carrier, -count(*) FROM deleted
     GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (block, status, account_key, carrier) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END;
$$;

CREATE TRIGGER shipment_counts_deleted AFTER DELETE ON shipments
REFERENCING OLD TABLE AS deleted
FOR EACH STATEMENT EXECUTE FUNCTION shipment_counts_deleted();
