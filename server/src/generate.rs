//! `shipback generate`: fills a database with realistic synthetic shipments, for
//! benchmarks and load tests. Shipments go in through the same ingest as the station's.
//! Their outcomes and attempt histories are decided here and given to the store's bulk
//! history import (the path for histories made elsewhere), so that what the grid and
//! the export read has the shape real write-backs leave.

use crate::demo;
use crate::shipments::NewShipment;
use crate::store::{ImportedAttempt, ImportedHistory, Store, StoreError};
use app::shipments::{AttemptOutcome, ManualConfirmation, ShipmentItem, WritebackStatus};
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

/// The outcomes a busy warehouse sees: 86 % Success (a third of them after one retry),
/// 5 % Failed after 5 attempts, 3 % Retrying, 4 % Pending (not tried yet) and 2 %
/// Confirmed manually after failing, each with the attempts that led there, a minute
/// apart from the ship date on.
fn history(shipment: &NewShipment, rng: &mut StdRng) -> ImportedHistory {
    let roll = rng.gen_range(0..1000);
    let failures = match roll {
        0..860 => u32::from(rng.gen_ratio(1, 3)),
        860..910 => 5,
        910..940 => rng.gen_range(1..=4),
        940..980 => 0,
        _ => 5,
    };
    let status = match roll {
        0..860 => WritebackStatus::Success,
        860..910 => WritebackStatus::Failed,
        910..940 => WritebackStatus::Retrying,
        940..980 => WritebackStatus::Pending,
        _ => WritebackStatus::ConfirmedManually,
    };
    let at = |n: u32| shipment.ship_date + Duration::minutes(i64::from(n));
    let attempt = |n: u32, outcome: AttemptOutcome, rng: &mut StdRng| {
        let failed = outcome != AttemptOutcome::Success;
        ImportedAttempt {
            started_at: at(n),
            duration_ms: rng.gen_range(80..480),
            outcome,
            http_status: Some(if failed { 503 } else { 204 }),
            error_code: failed.then(|| "ServiceUnavailable".to_string()),
            error_message: failed
                .then(|| "Service temporarily unavailable. Please try again.".to_string()),
            worker: "generate".to_string(),
        }
    };
    let mut attempts: Vec<ImportedAttempt> = (1..=failures)
        .map(|n| attempt(n, AttemptOutcome::RetryableError, rng))
        .collect();
    if status == WritebackStatus::Success {
        attempts.push(attempt(failures + 1, AttemptOutcome::Success, rng));
    }
    ImportedHistory {
        shipment_id: shipment.shipment_id.clone(),
        status,
        next_attempt_at: match status {
            WritebackStatus::Pending => Some(shipment.ship_date),
            WritebackStatus::Retrying => Some(at(failures + 60)),
            _ => None,
        },
        attempts,
        manual_confirmation: (status == WritebackStatus::ConfirmedManually).then(|| {
            ManualConfirmation {
                confirmed_by: "Generated".to_string(),
                note: "confirmed in Seller Central".to_string(),
                confirmed_at: at(failures + 30),
            }
        }),
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
    let accounts: Vec<String> = store
        .accounts()
        .await?
        .into_iter()
        .filter(|a| a.enabled)
        .map(|a| a.key)
        .collect();
    let first = store.count_shipments().await?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut done = 0;
    while done < count {
        let chunk = (count - done).min(1000);
        let batch: Vec<NewShipment> = (0..chunk)
            .map(|i| synthetic(first + done + i, &accounts, &mut rng, days.max(1)))
            .collect();
        store.ingest(&batch).await?;
        let histories: Vec<ImportedHistory> = batch.iter().map(|s| history(s, &mut rng)).collect();
        store.import_histories(&histories).await?;
        done += chunk;
        if done % 100_000 == 0 {
            tracing::info!(done, count, "generating shipments");
        }
    }
    store.count_shipments().await
}
