//! Demo data: accounts pointed at the emulator, a few weeks of shipments (some of which
//! cannot succeed), the matching orders in the emulator, some faults, and a trickle of
//! new shipments posted through the real API so that the grid moves.

use crate::accounts::{Credentials, MarketplaceKind, NewAccount};
use crate::emulator::{Emulator, Fault, NewOrder, NewOrderItem};
use crate::shipments::NewShipment;
use crate::store::{Store, StoreError};
use app::marketplace::ApiKind;
use app::shipments::ShipmentItem;
use chrono::{Duration as ChronoDuration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

const CARRIERS: [(&str, &[&str]); 4] = [
    ("UPS", &["Ground", "2nd Day Air", "Next Day Air"]),
    ("USPS", &["Priority Mail", "Ground Advantage"]),
    ("FedEx", &["Home Delivery", "2Day", "Express Saver"]),
    ("DHL", &["eCommerce Parcel"]),
];

const PRODUCTS: [(&str, &str); 8] = [
    ("TENT-2P-GRN", "Trailhead 2-person tent, green"),
    ("STOVE-TI-01", "Titanium camp stove"),
    ("LAMP-LED-300", "LED lantern, 300 lumen"),
    ("BAG-DRY-20L", "Dry bag, 20 litres"),
    ("MUG-ENAMEL", "Enamel mug, 350 ml"),
    ("KNIFE-FOLD-7", "Folding knife, 7 cm blade"),
    ("ROPE-10M", "Climbing rope, 10 m"),
    ("PAD-SLEEP-R4", "Sleeping pad, R-value 4"),
];

/// One demo account: Amazon ones write back with confirmShipment; of the eBay ones,
/// one uses the Trading API's CompleteSale and the other the REST Fulfillment API.
struct DemoAccount {
    key: &'static str,
    name: &'static str,
    company: &'static str,
    marketplace: MarketplaceKind,
    /// Amazon marketplace id, or eBay site id.
    marketplace_id: &'static str,
    region: &'static str,
    writeback_api: &'static str,
}

const DEMO_ACCOUNTS: [DemoAccount; 5] = [
    DemoAccount {
        key: "acme-us",
        name: "Acme Outdoor US",
        company: "Acme Outdoor Inc.",
        marketplace: MarketplaceKind::Amazon,
        marketplace_id: "ATVPDKIKX0DER",
        region: "na",
        writeback_api: "",
    },
    DemoAccount {
        key: "acme-uk",
        name: "Acme Outdoor UK",
        company: "Acme Outdoor Ltd.",
        marketplace: MarketplaceKind::Amazon,
        marketplace_id: "A1F83G8C2ARO7P",
        region: "eu",
        writeback_api: "",
    },
    DemoAccount {
        key: "northwind",
        name: "Northwind Home",
        company: "Northwind Traders LLC",
        marketplace: MarketplaceKind::Amazon,
        marketplace_id: "ATVPDKIKX0DER",
        region: "na",
        writeback_api: "",
    },
    DemoAccount {
        key: "acme-ebay",
        name: "Acme Outdoor on eBay",
        company: "Acme Outdoor Inc.",
        marketplace: MarketplaceKind::Ebay,
        marketplace_id: "0",
        region: "us",
        writeback_api: "trading",
    },
    DemoAccount {
        key: "northwind-ebay",
        name: "Northwind on eBay",
        company: "Northwind Traders LLC",
        marketplace: MarketplaceKind::Ebay,
        marketplace_id: "0",
        region: "us",
        writeback_api: "fulfillment",
    },
];

/// The refresh token of a demo account; the emulator reads the seller from it.
fn refresh_token(account: &DemoAccount) -> String {
    match account.marketplace {
        MarketplaceKind::Amazon => format!("Atzr|{}", account.key),
        MarketplaceKind::Ebay => format!("v^1.1#i^1#r^1#{}", account.key),
    }
}

/// The demo's accounts, all pointed at the emulator at `emulator_url`.
pub fn accounts(emulator_url: &str) -> Vec<NewAccount> {
    DEMO_ACCOUNTS
        .iter()
        .map(|a| NewAccount {
            key: a.key.into(),
            marketplace: a.marketplace,
            display_name: a.name.into(),
            company: a.company.into(),
            enabled: true,
            marketplace_id: a.marketplace_id.into(),
            region: a.region.into(),
            api_base_url: emulator_url.into(),
            auth_base_url: emulator_url.into(),
            credentials: Credentials {
                client_id: match a.marketplace {
                    MarketplaceKind::Amazon => {
                        format!("amzn1.application-oa2-client.demo-{}", a.key)
                    }
                    MarketplaceKind::Ebay => format!("Demo-{}-PRD", a.key),
                },
                client_secret: format!("demo-secret-{}", a.key).into(),
                refresh_token: refresh_token(a).into(),
            },
            writeback_api: a.writeback_api.into(),
        })
        .collect()
}

/// What is wrong, on purpose, with some demo shipments: the emulator's order differs
/// from what the station sends, so the write-back fails for good, as it would for real.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Flaw {
    None,
    /// The station names an order item the order does not have.
    UnknownItem,
    /// The station ships more than was ordered.
    TooMany,
}

fn flaw(number: u64) -> Flaw {
    match number % 17 {
        5 => Flaw::UnknownItem,
        11 => Flaw::TooMany,
        _ => Flaw::None,
    }
}

/// The demo shipment number `n`, deterministic so that a restarted demo rebuilds the
/// same orders in the (in-memory) emulator.
fn shipment(n: u64, ship_date: chrono::DateTime<Utc>) -> (NewShipment, NewOrder) {
    let mut rng = StdRng::seed_from_u64(n);
    let demo = &DEMO_ACCOUNTS[(n % DEMO_ACCOUNTS.len() as u64) as usize];
    let account = demo.key;
    let marketplace_id = demo.marketplace_id;
    let order_id = match demo.marketplace {
        MarketplaceKind::Amazon => format!(
            "{:03}-{:07}-{:07}",
            111 + (n % 3) * 100 + rng.gen_range(0..9),
            rng.gen_range(0..10_000_000u64),
            rng.gen_range(0..10_000_000u64)
        ),
        MarketplaceKind::Ebay => format!(
            "{:02}-{:05}-{:05}",
            rng.gen_range(10..30),
            rng.gen_range(0..100_000u64),
            rng.gen_range(0..100_000u64)
        ),
    };
    let (carrier, services) = CARRIERS[rng.gen_range(0..CARRIERS.len())];
    let service = services[rng.gen_range(0..services.len())];
    let tracking_number = match carrier {
        "UPS" => format!(
            "1Z{:06X}{:010}",
            rng.gen_range(0..0xFFFFFFu32),
            rng.gen_range(0..10_000_000_000u64)
        ),
        "USPS" => format!("9400{:018}", rng.gen_range(0..1_000_000_000_000_000_000u64)),
        "FedEx" => format!("{:012}", rng.gen_range(0..1_000_000_000_000u64)),
        _ => format!("JD{:018}", rng.gen_range(0..1_000_000_000_000_000_000u64)),
    };
    let lines = rng.gen_range(1..=3);
    let mut items = Vec::new();
    let mut order_items = Vec::new();
    for line in 0..lines {
        let order_item_id = format!(
            "{:014}",
            rng.gen_range(10_000_000_000_000u64..100_000_000_000_000)
        );
        let product = (rng.gen_range(0..PRODUCTS.len()) + line) % PRODUCTS.len();
        let (sku, title) = PRODUCTS[product];
        let sku = sku.to_string();
        let quantity = rng.gen_range(1..=4);
        items.push(ShipmentItem {
            order_item_id: order_item_id.clone(),
            sku: Some(sku.clone()),
            quantity,
        });
        order_items.push(NewOrderItem {
            order_item_id,
            sku,
            quantity,
            // eBay lists each product under an item id of its own; Amazon's ASIN is
            // made up from the SKU by the emulator.
            item_number: (demo.marketplace == MarketplaceKind::Ebay)
                .then(|| format!("1{:011}", 10_000 + product)),
            title: Some(title.to_string()),
        });
    }
    match flaw(n) {
        Flaw::None => {}
        Flaw::UnknownItem => order_items[0].order_item_id = format!("{:014}", n),
        Flaw::TooMany => items[0].quantity += 1,
    }
    (
        NewShipment {
            shipment_id: format!("SB-{:06}", 100_000 + n),
            account: account.into(),
            order_id: order_id.clone(),
            carrier: carrier.into(),
            service: service.into(),
            tracking_number,
            ship_date,
            items,
        },
        NewOrder {
            marketplace: demo.marketplace.as_str().into(),
            order_id,
            marketplace_id: marketplace_id.into(),
            seller: demo.key.into(),
            purchase_date: Some(ship_date - chrono::Duration::hours(20)),
            // Two days after purchase, as the marketplaces give by default; one order in
            // seven left the warehouse after its deadline, so it is confirmed late.
            ship_by: Some(if n % 7 == 3 {
                ship_date - chrono::Duration::minutes(75)
            } else {
                ship_date + chrono::Duration::hours(28)
            }),
            status: None,
            items: order_items,
        },
    )
}

/// How many shipments the demo starts with.
pub const SEED_SHIPMENTS: u64 = 150;

/// Registers the accounts and, on first start, the seeded shipments; on every start,
/// puts the orders of all demo shipments into the emulator (it keeps nothing on disk).
pub async fn seed(
    store: &Store,
    emulator: &Emulator,
    emulator_url: &str,
) -> Result<u64, StoreError> {
    for account in accounts(emulator_url) {
        store.upsert_account(&account).await?;
    }
    let known = store.count_shipments().await?;
    let first_start = known == 0;
    let numbers = SEED_SHIPMENTS.max(known);
    let now = Utc::now();
    let mut shipments = Vec::new();
    let mut orders = Vec::new();
    for n in 0..numbers {
        // Seeded shipments spread over the last three weeks, oldest first.
        let age = ChronoDuration::minutes(((SEED_SHIPMENTS.saturating_sub(n)) * 200) as i64);
        let (shipment, mut order) = shipment(n, now - age);
        // The backlog the demo starts with is due from now on, an hour apart (one in
        // seven already late), so the grid's "Time left" shows every state
        // (docs/deadlines.md).
        order.ship_by = Some(if n % 7 == 3 {
            now - ChronoDuration::minutes(75)
        } else {
            now + ChronoDuration::hours((n % 48) as i64 + 1)
        });
        shipments.push(shipment);
        orders.push(order);
    }
    emulator.add_orders(orders);
    if first_start {
        for chunk in shipments.chunks(500) {
            store.ingest(chunk).await?;
        }
    }
    emulator
        .set_faults(vec![
            // One account's write-backs fail often enough to show Yellow in the
            // connection status (and Retrying shipments); the others answer slowly.
            Fault {
                api: Some(ApiKind::Writeback),
                seller: Some("acme-uk".into()),
                error_rate: 0.25,
                latency_ms: 150,
                ..Fault::default()
            },
            Fault {
                api: Some(ApiKind::Writeback),
                latency_ms: 150,
                ..Fault::default()
            },
        ])
        .expect("the demo's fault rule is valid");
    Ok(numbers)
}

/// Posts a new shipment through the station API every `every`, as a shipping station
/// would, after adding its order to the emulator. Runs until the process ends.
/// The demo's tokens, made afresh on every start so that they can be printed.
pub struct DemoTokens {
    pub station: String,
    pub monitor: String,
    pub operator: String,
}

pub async fn tokens(store: &Store) -> Result<DemoTokens, crate::tokens::TokenError> {
    use crate::tokens::{create_token, Scope, Scopes};
    let now = Utc::now();
    let fresh = |name: &'static str, scope: Scope| {
        let store = store.clone();
        async move {
            store.revoke_token(name, now).await?;
            create_token(&store, name, Scopes::of(&[scope]), now).await
        }
    };
    Ok(DemoTokens {
        station: fresh("demo-station", Scope::Ingest).await?,
        monitor: fresh("demo-monitor", Scope::Read).await?,
        operator: fresh("demo-operator", Scope::Operate).await?,
    })
}

/// The demo's people, one per role, with passwords made afresh on every start so that
/// they can be printed: (name, role, password).
pub async fn people(
    store: &Store,
) -> Result<Vec<(String, &'static str, String)>, crate::people::PeopleError> {
    use app::people::Role;
    let mut people = Vec::new();
    for role in Role::ALL {
        let name = format!("demo-{}", role.as_str());
        let password: String = rand::thread_rng()
            .sample_iter(rand::distributions::Alphanumeric)
            .take(16)
            .map(char::from)
            .collect();
        crate::people::add_user(store, &name, &password, role).await?;
        people.push((name, role.as_str(), password));
    }
    Ok(people)
}

pub async fn trickle(
    emulator: Emulator,
    api_url: String,
    token: String,
    first_number: u64,
    every: Duration,
) {
    let http = crate::tokens::client_with_token(&token);
    let mut n = first_number;
    loop {
        tokio::time::sleep(every).await;
        let (shipment, order) = shipment(n, Utc::now());
        emulator.add_orders(vec![order]);
        let body = serde_json::json!({
            "shipment_id": shipment.shipment_id,
            "account": shipment.account,
            "order_id": shipment.order_id,
            "carrier": shipment.carrier,
            "service": shipment.service,
            "tracking_number": shipment.tracking_number,
            "ship_date": shipment.ship_date.to_rfc3339(),
            "items": shipment.items,
        });
        match http
            .post(format!("{api_url}/api/v1/shipments"))
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => tracing::warn!(status = %r.status(), "demo station: shipment refused"),
            Err(e) => tracing::warn!(error = %e, "demo station: API unreachable"),
        }
        n += 1;
    }
}

/// The demo syncs in seconds, so that imported orders, shipped checks and catalog
/// pictures show up while you watch.
pub fn sync_defaults() -> crate::order_sync::OrderSyncConfig {
    crate::order_sync::OrderSyncConfig {
        import_every: Duration::from_secs(15),
        first_import_lookback: Duration::from_secs(21 * 24 * 3600),
        recheck_after: Duration::from_secs(10),
        tick: Duration::from_secs(2),
        ..crate::order_sync::OrderSyncConfig::default()
    }
}

/// Worker settings for the demo: failures are retried within seconds so that a visitor
/// sees shipments go from Retrying to Success or Failed.
pub fn worker_defaults() -> crate::worker::WorkerConfig {
    use crate::worker::{default_worker_name, RetryPolicy, WorkerConfig};
    WorkerConfig {
        name: default_worker_name(),
        batch_size: 20,
        per_account: 10,
        concurrency: 8,
        lease: Duration::from_secs(60),
        attempt_timeout: Duration::from_secs(20),
        idle_poll: Duration::from_millis(250),
        // A paused API is probed every few seconds, so that recovery shows at once.
        probe_every: Duration::from_secs(5),
        shutdown_grace: Duration::from_secs(10),
        retry: RetryPolicy {
            delays: vec![
                Duration::from_secs(3),
                Duration::from_secs(10),
                Duration::from_secs(30),
                Duration::from_secs(60),
            ],
            ..RetryPolicy::default()
        },
    }
}

/// What `shipback demo` adds to the product.
pub struct DemoSettings {
    pub emulator_bind: std::net::SocketAddr,
    /// Printed in the banner.
    pub database_url: String,
    /// Post a new shipment through the station API every few seconds.
    pub trickle: bool,
}

/// How often the demo's station posts a shipment.
const TRICKLE_EVERY: Duration = Duration::from_secs(5);

/// Everything the demo adds before the product starts: the emulator with its orders and
/// faults, the seeded data, a person per role and a token per scope (fresh secrets each
/// start, printed in the banner), and the station's trickle.
pub async fn prepare(
    store: &Store,
    settings: &DemoSettings,
    web: &crate::runtime::WebSettings,
) -> Result<(), crate::cli::CliError> {
    let marketplace = Emulator::default();
    let emulator_addr =
        crate::runtime::start_emulator(&marketplace, settings.emulator_bind).await?;
    let emulator_url = format!("http://{emulator_addr}");
    let seeded = seed(store, &marketplace, &emulator_url).await?;
    let tokens = tokens(store).await?;
    let people = people(store).await?;
    let dashboard = format!("http://{}", web.bind);
    if settings.trickle {
        tokio::spawn(trickle(
            marketplace,
            dashboard.clone(),
            tokens.station.clone(),
            seeded,
            TRICKLE_EVERY,
        ));
    }
    println!();
    println!("  Shipback demo is running.");
    println!("  Dashboard:           {dashboard}/");
    println!("  Station API:         {dashboard}/api/v1/shipments");
    println!("  Marketplace emulator: {emulator_url} (faults: {emulator_url}/_emulator/faults)");
    println!("  Database:            {}", settings.database_url);
    for (name, role, password) in &people {
        println!("  Sign in as {name:<15} ({role:<8}) password: {password}");
    }
    println!("  Station token (ingest):            {}", tokens.station);
    println!("  Monitoring token (read):           {}", tokens.monitor);
    println!("  Operator script token (operate):   {}", tokens.operator);
    println!("  Stop with Ctrl-C.");
    println!();
    Ok(())
}
