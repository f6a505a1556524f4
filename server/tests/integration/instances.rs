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
