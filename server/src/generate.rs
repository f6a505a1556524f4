//! `shipback generate`: fills a database with realistic synthetic shipments, for
//! benchmarks and load tests. Shipments go in through the same ingest as the station's;
//! their outcomes and attempt histories are then settled by the store in bulk.

use crate::demo;
use crate::shipments::NewShipment;
use crate::store::{Store, StoreError};
use app::shipments::ShipmentItem;
use chrono::{Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CARRIERS: [(&str, &str); 8] = [
    ("UPS", "Ground"),
    ("UPS", "Next Day Air"),
    ("USPS", "Priority Mail"),
    ("USPS", "Ground Advantage"),
    ("FedEx", "Home Delivery"),
    ("FedEx", "2Day"),
    ("DHL", "eCommerce Parcel"),
    ("OnTrac", "Ground"),
];

/// A synthetic shipment: shipment number `n`, shipped within the last `days` days.
fn synthetic(n: u64, accounts: &[String], rng: &mut StdRng, days: i64) -> NewShipment {
    let (carrier, service) = CARRIERS[rng.gen_range(0..CARRIERS.len())];
    let lines = rng.gen_range(1..=3);
    NewShipment {
        shipment_id: format!("GEN-{n:09}"),
        account: accounts[rng.gen_range(0..accounts.len())].clone(),
        order_id: format!(
            "{:03}-{:07}-{:07}",
            rng.gen_range(111..999),
            rng.gen_range(0..10_000_000u32),
            rng.gen_range(0..10_000_000u32)
        ),
        carrier: carrier.into(),
        service: service.into(),
        tracking_number: format!(
            "{}{:016}",
            &carrier[..2].to_uppercase(),
            rng.gen_range(0..10_000_000_000_000_000u64)
        ),
        ship_date: Utc::now() - Duration::seconds(rng.gen_range(0..days * 86_400)),
        items: (0..lines)
            .map(|line| ShipmentItem {
                order_item_id: format!("{:012}{line:02}", n),
                sku: Some(format!("SKU-{:04}", rng.gen_range(0..2_000))),
                quantity: rng.gen_range(1..=4),
            })
            .collect(),
    }
}

/// Adds `count` shipments spread over `days` days to the store, with the demo accounts,
/// and gives them the outcomes a busy warehouse sees. Returns how many exist in all.
pub async fn generate(
    store: &Store,
    count: u64,
    days: i64,
    emulator_url: &str,
    seed: u64,
) -> Result<u64, StoreError> {
    for account in demo::accounts(emulator_url) {
        store.upsert_account(&account).await?;
    }
    let accounts: Vec<String> = store.accounts().await?.into_iter().map(|a| a.key).collect();
    let first = store.count_shipments().await?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut done = 0;
    while done < count {
        let chunk = (count - done).min(1000);
        let batch: Vec<NewShipment> = (0..chunk)
            .map(|i| synthetic(first + done + i, &accounts, &mut rng, days.max(1)))
            .collect();
        store.ingest(&batch).await?;
        done += chunk;
        if done % 100_000 == 0 {
            tracing::info!(done, count, "generating shipments");
        }
    }
    store.settle_generated().await?;
    store.count_shipments().await
}
