//! Marketplace clients behind one adapter interface: the worker asks for "write this
//! shipment back" and the account's marketplace adapter does it over the real API.

pub mod amazon;
pub mod rate_limit;

use crate::accounts::{Account, MarketplaceKind};
use crate::store::ClaimedShipment;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How one write-back call ended, in the marketplace's own words.
#[derive(Clone, Debug, PartialEq)]
pub enum WritebackResult {
    Accepted {
        http_status: u16,
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

/// A marketplace's write-back API.
#[async_trait::async_trait]
pub trait WritebackApi: Send + Sync + 'static {
    /// Waits until the account's rate limit allows the next call. The worker waits here
    /// before it checks its lease, so that time spent queueing for the marketplace's
    /// rate never eats into the time a call may take.
    async fn ready(&self, account: &Account);

    async fn write_back(&self, account: &Account, shipment: &ClaimedShipment) -> WritebackResult;
}

/// The adapters by marketplace: the one place that knows which client serves which.
#[derive(Clone)]
pub struct Marketplaces {
    writeback: HashMap<MarketplaceKind, Arc<dyn WritebackApi>>,
}

#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Upper bound of one HTTP call, connect to last byte.
    pub request_timeout: Duration,
    /// Keep to the marketplaces' documented rates (off only for benchmarks against an
    /// emulator whose limits are off too).
    pub rate_limits: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            request_timeout: Duration::from_secs(20),
            rate_limits: true,
        }
    }
}

impl Marketplaces {
    /// The real clients of every marketplace Shipback supports.
    pub fn new(config: &ClientConfig) -> Marketplaces {
        let http = http_client(config);
        let mut writeback: HashMap<MarketplaceKind, Arc<dyn WritebackApi>> = HashMap::new();
        let limit = |plan| {
            if config.rate_limits {
                rate_limit::AccountLimiter::new(plan)
            } else {
                rate_limit::AccountLimiter::unlimited()
            }
        };
        writeback.insert(
            MarketplaceKind::Amazon,
            Arc::new(amazon::AmazonClient::new(
                http,
                limit(rate_limit::AMAZON_CONFIRM_SHIPMENT),
            )),
        );
        Marketplaces { writeback }
    }

    pub fn writeback(&self, kind: MarketplaceKind) -> Option<&Arc<dyn WritebackApi>> {
        self.writeback.get(&kind)
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
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}
