-- Carrier names as stations write them, mapped by admins to what each marketplace
-- accepts (Admin -> Carriers); the built-in table of each marketplace's codes is in
-- server/src/carriers.rs.
CREATE TABLE carrier_mappings (
    marketplace  TEXT NOT NULL,               -- 'amazon' | 'ebay'
    station_key  TEXT NOT NULL,               -- the station's name, normalised
    station_name TEXT NOT NULL,               -- as the admin wrote it
    code         TEXT NOT NULL,               -- Amazon carrierCode, eBay ShippingCarrierUsed
    name         TEXT NOT NULL DEFAULT '',    -- with 'Other': the carrier's name
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (marketplace, station_key)
);

-- What a shipment that is not attempted waits on (e.g. 'carrier:amazon:bobsvans'),
-- with the reason in last_error; NULL for every shipment that is simply due or done.
ALTER TABLE shipments ADD COLUMN waiting_on TEXT;
CREATE INDEX shipments_waiting ON shipments (waiting_on) WHERE waiting_on IS NOT NULL;
