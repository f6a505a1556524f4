//! A shipment the deadline webhook announces.

use app::shipments::WritebackStatus;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Which line a shipment crossed: each is announced once per shipment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineThreshold {
    /// Not confirmed, and due within the warning time.
    DueSoon,
    /// Not confirmed, and its deadline has passed.
    Late,
}

/// An unconfirmed shipment that crossed a threshold, claimed for the webhook.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadlineAlert {
    pub shipment_id: String,
    pub account_id: i64,
    pub order_id: String,
    pub status: WritebackStatus,
    pub ship_by: DateTime<Utc>,
    pub threshold: DeadlineThreshold,
}
