//! The marketplace emulator: Amazon's real wire format over HTTP, an order book, and
//! control endpoints (`/_emulator/...`) that tests and the demo use to add orders,
//! inject faults and read back every confirmation received.
//!
//! The clients cannot tell it from the real service: they are pointed at it by the
//! accounts' base URLs.

mod amazon;
mod control;

use axum::Router;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use control::{ConfirmationRecord, NewOrder, NewOrderItem};

/// Failures the emulator injects, so that retries and failures can be shown and tested.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Share of Orders API calls (0 to 1) answered with 503 at random.
    pub error_rate: f64,
    /// Answer every Orders API call with this status (and the model's error body).
    pub forced_status: Option<u16>,
    /// Added to every Orders API answer.
    pub latency_ms: u64,
    /// Every call, token exchanges included, gets 503.
    pub outage: bool,
}

impl Faults {
    /// The fault to inject on this call, if any.
    fn pick(&self, rng: &mut impl Rng) -> Option<u16> {
        if self.outage {
            Some(503)
        } else if let Some(status) = self.forced_status {
            Some(status)
        } else if self.error_rate > 0.0 && rng.gen_bool(self.error_rate.clamp(0.0, 1.0)) {
            Some(503)
        } else {
            None
        }
    }
}

#[derive(Clone, Debug)]
struct OrderItem {
    sku: String,
    quantity: u32,
}

/// One order in the marketplace's book.
#[derive(Clone, Debug)]
struct Order {
    marketplace_id: String,
    items: HashMap<String, OrderItem>,
    /// Confirmed packages by package reference: a re-confirmation of the same package
    /// replaces it (a correction); a new package adds to what is shipped.
    packages: HashMap<String, HashMap<String, u32>>,
    status: &'static str,
}

/// An access token the emulator issued: until when, and to which seller.
#[derive(Clone, Debug)]
struct Grant {
    expires_at: Instant,
    seller: String,
}

/// One call the emulator answered, for `GET /_emulator/calls`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    pub at: chrono::DateTime<chrono::Utc>,
    /// The selling account the call was made for ("" when it could not be told).
    pub seller: String,
    /// `marketplace.operation`, e.g. `amazon.confirmShipment`.
    pub api: String,
    pub status: u16,
}

/// Calls kept for `GET /_emulator/calls`.
const CALLS_KEPT: usize = 50_000;

struct Book {
    orders: HashMap<String, Order>,
    tokens: HashMap<String, Grant>,
    confirmations: Vec<ConfirmationRecord>,
    faults: Faults,
    /// Enforce the marketplaces' documented rate limits (429 beyond them).
    enforce_limits: bool,
    calls: std::collections::VecDeque<CallRecord>,
}

impl Default for Book {
    fn default() -> Self {
        Book {
            orders: HashMap::new(),
            tokens: HashMap::new(),
            confirmations: Vec::new(),
            faults: Faults::default(),
            enforce_limits: true,
            calls: std::collections::VecDeque::new(),
        }
    }
}

/// The emulator's shared state; clone it to share.
#[derive(Clone)]
pub struct Emulator {
    book: Arc<Mutex<Book>>,
    /// confirmShipment's usage plan, per seller, exactly as documented.
    confirm_limit: Arc<governor::DefaultKeyedRateLimiter<String>>,
    /// Lifetime of the access tokens it issues.
    token_lifetime: Duration,
}

impl Default for Emulator {
    fn default() -> Self {
        Emulator::new(Duration::from_secs(3600))
    }
}

impl Emulator {
    pub fn new(token_lifetime: Duration) -> Emulator {
        let plan = crate::marketplaces::rate_limit::AMAZON_CONFIRM_SHIPMENT;
        let quota = governor::Quota::with_period(Duration::from_secs_f64(1.0 / plan.rate))
            .expect("a positive rate")
            .allow_burst(std::num::NonZeroU32::new(plan.burst).expect("burst above zero"));
        Emulator {
            book: Arc::new(Mutex::new(Book::default())),
            confirm_limit: Arc::new(governor::RateLimiter::keyed(quota)),
            token_lifetime,
        }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        // A panic while holding the lock cannot leave the book half-written in a way
        // that matters more than keeping the emulator answering.
        self.book
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn router(&self) -> Router {
        Router::new()
            .merge(amazon::routes())
            .merge(control::routes())
            .with_state(self.clone())
    }

    /// Serves the emulator on `bind` (port 0 picks a free one) in the background.
    pub async fn serve(&self, bind: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let router = self.router();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "marketplace emulator stopped");
            }
        });
        Ok(addr)
    }

    /// Adds orders (or replaces orders with the same id).
    pub fn add_orders(&self, orders: Vec<NewOrder>) {
        let mut book = self.book();
        for order in orders {
            book.orders.insert(
                order.order_id,
                Order {
                    marketplace_id: order.marketplace_id,
                    items: order
                        .items
                        .into_iter()
                        .map(|i| {
                            (
                                i.order_item_id,
                                OrderItem {
                                    sku: i.sku,
                                    quantity: i.quantity,
                                },
                            )
                        })
                        .collect(),
                    packages: HashMap::new(),
                    status: "Unshipped",
                },
            );
        }
    }

    pub fn set_faults(&self, faults: Faults) {
        self.book().faults = faults;
    }

    pub fn confirmations(&self) -> Vec<ConfirmationRecord> {
        self.book().confirmations.clone()
    }

    /// Turns the documented rate limits on (the default) or off (for benchmarks).
    pub fn enforce_limits(&self, on: bool) {
        self.book().enforce_limits = on;
    }

    pub fn calls(&self) -> Vec<CallRecord> {
        self.book().calls.iter().cloned().collect()
    }

    fn record_call(&self, seller: &str, api: &str, status: u16) {
        let mut book = self.book();
        if book.calls.len() >= CALLS_KEPT {
            book.calls.pop_front();
        }
        book.calls.push_back(CallRecord {
            at: chrono::Utc::now(),
            seller: seller.to_string(),
            api: api.to_string(),
            status,
        });
    }
}
