//! What several workers share through the database, as processes of their own would:
//! each worker here has marketplace clients of its own, and shares only the store.

use crate::common;

use common::{fast_config, harness, unpaced, Harness};
use serde_json::Value;
use shipback::marketplaces::{ClientConfig, Marketplaces};
use shipback::worker::Worker;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

fn worker_of_its_own(h: &Harness, name: &str, shared: bool) -> Worker {
    let clients = ClientConfig {
        shared_store: shared.then(|| h.store.clone()),
        ..unpaced()
    };
    Worker::new(
        h.store.clone(),
        Marketplaces::new(&clients),
        fast_config(name),
        Arc::new(Notify::new()),
    )
}

async fn write_back_one(h: &Harness, n: u32, worker: &Worker) {
    let (order, shipment) = h.order(n);
    h.emulator.add_orders(vec![order]);
    assert_eq!(h.post(&Value::Array(vec![shipment])).await.0, 200);
    h.drain(worker, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn workers_use_the_access_token_one_of_them_fetched() {
    let h = harness().await;
    let first = worker_of_its_own(&h, "first", true);
    let second = worker_of_its_own(&h, "second", true);
    write_back_one(&h, 801, &first).await;
    assert_eq!(h.emulator.tokens_issued(), 1);
    write_back_one(&h, 802, &second).await;
    assert_eq!(
        h.emulator.tokens_issued(),
        1,
        "the second worker used the shared token"
    );
    // A worker that keeps its tokens to itself fetches its own.
    let loner = worker_of_its_own(&h, "loner", false);
    write_back_one(&h, 803, &loner).await;
    assert_eq!(h.emulator.tokens_issued(), 2);
    // What is shared is sealed: the database holds no token in the clear.
    let stored = common::database::stored_bytes(&h.database_url).await;
    assert!(!common::database::holds(&stored, b"Atza|"));
}

/// Workers claiming at the same moment take shipments apart, each account's
/// longest-waiting first and at most `per_account` of one account in a claim, and none
/// is left behind while a later one of its account is taken.
#[tokio::test]
async fn claims_made_at_once_never_overlap_and_keep_to_each_accounts_share() {
    let h = harness().await;
    common::add_account(&h.store, "second-store", &h.emulator_url).await;
    let batch: Vec<Value> = (0..40)
        .map(|n| {
            let (_, mut shipment) = h.order(900 + n);
            if n >= 30 {
                shipment["account"] = "second-store".into();
            }
            shipment
        })
        .collect();
    assert_eq!(h.post(&Value::Array(batch)).await.0, 200);

    let now = shipback::store::now_millis();
    let claims = futures::future::join_all((0..3).map(|i| {
        let store = h.store.clone();
        async move {
            store
                .claim_due(&format!("worker-{i}"), now, now + 60_000, 12, 8)
                .await
                .unwrap()
        }
    }))
    .await;

    // The shipments are numbered in the order they were stored, all due at once: an
    // account's longest-waiting are its lowest numbers.
    let number = |id: &str| id.trim_start_matches("S-").parse::<u32>().unwrap();
    let mut taken: std::collections::HashMap<i64, Vec<u32>> = Default::default();
    for claim in &claims {
        assert!(!claim.is_empty(), "a claim came away empty: {claims:?}");
        assert!(claim.len() <= 12, "more than the claim's limit");
        let mut per_account: std::collections::HashMap<i64, usize> = Default::default();
        for shipment in claim {
            *per_account.entry(shipment.account_id).or_default() += 1;
            taken
                .entry(shipment.account_id)
                .or_default()
                .push(number(&shipment.shipment_id));
        }
        assert!(
            per_account.values().all(|n| *n <= 8),
            "more than 8 of one account: {per_account:?}"
        );
    }
    assert_eq!(taken.len(), 2, "both accounts had their share");
    for numbers in taken.values_mut() {
        numbers.sort();
        let first = if numbers[0] < 930 { 900 } else { 930 };
        let expected: Vec<u32> = (first..).take(numbers.len()).collect();
        assert_eq!(*numbers, expected, "claimed twice, or one skipped");
    }
}
