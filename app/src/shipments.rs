//! Shipment types shared by the browser, the server functions and the HTTP API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a shipment stands in writing its tracking back to the marketplace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WritebackStatus {
    /// Not tried yet.
    Pending,
    /// Failed; another attempt is scheduled.
    Retrying,
    Success,
    /// Five attempts spent, or a permanent error.
    Failed,
    /// A person confirmed the shipment in Seller Central or My eBay.
    ConfirmedManually,
}

impl WritebackStatus {
    pub const ALL: [WritebackStatus; 5] = [
        WritebackStatus::Pending,
        WritebackStatus::Retrying,
        WritebackStatus::Success,
        WritebackStatus::Failed,
        WritebackStatus::ConfirmedManually,
    ];

    /// The name used in URLs, JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            WritebackStatus::Pending => "pending",
            WritebackStatus::Retrying => "retrying",
            WritebackStatus::Success => "success",
            WritebackStatus::Failed => "failed",
            WritebackStatus::ConfirmedManually => "confirmed_manually",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            WritebackStatus::Pending => "Pending",
            WritebackStatus::Retrying => "Retrying",
            WritebackStatus::Success => "Success",
            WritebackStatus::Failed => "Failed",
            WritebackStatus::ConfirmedManually => "Confirmed manually",
        }
    }

    pub fn parse(text: &str) -> Option<WritebackStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One line of a shipment: what was shipped of one order item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentItem {
    pub order_item_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub quantity: u32,
}

/// A shipment as the grid lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShipmentRow {
    pub shipment_id: String,
    pub account: String,
    pub account_name: String,
    pub marketplace: String,
    pub order_id: String,
    pub carrier: String,
    pub service: String,
    pub tracking_number: String,
    pub quantity: u32,
    pub ship_date: DateTime<Utc>,
    pub status: WritebackStatus,
    pub error_count: u32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// How one write-back attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Success,
    /// Failed in a way that another attempt may fix (network, throttling, 5xx).
    RetryableError,
    /// Failed in a way that retrying cannot fix (invalid data, unknown order or item).
    PermanentError,
}

/// A failed attempt's error in one line, as the grid's "last error" shows it:
/// `HTTP 503 ServiceUnavailable: Service temporarily unavailable.`
pub fn error_line(http_status: Option<u16>, code: Option<&str>, message: &str) -> String {
    match (http_status, code) {
        (Some(status), Some(code)) => format!("HTTP {status} {code}: {message}"),
        (None, Some(code)) => format!("{code}: {message}"),
        _ => message.to_string(),
    }
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Success => "success",
            AttemptOutcome::RetryableError => "retryable_error",
            AttemptOutcome::PermanentError => "permanent_error",
        }
    }

    pub fn parse(text: &str) -> Option<AttemptOutcome> {
        [
            AttemptOutcome::Success,
            AttemptOutcome::RetryableError,
            AttemptOutcome::PermanentError,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            AttemptOutcome::Success => "Success",
            AttemptOutcome::RetryableError => "Error (will retry)",
            AttemptOutcome::PermanentError => "Error (permanent)",
        }
    }
}

/// One call made to the marketplace to write a shipment back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WritebackAttempt {
    /// 1 to 5 within a round; a corrected shipment starts a new round.
    pub number: u32,
    /// Which version of the shipment was written (0 = as first posted).
    pub revision: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub outcome: AttemptOutcome,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// Everything about one shipment: the detail panel and `GET /api/v1/shipments/{id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShipmentDetail {
    #[serde(flatten)]
    pub row: ShipmentRow,
    pub items: Vec<ShipmentLine>,
    /// The order as the marketplace last reported it (imported, or read back after the
    /// write-back); `None` until Shipback has read it.
    pub marketplace_order: Option<MarketplaceOrderState>,
    /// The marketplace-side package id; stays the same when a shipment is corrected.
    pub package_reference_id: String,
    pub revision: u32,
    pub created_at: DateTime<Utc>,
    pub attempts: Vec<WritebackAttempt>,
    /// Set once a person confirmed the shipment by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_confirmation: Option<ManualConfirmation>,
}

/// One line of a shipment with what the marketplace tells about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShipmentLine {
    /// As the station sent it, or as found in the marketplace's order for a line sent
    /// by SKU only ("" until found).
    pub order_item_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub quantity: u32,
    /// ASIN or eBay item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// e.g. "1.35 pounds", from the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
}

/// The order's state on the marketplace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarketplaceOrderState {
    /// The marketplace's own word: Unshipped, PartiallyShipped, Shipped, Completed...
    pub status: String,
    /// The marketplace shows the order as shipped.
    pub shipped: bool,
    /// When Shipback read it.
    pub checked_at: DateTime<Utc>,
}

/// A person's record that a shipment was confirmed by hand on the marketplace (the
/// manual's "Confirm Shipment" procedure).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManualConfirmation {
    pub confirmed_by: String,
    pub note: String,
    pub confirmed_at: DateTime<Utc>,
}

impl ManualConfirmation {
    pub const MAX_NAME_CHARS: usize = 100;
    pub const MAX_NOTE_CHARS: usize = 1000;

    /// A confirmation as a person entered it, checked the same way in the browser and
    /// on the server.
    pub fn new(
        confirmed_by: &str,
        note: &str,
        confirmed_at: DateTime<Utc>,
    ) -> Result<ManualConfirmation, String> {
        let confirmed_by = confirmed_by.trim();
        if confirmed_by.is_empty() {
            return Err("Enter who confirmed the shipment on the marketplace.".into());
        }
        if confirmed_by.chars().count() > Self::MAX_NAME_CHARS {
            return Err(format!(
                "The name is at most {} characters.",
                Self::MAX_NAME_CHARS
            ));
        }
        let note = note.trim();
        if note.chars().count() > Self::MAX_NOTE_CHARS {
            return Err(format!(
                "The note is at most {} characters.",
                Self::MAX_NOTE_CHARS
            ));
        }
        Ok(ManualConfirmation {
            confirmed_by: confirmed_by.to_string(),
            note: note.to_string(),
            confirmed_at,
        })
    }
}

/// At most this many shipments are retried by one request.
pub const MAX_RETRY_BATCH: usize = 1000;

/// What became of an action on one shipment (retry now, confirm manually).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionResult {
    pub shipment_id: String,
    pub done: bool,
    /// Why it was not done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What the filter bar offers to choose from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterOptions {
    /// Account key and name.
    pub accounts: Vec<(String, String)>,
    pub carriers: Vec<String>,
}

/// One page of a keyset-paginated listing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back as `cursor` to get the page after this one; `None` on the last page.
    pub next_cursor: Option<String>,
    /// How many items match the filters, over all pages.
    pub total: u64,
}

/// Where the dashboard's Export button downloads the grid as CSV (scripts use
/// `/api/v1/shipments/export.csv` with a `read` token).
pub const DASHBOARD_EXPORT_PATH: &str = "/export/shipments.csv";
