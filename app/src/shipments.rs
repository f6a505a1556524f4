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

    /// Still to be written back (pending or retrying).
    pub fn is_open(self) -> bool {
        matches!(self, WritebackStatus::Pending | WritebackStatus::Retrying)
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
    /// Not due: it waits on something outside the shipment (its account disabled or
    /// unusable, its marketplace's API paused, a carrier nobody mapped), which
    /// `last_error` names. No attempt is spent meanwhile.
    #[serde(default)]
    pub waiting: bool,
    /// The order's latest ship date, when Shipback has read the order and the
    /// marketplace gives one (docs/deadlines.md).
    #[serde(default)]
    pub ship_by: Option<DateTime<Utc>>,
    /// When the marketplace first learnt the shipment was sent: the write-back's
    /// success, or a person's manual confirmation.
    #[serde(default)]
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl ShipmentRow {
    /// The row as the API and the CSV export carry it: the times in its kept sentence
    /// (why it waits) in UTC ([`crate::timed_text`]).
    pub fn times_in_utc(mut self) -> ShipmentRow {
        if let Some(std::borrow::Cow::Owned(drawn)) =
            self.last_error.as_deref().map(crate::timed_text::draw_utc)
        {
            self.last_error = Some(drawn);
        }
        self
    }
}

impl ShipmentRow {
    /// Where the shipment stands against its deadline at `now`.
    pub fn deadline(&self, now: DateTime<Utc>, warning_minutes: u32) -> crate::deadlines::Deadline {
        crate::deadlines::Deadline::of(self.ship_by, self.confirmed_at, now, warning_minutes)
    }

    /// The word the grid shows for the status: "Waiting" for an open shipment that
    /// waits on something else, the status's own label otherwise.
    pub fn status_label(&self) -> &'static str {
        if self.waiting && self.status.is_open() {
            "Waiting"
        } else {
            self.status.label()
        }
    }
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
    /// 1 to 5 within a round; a corrected shipment starts a new round. 0: a call that
    /// spent no attempt (a probe of a paused API, a result superseded by a newer
    /// revision or claim, Shipback's own database failing).
    pub number: u32,
    /// Which version of the shipment was written (0 = as first posted).
    pub revision: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub outcome: AttemptOutcome,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// Its result arrived after a correction (or another worker's claim) had replaced
    /// the revision it carried: kept for the record, applied to nothing.
    #[serde(default)]
    pub superseded: bool,
}

impl WritebackAttempt {
    /// What the outcome column says: the outcome, and why it did not count.
    pub fn outcome_words(&self) -> String {
        if self.superseded {
            format!("{} (superseded)", self.outcome.label())
        } else if self.number == 0 {
            format!("{} (not counted)", self.outcome.label())
        } else {
            self.outcome.label().to_string()
        }
    }
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

impl MarketplaceOrderState {
    /// The marketplace's word for the order as a person reads it: `PARTIALLY_SHIPPED`
    /// is "Partially shipped"; a word already written that way stays as it is.
    pub fn status_words(&self) -> String {
        if !self.status.contains(|c: char| c.is_ascii_lowercase()) {
            let lower = self.status.replace('_', " ").to_ascii_lowercase();
            let mut chars = lower.chars();
            return chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default();
        }
        self.status.clone()
    }
}

impl ShipmentDetail {
    /// What the buyer now sees of this shipment on the marketplace, in one sentence,
    /// once Shipback has read the order back: the tracking number the marketplace holds
    /// for this shipment's package, and whether it is the one sent last.
    pub fn buyer_sees(&self) -> Option<String> {
        let order = self.marketplace_order.as_ref()?;
        let ours = &self.row.tracking_number;
        if self.row.marketplace == "amazon" {
            // Amazon keeps one package per reference; a correction replaces it.
            let held = order
                .packages
                .iter()
                .find(|p| p.reference_id == self.package_reference_id);
            return Some(match held {
                None if order.packages.is_empty() => return None,
                None => format!(
                    "Amazon holds no package {} for this order yet.",
                    self.package_reference_id
                ),
                Some(p) if &p.tracking_number == ours => {
                    format!(
                        "Amazon shows tracking {} ({}).",
                        p.tracking_number, p.carrier
                    )
                }
                Some(p) => format!(
                    "Amazon shows tracking {} for this package, not {ours}: the latest \
                     write-back has not reached it yet.",
                    p.tracking_number
                ),
            });
        }
        // eBay keeps every tracking number a line was given; the buyer sees them all.
        let lines: Vec<&str> = self
            .items
            .iter()
            .map(|i| i.order_item_id.as_str())
            .collect();
        let mut numbers: Vec<&str> = Vec::new();
        for package in &order.packages {
            let ours_too = package
                .items
                .iter()
                .any(|(line, _)| lines.contains(&line.as_str()));
            if ours_too && !numbers.contains(&package.tracking_number.as_str()) {
                numbers.push(&package.tracking_number);
            }
        }
        let label = if self.row.marketplace == "ebay" {
            "eBay"
        } else {
            "The marketplace"
        };
        match numbers.as_slice() {
            [] => None,
            [one] if *one == ours => Some(format!("{label} shows tracking {one}.")),
            [one] => Some(format!(
                "{label} shows tracking {one}, not {ours}: the latest write-back has not reached it yet."
            )),
            [.., newest] => {
                let count = if numbers.len() == 2 {
                    "both tracking numbers".to_string()
                } else {
                    format!("{} tracking numbers", numbers.len())
                };
                Some(format!(
                    "{label} shows {count} ({}); the newest is {newest}.",
                    numbers.join(", ")
                ))
            }
        }
    }
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
    /// The marketplace's own word: UNSHIPPED, PARTIALLY_SHIPPED, SHIPPED, Completed...
    pub status: String,
    /// The marketplace shows the order as shipped.
    pub shipped: bool,
    /// When Shipback read it.
    pub checked_at: DateTime<Utc>,
    /// The latest time the order must ship by, if the marketplace says.
    #[serde(default)]
    pub ship_by: Option<DateTime<Utc>>,
    /// The order's packages as the marketplace holds them.
    #[serde(default)]
    pub packages: Vec<OrderPackage>,
}

/// One package of an order as the marketplace holds it: what the buyer sees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderPackage {
    /// Amazon's `packageReferenceId`; for eBay, the tracking number.
    pub reference_id: String,
    pub carrier: String,
    #[serde(default)]
    pub service: String,
    pub tracking_number: String,
    /// (order item id, quantity).
    #[serde(default)]
    pub items: Vec<(String, u32)>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(marketplace: &str, tracking: &str, packages: Vec<OrderPackage>) -> ShipmentDetail {
        let at = DateTime::UNIX_EPOCH;
        ShipmentDetail {
            row: ShipmentRow {
                shipment_id: "S-1".into(),
                account: "acme".into(),
                account_name: "Acme".into(),
                marketplace: marketplace.into(),
                order_id: "O-1".into(),
                carrier: "UPS".into(),
                service: "Ground".into(),
                tracking_number: tracking.into(),
                quantity: 1,
                ship_date: at,
                status: WritebackStatus::Success,
                error_count: 0,
                last_attempt_at: None,
                next_attempt_at: None,
                last_error: None,
                updated_at: at,
                waiting: false,
                ship_by: None,
                confirmed_at: None,
            },
            items: vec![ShipmentLine {
                order_item_id: "L-1".into(),
                sku: None,
                quantity: 1,
                item_number: None,
                title: None,
                image_url: None,
                weight: None,
            }],
            marketplace_order: Some(MarketplaceOrderState {
                status: "SHIPPED".into(),
                shipped: true,
                checked_at: at,
                ship_by: None,
                packages,
            }),
            package_reference_id: "7".into(),
            revision: 1,
            created_at: at,
            attempts: Vec::new(),
            manual_confirmation: None,
        }
    }

    fn package(reference: &str, tracking: &str, line: &str) -> OrderPackage {
        OrderPackage {
            reference_id: reference.into(),
            carrier: "UPS".into(),
            service: String::new(),
            tracking_number: tracking.into(),
            items: vec![(line.into(), 1)],
        }
    }

    #[test]
    fn amazon_holds_one_package_per_reference() {
        let same = detail("amazon", "1ZNEW", vec![package("7", "1ZNEW", "L-1")]);
        assert_eq!(
            same.buyer_sees().unwrap(),
            "Amazon shows tracking 1ZNEW (UPS)."
        );
        let behind = detail("amazon", "1ZNEW", vec![package("7", "1ZOLD", "L-1")]);
        assert!(behind
            .buyer_sees()
            .unwrap()
            .contains("1ZOLD for this package, not 1ZNEW"));
        let other = detail("amazon", "1ZNEW", vec![package("8", "1ZX", "L-9")]);
        assert_eq!(
            other.buyer_sees().unwrap(),
            "Amazon holds no package 7 for this order yet."
        );
        assert_eq!(detail("amazon", "1ZNEW", vec![]).buyer_sees(), None);
    }

    #[test]
    fn ebay_shows_every_number_a_line_was_given() {
        let corrected = detail(
            "ebay",
            "1ZNEW",
            vec![
                package("1ZOLD", "1ZOLD", "L-1"),
                package("1ZNEW", "1ZNEW", "L-1"),
                package("9Z", "9Z", "L-2"),
            ],
        );
        assert_eq!(
            corrected.buyer_sees().unwrap(),
            "eBay shows both tracking numbers (1ZOLD, 1ZNEW); the newest is 1ZNEW."
        );
        let once = detail("ebay", "1ZNEW", vec![package("1ZNEW", "1ZNEW", "L-1")]);
        assert_eq!(once.buyer_sees().unwrap(), "eBay shows tracking 1ZNEW.");
    }

    #[test]
    fn status_words_read_as_words() {
        let mut state = detail("amazon", "1Z", vec![]).marketplace_order.unwrap();
        state.status = "PARTIALLY_SHIPPED".into();
        assert_eq!(state.status_words(), "Partially shipped");
        state.status = "Completed".into();
        assert_eq!(state.status_words(), "Completed");
    }
}
