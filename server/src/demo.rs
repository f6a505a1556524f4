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

const PRODUCTS: [&str; 8] = [
    "TENT-2P-GRN",
    "STOVE-TI-01",
    "LAMP-LED-300",
    "BAG-DRY-20L",
    "MUG-ENAMEL",
    "KNIFE-FOLD-7",
    "ROPE-10M",
    "PAD-SLEEP-R4",
];

/// The demo's accounts, all pointed at the emulator at `emulator_url`.
pub fn accounts(emulator_url: &str) -> Vec<NewAccount> {
    let account =
        |key: &str, name: &str, company: &str, marketplace_id: &str, region: &str| NewAccount {
            key: key.into(),
            marketplace: MarketplaceKind::Amazon,
            display_name: name.into(),
            company: company.into(),
            enabled: true,
            marketplace_id: marketplace_id.into(),
            region: region.into(),
            api_base_url: emulator_url.into(),
            auth_base_url: emulator_url.into(),
            credentials: Credentials {
                client_id: format!("amzn1.application-oa2-client.demo-{key}"),
                client_secret: format!("demo-secret-{key}"),
                refresh_token: format!("Atzr|demo-refresh-token-{key}"),
            },
            writeback_api: String::new(),
        };
    vec![
        account(
            "acme-us",
            "Acme Outdoor US",
            "Acme Outdoor Inc.",
            "ATVPDKIKX0DER",
            "na",
        ),
        account(
            "acme-uk",
            "Acme Outdoor UK",
            "Acme Outdoor Ltd.",
            "A1F83G8C2ARO7P",
            "eu",
        ),
        account(
            "northwind",
            "Northwind Home",
            "Northwind Traders LLC",
            "ATVPDKIKX0DER",
            "na",
        ),
    ]
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
    let accounts = ["acme-us", "acme-uk", "northwind"];
    let account = accounts[(n % 3) as usize];
    let marketplace_id = if account == "acme-uk" {
        "A1F83G8C2ARO7P"
    } else {
        "ATVPDKIKX0DER"
    };
    let order_id = format!(
        "{:03}-{:07}-{:07}",
        111 + (n % 3) * 100 + rng.gen_range(0..9),
        rng.gen_range(0..10_000_000u64),
        rng.gen_range(0..10_000_000u64)
    );
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
        let sku = PRODUCTS[(rng.gen_range(0..PRODUCTS.len()) + line) % PRODUCTS.len()].to_string();
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
            item_number: None,
            title: None,
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
            marketplace: "amazon".into(),
            order_id,
            marketplace_id: marketplace_id.into(),
            seller: account.into(),
            purchase_date: Some(ship_date - chrono::Duration::hours(20)),
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
        let (shipment, order) = shipment(n, now - age);
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
        .set_faults(vec![Fault {
            api: Some(ApiKind::Writeback),
            error_rate: 0.2,
            latency_ms: 150,
            ..Fault::default()
        }])
        .expect("the demo's fault rule is valid");
    Ok(numbers)
}

/// Posts a new shipment through the station API every `every`, as a shipping station
/// would, after adding its order to the emulator. Runs until the process ends.
pub async fn trickle(emulator: Emulator, api_url: String, first_number: u64, every: Duration) {
    let http = reqwest::Client::new();
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
pub fn sync_defaults() -> crate::sync::SyncConfig {
    crate::sync::SyncConfig {
        import_every: Duration::from_secs(15),
        recheck_after: Duration::from_secs(10),
        tick: Duration::from_secs(2),
        ..crate::sync::SyncConfig::default()
    }
}
