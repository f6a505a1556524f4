//! The marketplace emulator: Amazon's real wire format over HTTP, an order book, and
//! control endpoints (`/_emulator/...`) that tests and the demo use to add orders,
//! inject faults and read back every confirmation received.
//!
//! The clients cannot tell it from the real service: they are pointed at it by the
//! accounts' base URLs.

mod amazon;
mod control;
mod ebay;
pub mod faults;

use axum::Router;
use chrono::{DateTime, Utc};
use faults::{CallTarget, FaultAction, FaultRule};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use control::{ConfirmationRecord, NewOrder, NewOrderItem};
pub use faults::FaultRule as Fault;

/// A stable, ASIN-like catalog number for a SKU that was given none.
fn item_number_for(sku: &str) -> String {
    let hash = sku.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("B0{:08X}", hash & 0xFFFF_FFFF)
}

#[derive(Clone, Debug)]
struct OrderItem {
    sku: String,
    quantity: u32,
    /// Amazon's ASIN, or eBay's item id.
    item_number: String,
    title: String,
}

/// One package the marketplace holds for an order: what was shipped in it, and what the
/// buyer sees of it.
#[derive(Clone, Debug, PartialEq)]
struct Package {
    /// Quantity by order item id.
    items: std::collections::BTreeMap<String, u32>,
    /// As the marketplace shows it: Amazon's carrier code (or the carrier's own name
    /// with `Other`), eBay's `ShippingCarrierUsed` / `shippingCarrierCode`.
    carrier: String,
    service: String,
    tracking_number: String,
    ship_date: DateTime<Utc>,
    /// When the marketplace first received this package.
    created: DateTime<Utc>,
    /// Tracking numbers the package had before, oldest first, as (carrier, number):
    /// eBay keeps them when a correction adds a new one, and the buyer sees them all.
    earlier: Vec<(String, String)>,
}

impl Package {
    fn quantity_of(&self, item_id: &str) -> u32 {
        self.items.get(item_id).copied().unwrap_or(0)
    }
}

/// One order in the marketplace's book.
#[derive(Clone, Debug)]
struct Order {
    /// `amazon` or `ebay`.
    marketplace: String,
    /// The selling account it belongs to ("" in tests that do not care: every seller).
    seller: String,
    marketplace_id: String,
    purchase_date: DateTime<Utc>,
    last_update: DateTime<Utc>,
    /// By order item id (Amazon `OrderItemId`, eBay line item id), in a stable order.
    items: std::collections::BTreeMap<String, OrderItem>,
    /// Confirmed packages by package reference (Amazon `packageReferenceId`, eBay's
    /// fulfillment id or line): a re-confirmation of the same package replaces it (a
    /// correction); a new package adds to what is shipped.
    packages: std::collections::BTreeMap<String, Package>,
    /// `Pending` (payment not cleared), `Unshipped`, `PartiallyShipped`, `Shipped`,
    /// `Canceled`.
    status: &'static str,
    /// The latest time the order must ship by (Amazon `shipByWindow.latestDateTime`),
    /// and the earliest.
    ship_by: DateTime<Utc>,
    ship_by_earliest: DateTime<Utc>,
    /// When the order was first marked shipped (eBay `ShippedTime`).
    shipped_at: Option<DateTime<Utc>>,
    /// Tracking written back, newest last: (carrier, tracking number).
    tracking: Vec<(String, String)>,
}

impl Order {
    /// Counts the packages against the items and moves the status, as the
    /// marketplaces do when a shipment is confirmed.
    fn settle(&mut self, now: DateTime<Utc>) {
        let shipped_of = |id: &str| -> u32 { self.shipped_quantity(id) };
        let fully = self
            .items
            .iter()
            .all(|(id, item)| shipped_of(id) >= item.quantity);
        self.status = if fully { "Shipped" } else { "PartiallyShipped" };
        if self.shipped_at.is_none() {
            self.shipped_at = Some(now);
        }
        self.last_update = now;
    }

    fn shipped_quantity(&self, item_id: &str) -> u32 {
        self.packages.values().map(|p| p.quantity_of(item_id)).sum()
    }

    /// Shipped in every package but `except` (the one being replaced).
    fn shipped_elsewhere(&self, item_id: &str, except: &str) -> u32 {
        self.packages
            .iter()
            .filter(|(reference, _)| reference.as_str() != except)
            .map(|(_, p)| p.quantity_of(item_id))
            .sum()
    }
}

/// An access token the emulator issued: until when, and to which seller.
#[derive(Clone, Debug)]
struct Grant {
    issued_at: Instant,
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
    /// 0: no answer was given (a timeout or a dropped connection).
    pub status: u16,
}

/// Calls kept for `GET /_emulator/calls`.
const CALLS_KEPT: usize = 50_000;

struct Book {
    orders: HashMap<String, Order>,
    /// Login with Amazon applications by client id, with their secrets.
    clients: HashMap<String, String>,
    tokens: HashMap<String, Grant>,
    confirmations: Vec<ConfirmationRecord>,
    faults: Vec<FaultRule>,
    /// Enforce the marketplaces' documented rate limits (429 beyond them).
    enforce_limits: bool,
    calls: std::collections::VecDeque<CallRecord>,
}

impl Default for Book {
    fn default() -> Self {
        Book {
            orders: HashMap::new(),
            tokens: HashMap::new(),
            clients: HashMap::new(),
            confirmations: Vec::new(),
            faults: Vec::new(),
            enforce_limits: true,
            calls: std::collections::VecDeque::new(),
        }
    }
}

/// The emulator's shared state; clone it to share.
#[derive(Clone)]
pub struct Emulator {
    book: Arc<Mutex<Book>>,
    /// Each operation's usage plan, per seller, exactly as documented.
    limits: Arc<HashMap<&'static str, governor::DefaultKeyedRateLimiter<String>>>,
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
        use crate::marketplaces::rate_limit::{self as plans, UsagePlan};
        let limits = [
            (amazon::CONFIRM_SHIPMENT, plans::AMAZON_CONFIRM_SHIPMENT),
            (amazon::GET_ORDERS, plans::AMAZON_GET_ORDERS_V0),
            (amazon::GET_ORDER_ITEMS, plans::AMAZON_GET_ORDER_ITEMS_V0),
            (amazon::SEARCH_ORDERS, plans::AMAZON_SEARCH_ORDERS),
            (amazon::GET_ORDER, plans::AMAZON_GET_ORDER),
            (amazon::GET_CATALOG_ITEM, plans::AMAZON_GET_CATALOG_ITEM),
            (
                ebay::TRADING_QUOTA,
                UsagePlan::per_day(plans::EBAY_DAILY_QUOTA),
            ),
            (
                ebay::FULFILLMENT_QUOTA,
                UsagePlan::per_day(plans::EBAY_FULFILLMENT_DAILY_QUOTA),
            ),
        ]
        .into_iter()
        .map(|(operation, plan)| (operation, governor::RateLimiter::keyed(plan.quota())))
        .collect();
        Emulator {
            book: Arc::new(Mutex::new(Book::default())),
            limits: Arc::new(limits),
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
            .merge(ebay::routes())
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
        // To the second, as the marketplaces keep (and show) a purchase date: a shipment
        // posted in the same millisecond as its order is not "shipped before it was
        // bought" for the nanoseconds between.
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 0);
        let mut book = self.book();
        for order in orders {
            let purchase_date = order.purchase_date.unwrap_or(now);
            // Without its own, an order must ship within two days of its purchase.
            let ship_by = order
                .ship_by
                .unwrap_or(purchase_date + chrono::Duration::days(2));
            let status = match order.status.as_deref() {
                Some("Pending") => "Pending",
                Some("Canceled") => "Canceled",
                _ => "Unshipped",
            };
            book.orders.insert(
                order.order_id,
                Order {
                    marketplace: order.marketplace,
                    seller: order.seller,
                    marketplace_id: order.marketplace_id,
                    purchase_date,
                    // An order given its purchase date was last changed then.
                    last_update: purchase_date,
                    items: order
                        .items
                        .into_iter()
                        .map(|i| {
                            let item_number =
                                i.item_number.unwrap_or_else(|| item_number_for(&i.sku));
                            let title = i.title.unwrap_or_else(|| format!("Item {}", i.sku));
                            (
                                i.order_item_id,
                                OrderItem {
                                    sku: i.sku,
                                    quantity: i.quantity,
                                    item_number,
                                    title,
                                },
                            )
                        })
                        .collect(),
                    packages: Default::default(),
                    status,
                    ship_by,
                    ship_by_earliest: purchase_date,
                    shipped_at: None,
                    tracking: Vec::new(),
                },
            );
        }
    }

    /// Whether Login with Amazon knows this application: one of those registered with
    /// `PUT /_emulator/clients`, or, while none is, any well-formed client id
    /// (`amzn1.application-oa2-client.…`) with a secret.
    fn knows_client(&self, client_id: &str, client_secret: &str) -> bool {
        let book = self.book();
        if book.clients.is_empty() {
            return client_id.starts_with("amzn1.application-oa2-client.")
                && client_id.len() > "amzn1.application-oa2-client.".len()
                && !client_secret.is_empty();
        }
        book.clients
            .get(client_id)
            .is_some_and(|s| s == client_secret)
    }

    /// Registers the applications Login with Amazon knows (none: any well-formed one).
    pub fn set_clients(&self, clients: HashMap<String, String>) {
        self.book().clients = clients;
    }

    /// Replaces the fault rules.
    pub fn set_faults(&self, mut rules: Vec<FaultRule>) -> Result<(), String> {
        for rule in &mut rules {
            rule.validate()?;
            rule.set_at = Some(Instant::now());
        }
        self.book().faults = rules;
        Ok(())
    }

    pub fn faults(&self) -> Vec<FaultRule> {
        self.book().faults.clone()
    }

    /// Applies the matching rule's latency and says what, if anything, goes wrong with
    /// this call. A timeout is served here: the call never gets an answer.
    async fn fault(&self, target: CallTarget<'_>, token: Option<&str>) -> Option<FaultAction> {
        let (latency, action) = {
            let book = self.book();
            let issued = token.and_then(|t| book.tokens.get(t)).map(|g| g.issued_at);
            faults::decide(&book.faults, &target, issued)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if action == Some(FaultAction::Timeout) {
            tokio::time::sleep(faults::NO_ANSWER).await;
        }
        action
    }

    /// Issues an access token for the seller a refresh token stands for.
    fn issue_token(&self, prefix: &str, seller: String) -> String {
        let access_token = format!("{prefix}{:032x}", rand::random::<u128>());
        let now = Instant::now();
        self.book().tokens.insert(
            access_token.clone(),
            Grant {
                issued_at: now,
                expires_at: now + self.token_lifetime,
                seller,
            },
        );
        access_token
    }

    /// The seller a token was issued to ("" when unknown).
    fn seller_of(&self, token: Option<&str>) -> String {
        token
            .and_then(|t| self.book().tokens.get(t).map(|g| g.seller.clone()))
            .unwrap_or_default()
    }

    pub fn confirmations(&self) -> Vec<ConfirmationRecord> {
        self.book().confirmations.clone()
    }

    /// Turns the documented rate limits on (the default) or off (for benchmarks).
    /// How many access tokens the token endpoints issued (Amazon's and eBay's).
    pub fn tokens_issued(&self) -> usize {
        self.book().tokens.len()
    }

    pub fn enforce_limits(&self, on: bool) {
        self.book().enforce_limits = on;
    }

    pub fn calls(&self) -> Vec<CallRecord> {
        self.book().calls.iter().cloned().collect()
    }

    /// Takes one call from the seller's quota for `operation`; `false` means the call
    /// is over the documented limit and must get the marketplace's throttling answer.
    fn within_limit(&self, book: &Book, operation: &str, seller: &str) -> bool {
        !book.enforce_limits
            || self
                .limits
                .get(operation)
                .is_none_or(|limit| limit.check_key(&seller.to_string()).is_ok())
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
