//! A shipment as the station posts it, what posting it did, and as a worker holds it.

use crate::carriers::MarketplaceCarrier;
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

/// A shipment a worker holds the lease on, with what it needs to write it back.
#[derive(Clone, Debug)]
pub struct ClaimedShipment {
    /// The row id, also the marketplace package reference.
    pub row_id: i64,
    pub fence: i64,
    pub shipment_id: String,
    pub account_id: i64,
    pub order_id: String,
    pub carrier: String,
    pub service: String,
    pub tracking_number: String,
    pub ship_date: DateTime<Utc>,
    pub items: Vec<ShipmentItem>,
    pub revision: i64,
    /// Failed attempts so far in this round.
    pub error_count: i64,
    /// The carrier as the account's marketplace is sent it: the worker maps the
    /// station's name before the call (`crate::carriers`); `None` until then.
    pub marketplace_carrier: Option<MarketplaceCarrier>,
    /// The last call's outcome was never learnt (or the claim was taken over from a
    /// worker that stopped mid-call): read the marketplace back before sending again.
    pub outcome_unknown: bool,
    /// What the shipment waited on when it was claimed: a paused API's probe.
    pub waiting_on: Option<String>,
}

impl ClaimedShipment {
    /// The order item ids of its lines.
    pub fn line_ids(&self) -> Vec<String> {
        self.items.iter().map(|i| i.order_item_id.clone()).collect()
    }
}
