//! The Carriers screen's data: the admins' mappings from the carrier names stations use
//! to what each marketplace accepts, the names shipments wait on, and the codes each
//! marketplace takes.

use serde::{Deserialize, Serialize};

/// One mapping, as the screen shows and edits it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CarrierMappingRow {
    /// `amazon` or `ebay`.
    pub marketplace: String,
    /// As the station names the carrier.
    pub station_name: String,
    /// Amazon `carrierCode`, eBay `ShippingCarrierUsed`.
    pub code: String,
    /// With `Other`: the carrier's name as the buyer reads it.
    #[serde(default)]
    pub name: String,
}

/// A carrier name shipments wait on: nobody mapped it for that marketplace yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnmappedCarrier {
    pub marketplace: String,
    pub station_name: String,
    pub waiting: u64,
}

/// Everything the Carriers screen shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CarriersScreen {
    pub mappings: Vec<CarrierMappingRow>,
    pub unmapped: Vec<UnmappedCarrier>,
    /// The codes each marketplace accepts, for the code field's choices.
    pub amazon_codes: Vec<String>,
    pub ebay_codes: Vec<String>,
}

/// The columns of the CSV an admin imports (a header line first, then one mapping per
/// line): `marketplace,station_carrier,code,name`.
pub const CSV_HEADER: &str = "marketplace,station_carrier,code,name";
