//! Marketplace clients behind one adapter interface: the worker asks for "write this
//! shipment back" and the account's marketplace adapter does it over the real API.

pub mod access_tokens;
pub mod amazon;
pub mod ebay;
pub mod rate_limit;

use crate::accounts::{Account, MarketplaceKind};
pub use crate::records::orders::{
    CatalogItem, MarketplaceOrder, MarketplaceOrderItem, MarketplacePackage, ShipByWindow, Weight,
};
use crate::records::shipments::ClaimedShipment;
pub use app::marketplace::ApiKind;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How one write-back call ended, in the marketplace's own words.
#[derive(Clone, Debug, PartialEq)]
pub enum WritebackResult {
    Accepted {
        http_status: u16,
        /// The marketplace accepted the call but warned about something (eBay's Ack
        /// Warning): kept in the attempt's error message of the successful attempt.
        warning: Option<String>,
    },
    /// Another attempt may succeed (network trouble, throttling, server errors).
    Retryable {
        http_status: Option<u16>,
        code: String,
        message: String,
        /// The marketplace asked us to wait this long (Retry-After).
        retry_after: Option<Duration>,
    },
    /// Retrying the same data cannot succeed (invalid data, unknown order or item).
    Permanent {
        http_status: Option<u16>,
        code: String,
        message: String,
    },
}

/// Why a call other than a write-back failed, in the marketplace's own words.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{api:?} API: {code}: {message}")]
pub struct ApiFailure {
    pub api: ApiKind,
    pub http_status: Option<u16>,
    pub code: String,
    pub message: String,
    pub retryable: bool,
    pub retry_after: Option<Duration>,
}

impl ApiFailure {
    /// An answer that is not what the marketplace's model says: retryable, as a
    /// marketplace glitch usually is.
    pub fn malformed(api: ApiKind, http_status: Option<u16>, message: String) -> ApiFailure {
        ApiFailure {
            api,
            http_status,
            code: "MalformedResponse".into(),
            message,
            retryable: true,
            retry_after: None,
        }
    }
}

/// Why a request got no (complete) answer: retryable.
pub fn network_failure(api: ApiKind, e: &reqwest::Error) -> ApiFailure {
    ApiFailure {
        api,
        http_status: None,
        code: if e.is_timeout() {
            "Timeout"
        } else {
            "NetworkError"
        }
        .into(),
        message: describe(e),
        retryable: true,
        retry_after: None,
    }
}

/// A reqwest error with its causes, in one line.
pub fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A shipment handed over without its carrier mapped: the worker maps every carrier
/// before a call, so this is a fault of the caller, never sent on.
pub fn unmapped_carrier(shipment: &ClaimedShipment) -> WritebackResult {
    WritebackResult::Permanent {
        http_status: None,
        code: "CarrierNotMapped".into(),
        message: format!(
            "carrier '{}' was not mapped before the call",
            shipment.carrier
        ),
    }
}

/// An answer body nobody could read, said as a person would: an empty body, an HTML
/// page (with its title), or the start of whatever came.
pub fn unexpected_answer(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return "the answer was empty".to_string();
    }
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        let title = lower
            .find("<title>")
            .and_then(|start| {
                let rest = &trimmed[start + "<title>".len()..];
                rest.find('<').map(|end| rest[..end].trim().to_string())
            })
            .filter(|t| !t.is_empty());
        return match title {
            Some(title) => format!("the answer was an HTML page, not data: \"{title}\""),
            None => "the answer was an HTML page, not data".to_string(),
        };
    }
    format!(
        "unexpected answer: {}",
        trimmed.chars().take(200).collect::<String>()
    )
}

impl From<ApiFailure> for WritebackResult {
    fn from(f: ApiFailure) -> WritebackResult {
        if f.retryable {
            WritebackResult::Retryable {
                http_status: f.http_status,
                code: f.code,
                message: f.message,
                retry_after: f.retry_after,
            }
        } else {
            WritebackResult::Permanent {
                http_status: f.http_status,
                code: f.code,
                message: f.message,
            }
        }
    }
}

impl MarketplacePackage {
    /// The shipment's lines this package holds as the shipment sends them: its tracking
    /// number, its carrier and ship date where the marketplace reports them, and each
    /// line's quantity. A revision that changed only the carrier or the date is not
    /// held by the package of the revision before.
    pub fn lines_of<'a>(&self, shipment: &'a ClaimedShipment) -> Vec<&'a str> {
        if self.tracking_number != shipment.tracking_number || !self.same_carrier_and_date(shipment)
        {
            return Vec::new();
        }
        shipment
            .items
            .iter()
            .filter(|i| {
                self.items
                    .iter()
                    .any(|(line, quantity)| *line == i.order_item_id && *quantity == i.quantity)
            })
            .map(|i| i.order_item_id.as_str())
            .collect()
    }

    fn same_carrier_and_date(&self, shipment: &ClaimedShipment) -> bool {
        let carrier = match (&shipment.marketplace_carrier, self.carrier.trim()) {
            (None, _) | (_, "") => true,
            // Amazon shows a carrier sent as `Other` by its name.
            (Some(sent), shown) => {
                sent.code.eq_ignore_ascii_case(shown)
                    || sent
                        .name
                        .as_deref()
                        .is_some_and(|name| name.trim().eq_ignore_ascii_case(shown))
            }
        };
        let date = self
            .ship_time
            .is_none_or(|shown| (shown - shipment.ship_date).num_milliseconds().abs() < 1000);
        carrier && date
    }

    /// Whether the package holds every line of the shipment as sent.
    pub fn holds_all(&self, shipment: &ClaimedShipment) -> bool {
        self.lines_of(shipment).len() == shipment.items.len()
    }
}

/// Orders changed in a time window, and the instant up to which the window is complete.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderUpdates {
    pub orders: Vec<MarketplaceOrder>,
    /// The next import starts here (the marketplace's `LastUpdatedBefore`, or the end
    /// of the window asked for).
    pub complete_until: DateTime<Utc>,
}

/// The operations of [`MarketplaceAdapter`], for [`MarketplaceAdapter::api_for`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    WriteBack,
    /// Whether the marketplace holds a shipment as sent (a lost answer's read-back).
    ReadBack,
    OrdersUpdatedSince,
    OrdersById,
    CatalogItem,
}

/// Everything Shipback does with one marketplace, over its real APIs. A marketplace is
/// one module implementing this; the worker and the sync never match on names.
#[async_trait::async_trait]
pub trait MarketplaceAdapter: Send + Sync + 'static {
    /// The API an operation calls, as the status panel names it; `None` when the
    /// marketplace has no such API and the operation makes no call.
    fn api_for(&self, account: &Account, operation: Operation) -> Option<ApiKind>;

    /// Waits until the account's rate limit allows the next write-back, if that is
    /// before `deadline`; `false` (and no turn taken) when it is not. The worker waits
    /// here before it checks its lease, so that time spent queueing for the
    /// marketplace's rate never eats into the time a call may take, and a call that
    /// could not start safely does not spend a turn of the plan.
    async fn writeback_ready(&self, account: &Account, deadline: Instant) -> bool;

    async fn write_back(&self, account: &Account, shipment: &ClaimedShipment) -> WritebackResult;

    /// The shipment's lines the marketplace already holds as this revision sends them
    /// (same tracking number, same quantity): Amazon's package under the shipment's
    /// reference, eBay's fulfillment, or (Trading, one call per line) each line's
    /// tracking. A write-back whose answer was lost is read back with this before
    /// anything is sent again; what is held is not sent twice.
    async fn lines_held(
        &self,
        account: &Account,
        shipment: &ClaimedShipment,
    ) -> Result<Vec<String>, ApiFailure>;

    /// Takes the turn of an order import's first call if the usage plan gives one now
    /// (Amazon's `searchOrders` allows one call in three minutes once its burst is
    /// spent); `false` when it would have to wait. The sync then skips the import
    /// rather than hold up the account's other work. Where the turns are shared, one
    /// turn serves every worker on the database.
    async fn take_import_turn(&self, _account: &Account) -> bool {
        true
    }

    /// Orders created or changed since `since`, every page of them, with their lines.
    /// Call it after [`MarketplaceAdapter::take_import_turn`] said yes: its first call
    /// uses that turn.
    async fn orders_updated_since(
        &self,
        account: &Account,
        since: DateTime<Utc>,
    ) -> Result<OrderUpdates, ApiFailure>;

    /// The current state of these orders, with their lines and packages (after a
    /// write-back, to see them shipped; or to learn an order's lines).
    async fn orders_by_id(
        &self,
        account: &Account,
        order_ids: &[String],
    ) -> Result<Vec<MarketplaceOrder>, ApiFailure>;

    /// Catalog data of one item, or `None` when the marketplace has no Products API
    /// for Shipback or does not know the item.
    async fn catalog_item(
        &self,
        account: &Account,
        item_number: &str,
    ) -> Result<Option<CatalogItem>, ApiFailure>;
}

/// The adapters by marketplace: the one place that knows which client serves which.
#[derive(Clone)]
pub struct Marketplaces {
    adapters: HashMap<MarketplaceKind, Arc<dyn MarketplaceAdapter>>,
}

#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Upper bound of one HTTP call, connect to last byte.
    pub request_timeout: Duration,
    /// Keep to the marketplaces' documented rates (off only for benchmarks against an
    /// emulator whose limits are off too).
    pub rate_limits: bool,
    /// eBay's daily call quota per account (the Trading API's default is 5,000).
    pub ebay_daily_quota: u32,
    /// Keeps the usage plans and the access tokens in this database, shared with every
    /// other process on it (several workers); `None`: each process keeps its own.
    pub shared_store: Option<crate::store::Store>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            request_timeout: Duration::from_secs(20),
            rate_limits: true,
            ebay_daily_quota: rate_limit::EBAY_DAILY_QUOTA,
            shared_store: None,
        }
    }
}

impl ClientConfig {
    /// A limiter for one operation's usage plan, or none when limits are off.
    pub fn limiter(
        &self,
        operation: &'static str,
        plan: rate_limit::UsagePlan,
    ) -> rate_limit::AccountLimiter {
        match (self.rate_limits, &self.shared_store) {
            (false, _) => rate_limit::AccountLimiter::unlimited(),
            (true, Some(store)) => {
                rate_limit::AccountLimiter::shared(plan, store.clone(), operation)
            }
            (true, None) => rate_limit::AccountLimiter::new(plan),
        }
    }
}

impl Marketplaces {
    /// The real clients of every marketplace Shipback supports.
    pub fn new(config: &ClientConfig) -> Marketplaces {
        let http = http_client(config);
        let mut adapters: HashMap<MarketplaceKind, Arc<dyn MarketplaceAdapter>> = HashMap::new();
        adapters.insert(
            MarketplaceKind::Amazon,
            Arc::new(amazon::AmazonClient::new(http.clone(), config)),
        );
        adapters.insert(
            MarketplaceKind::Ebay,
            Arc::new(ebay::EbayClient::new(http, config)),
        );
        Marketplaces { adapters }
    }

    pub fn adapter(&self, kind: MarketplaceKind) -> Option<&Arc<dyn MarketplaceAdapter>> {
        self.adapters.get(&kind)
    }

    /// The same marketplaces with every adapter wrapped by `wrap` (the health monitor
    /// wraps them to see every call's outcome).
    pub fn map(
        self,
        wrap: impl Fn(Arc<dyn MarketplaceAdapter>) -> Arc<dyn MarketplaceAdapter>,
    ) -> Marketplaces {
        Marketplaces {
            adapters: self
                .adapters
                .into_iter()
                .map(|(kind, adapter)| (kind, wrap(adapter)))
                .collect(),
        }
    }
}

/// One pooled, keep-alive HTTP client shared by every adapter.
pub fn http_client(config: &ClientConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(config.request_timeout)
        .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
        .pool_max_idle_per_host(64)
        .user_agent(concat!(
            "Shipback/",
            env!("CARGO_PKG_VERSION"),
            " (Language=Rust)"
        ))
        .build()
        .expect("the HTTP client's fixed settings are valid")
}

/// Reads a Retry-After header given in seconds.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    retry_after_value(value, Utc::now())
}

/// A `Retry-After` value in either of its forms: seconds (`120`), or an HTTP-date
/// (`Wed, 21 Oct 2026 07:28:00 GMT`) read against `now`. At most a day: a marketplace
/// that asks for longer is asked again then.
pub fn retry_after_value(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Duration::from_secs_f64(seconds),
        Ok(_) => return None,
        Err(_) => {
            let at = DateTime::parse_from_rfc2822(value)
                .ok()?
                .with_timezone(&Utc);
            (at - now).to_std().unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(Duration::from_secs(24 * 3600)))
}
#[cfg(test)]
mod retry_after_tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_both_forms() {
        let now: DateTime<Utc> = "2026-10-21T07:27:00Z".parse().unwrap();
        assert_eq!(
            retry_after_value("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after_value("Wed, 21 Oct 2026 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            retry_after_value("Wed, 21 Oct 2026 07:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date gone by: at once"
        );
        assert_eq!(retry_after_value("soon", now), None);
        assert_eq!(retry_after_value("-5", now), None);
    }
}
