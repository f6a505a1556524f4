//! The worker keeps to Amazon's documented usage plan for confirmShipment (2 per
//! second, burst 10) per account: no 429 is earned, the time taken is what the plan
//! allows, and accounts do not slow each other down. Several workers keep it together,
//! as one would: their turns are kept in the database (store/pacing.rs).

use crate::common;

use common::{add_account, fast_config, harness, Harness};
use serde_json::{json, Value};
use shipback::marketplaces::rate_limit::{
    AccountLimiter, AMAZON_CONFIRM_SHIPMENT, AMAZON_SEARCH_ORDERS, HEADROOM,
};
use shipback::marketplaces::{ClientConfig, Marketplaces};
use shipback::worker::{Worker, WorkerConfig};
use std::time::{Duration, Instant};

const PER_ACCOUNT: u32 = 60;

/// The least time the usage plan allows for one account's calls: the burst at once,
/// the rest at the documented rate (10 at once and 50 at 2 per second: 25 s).
fn allowed() -> Duration {
    let plan = AMAZON_CONFIRM_SHIPMENT;
    Duration::from_secs_f64(f64::from(PER_ACCOUNT - plan.burst) / plan.rate)
}

/// The time Shipback's own pacing takes: the burst less the reserve at once, the rest
/// at the rate less the headroom (9 at once and 51 at 1.9 per second: 26.8 s).
fn paced() -> Duration {
    let plan = AMAZON_CONFIRM_SHIPMENT;
    let burst = plan.burst - plan.reserve();
    Duration::from_secs_f64(f64::from(PER_ACCOUNT - burst) / (plan.rate * HEADROOM))
}

/// A worker with marketplace clients of its own, as a process of its own has: what it
/// shares with other workers goes through the database.
fn paced_worker(h: &Harness, name: &str) -> Worker {
    let config = WorkerConfig {
        batch_size: 200,
        per_account: 20,
        concurrency: 100,
        lease: Duration::from_secs(60),
        attempt_timeout: Duration::from_secs(10),
        ..fast_config(name)
    };
    Worker::new(
        h.store.clone(),
        Marketplaces::new(&ClientConfig {
            shared_store: Some(h.store.clone()),
            ..ClientConfig::default()
        }),
        config,
        Default::default(),
    )
}

/// Posts 60 shipments for each account and writes them all back with `workers`
/// workers at once; returns the time taken.
async fn write_back(h: &Harness, accounts: &[String], workers: usize) -> Duration {
    let mut shipments = Vec::new();
    for (a, account) in accounts.iter().enumerate() {
        for i in 0..PER_ACCOUNT {
            let (order, mut shipment) = h.order(10_000 * (a as u32 + 1) + i);
            h.emulator.add_orders(vec![order]);
            shipment["account"] = json!(account);
            shipments.push(shipment);
        }
    }
    assert_eq!(h.post(&Value::Array(shipments)).await.0, 200);
    h.emulator.enforce_limits(true);

    let workers: Vec<Worker> = (0..workers)
        .map(|n| paced_worker(h, &format!("paced-{n}")))
        .collect();
    let start = Instant::now();
    futures::future::join_all(
        workers
            .iter()
            .map(|worker| h.drain(worker, Duration::from_secs(120))),
    )
    .await;
    let elapsed = start.elapsed();

    let counts = h.store.status_counts().await.unwrap();
    assert_eq!(
        counts,
        vec![(
            app::shipments::WritebackStatus::Success,
            PER_ACCOUNT as u64 * accounts.len() as u64
        )]
    );
    let throttled = h.throttled_calls().await;
    assert!(throttled.is_empty(), "429s earned: {throttled:?}");
    let calls = h.emulator_get("/_emulator/calls").await;
    let accepted: u64 = calls["summary"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == 204)
        .map(|s| s["count"].as_u64().unwrap())
        .sum();
    assert_eq!(accepted, PER_ACCOUNT as u64 * accounts.len() as u64);
    elapsed
}

/// Never faster than the plan allows, and no slower than Shipback's pacing plus 10 %.
fn assert_near_allowed(elapsed: Duration) {
    let (low, high) = (allowed(), paced().mul_f64(1.1));
    assert!(
        elapsed >= low && elapsed <= high,
        "took {elapsed:?}; the usage plan allows {low:?}, Shipback's pacing takes {:?} (+10 % at most)",
        paced()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_stays_at_its_rate_limit_without_a_429() {
    let h = harness().await;
    let elapsed = write_back(&h, &[common::ACCOUNT.to_string()], 1).await;
    println!("60 shipments on one account: {elapsed:?}");
    assert_near_allowed(elapsed);
}

/// Three workers over one account once earned 429s and took three times as long as one
/// worker: each paced itself alone at the whole plan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_keep_one_accounts_plan_together() {
    let h = harness().await;
    let elapsed = write_back(&h, &[common::ACCOUNT.to_string()], 3).await;
    println!("60 shipments on one account, 3 workers: {elapsed:?}");
    assert_near_allowed(elapsed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_accounts_take_no_longer_than_one() {
    let h = harness().await;
    let mut accounts = vec![common::ACCOUNT.to_string()];
    for n in 2..=5 {
        let key = format!("seller-{n}");
        add_account(&h.store, &key, &h.emulator_url).await;
        accounts.push(key);
    }
    let elapsed = write_back(&h, &accounts, 1).await;
    println!("60 shipments on each of 5 accounts: {elapsed:?}");
    assert_near_allowed(elapsed);
}

/// Amazon's `searchOrders` gives a burst of 20 and then one call in three minutes; the
/// order import takes its first call's turn only when there is one now. Where the turns
/// are shared, the burst is the account's across every worker, not each worker's.
#[tokio::test]
async fn the_order_imports_turns_are_shared_by_every_worker() {
    let database = common::database::TestDatabase::new().await;
    let store = database.open_store().await;
    let worker = |name| AccountLimiter::shared(AMAZON_SEARCH_ORDERS, store.clone(), name);
    let (first, second) = (worker("amazon.searchOrders"), worker("amazon.searchOrders"));
    let burst = AMAZON_SEARCH_ORDERS.burst - AMAZON_SEARCH_ORDERS.reserve();
    for turn in 0..burst {
        let limiter = if turn % 2 == 0 { &first } else { &second };
        assert!(limiter.try_ready(7).await, "turn {turn} of the burst");
    }
    assert!(!first.try_ready(7).await, "the burst is spent");
    assert!(!second.try_ready(7).await, "for the other worker too");
    assert!(second.try_ready(8).await, "another account has its own");
    // The control: a worker that keeps its turns to itself still has its own burst,
    // which is what earned the 429s before.
    let alone = AccountLimiter::new(AMAZON_SEARCH_ORDERS);
    assert!(alone.try_ready(7).await);
}
