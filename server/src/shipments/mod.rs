//! Shipments: what the shipping station hands over, how it is checked, and the HTTP API.

pub mod http;
pub mod live;
pub mod openapi;
pub mod validate;

use app::shipments::ShipmentItem;
use chrono::{DateTime, Utc};

/// A shipment as posted by the station, checked field by field.
#[derive(Clone, Debug, PartialEq)]
pub struct NewShipment {
    pub shipment_id: String,
    /// The account key; the store resolves it.
    pub account: String,
    pub order_id: String,
    pub carrier: String,
    pub service: String,
    pub tracking_number: String,
    pub ship_date: DateTime<Utc>,
    pub items: Vec<ShipmentItem>,
}

impl NewShipment {
    pub fn quantity(&self) -> u32 {
        self.items.iter().map(|i| i.quantity).sum()
    }
}

/// What posting one shipment did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestOutcome {
    /// New: queued for write-back.
    Created,
    /// Known, with changed content: a corrective write-back is queued.
    Updated,
    /// Known, same content: nothing changed.
    Unchanged,
}
