-- Retention deletes finished shipments oldest first, in small batches
-- (docs/operations.md#retention): each batch finds its rows through this index instead
-- of reading every shipment.
CREATE INDEX shipments_finished_updated ON shipments (updated_at, id)
    WHERE status IN ('success', 'confirmed_manually', 'failed');
