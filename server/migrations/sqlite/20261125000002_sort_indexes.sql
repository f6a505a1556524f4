-- Every column the grid sorts by gets an index, so that a sorted page is read in index
-- order by keyset instead of sorting the table. SQLite appends the rowid (id) to every
-- index, which is exactly the grid's tie-breaker.
CREATE INDEX shipments_order_id ON shipments (order_id);
CREATE INDEX shipments_account_key ON shipments (account_key);
CREATE INDEX shipments_carrier ON shipments (carrier);
CREATE INDEX shipments_tracking_number ON shipments (tracking_number);
CREATE INDEX shipments_quantity ON shipments (quantity);
CREATE INDEX shipments_status ON shipments (status);
CREATE INDEX shipments_error_count ON shipments (error_count);
