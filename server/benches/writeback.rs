//! Write-back throughput benchmark: shipments written back per second by WORKERS
//! workers (one by default), from a fresh database to the marketplace emulator over
//! HTTP on loopback, with the rate limits off on both sides (Shipback's clients and the
//! emulator).
//!
//!     cargo bench -p shipback --bench writeback [-- TOTAL_SHIPMENTS [ACCOUNTS [WORKERS]] [metrics]]
//!
//! With `metrics`, the Prometheus recorder is installed as `--metrics-bind` does, so
//! that every attempt is counted and timed: run it back to back with and without to
//! see what the metrics cost.
//!
//! A SQLite file by default; with `SHIPBACK_TEST_DATABASE=postgres`, a fresh database
//! on the PostgreSQL server at `SHIPBACK_TEST_POSTGRES_URL` (default: the local one),
//! dropped at the end: the switch the integration tests use.
//!
//! What is timed: claiming, the token cache, the confirmShipment call (request built,
//! sent, validated and answered by the emulator), and recording every attempt and
//! status. The shipments are stored before the clock starts. Not a test: it prints
//! figures; docs/benchmarks.md records them.

use app::query::ShipmentQuery;
use app::shipments::WritebackStatus;
use chrono::Utc;
use shipback::accounts::{Credentials, MarketplaceKind, NewAccount};
use shipback::emulator::{Emulator, NewOrder, NewOrderItem};
use shipback::health::HealthConfig;
use shipback::marketplaces::ClientConfig;
use shipback::runtime::{self, Shutdown, WorkerSettings};
use shipback::shipments::NewShipment;
use shipback::worker::WorkerConfig;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../tests/integration/common/database.rs"]
#[allow(dead_code)]
mod database;

fn order_id(n: usize) -> String {
    format!(
        "{:03}-{:07}-{:07}",
        100 + n % 900,
        n % 10_000_000,
        (n * 7919) % 10_000_000
    )
}

async fn run(total: usize, accounts: usize, workers: usize) -> (Duration, u64) {
    let database = database::TestDatabase::new().await;
    let store = database.open_store().await;
    let emulator = Emulator::default();
    emulator.enforce_limits(false);
    let addr = emulator
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{addr}");
    for a in 0..accounts {
        store
            .upsert_account(&NewAccount {
                key: format!("bench-{a}"),
                marketplace: MarketplaceKind::Amazon,
                display_name: format!("Bench {a}"),
                company: "Bench".into(),
                enabled: true,
                marketplace_id: "ATVPDKIKX0DER".into(),
                region: "na".into(),
                api_base_url: base.clone(),
                auth_base_url: base.clone(),
                credentials: Credentials {
                    // Login with Amazon takes only client ids of its own form.
                    client_id: "amzn1.application-oa2-client.bench".into(),
                    client_secret: "s".into(),
                    refresh_token: format!("Atzr|bench-{a}").into(),
                },
                writeback_api: String::new(),
            })
            .await
            .unwrap();
    }
    emulator.add_orders(
        (0..total)
            .map(|n| NewOrder {
                marketplace: "amazon".into(),
                order_id: order_id(n),
                marketplace_id: "ATVPDKIKX0DER".into(),
                seller: String::new(),
                purchase_date: None,
                ship_by: None,
                status: None,
                items: vec![NewOrderItem {
                    order_item_id: format!("{n}01"),
                    sku: "SKU-A".into(),
                    quantity: 2,
                    item_number: None,
                    title: None,
                }],
            })
            .collect(),
    );
    let shipments: Vec<NewShipment> = (0..total)
        .map(|n| NewShipment {
            shipment_id: format!("WB-{n:09}"),
            account: format!("bench-{}", n % accounts),
            order_id: order_id(n),
            carrier: "UPS".into(),
            service: "Ground".into(),
            tracking_number: format!("1Z{n:016}"),
            ship_date: Utc::now(),
            items: vec![app::shipments::ShipmentItem {
                order_item_id: format!("{n}01"),
                sku: Some("SKU-A".into()),
                quantity: 2,
            }],
        })
        .collect();
    for chunk in shipments.chunks(1000) {
        store.ingest(chunk).await.unwrap();
    }

    // The worker part as `shipback worker --no-sync --no-rate-limits` runs it: the
    // health monitor sees and judges every call, as in production.
    let settings = WorkerSettings {
        worker: WorkerConfig {
            batch_size: 2000,
            per_account: 2000,
            concurrency: 128,
            idle_poll: Duration::from_millis(5),
            ..WorkerConfig::default()
        },
        clients: ClientConfig {
            rate_limits: false,
            ..ClientConfig::default()
        },
        sync: None,
        health: HealthConfig::default(),
        deadline_check_every: Duration::from_secs(60),
        retention: None,
    };
    let (stop, shutdown) = Shutdown::manual();
    let start = Instant::now();
    let mut running = Vec::new();
    for n in 0..workers {
        let settings = WorkerSettings {
            worker: WorkerConfig {
                name: format!("bench-{n}"),
                ..settings.worker.clone()
            },
            ..settings.clone()
        };
        let worker = runtime::start_worker(
            &store,
            settings,
            Arc::new(tokio::sync::Notify::new()),
            shutdown.clone(),
        )
        .await
        .unwrap();
        running.push(worker);
    }
    // Done when no shipment is left to write back: every result recorded. Asked every
    // 50 ms for one row (the total comes from the kept counters), so that the asking
    // takes little from the workers on the same two cores.
    let left = ShipmentQuery {
        statuses: vec![WritebackStatus::Pending, WritebackStatus::Retrying],
        limit: 1,
        ..ShipmentQuery::default()
    };
    while store.list_shipments(&left).await.unwrap().total > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = start.elapsed();
    stop.fire();
    for worker in running {
        worker.task.await.unwrap();
    }
    let confirmed = emulator.confirmations().len() as u64;
    (elapsed, confirmed)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(50_000);
    let accounts = args.get(1).copied().unwrap_or(4).max(1);
    let workers = args.get(2).copied().unwrap_or(1).max(1);
    let metrics = std::env::args().any(|a| a == "metrics");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if metrics {
        runtime.block_on(async { shipback::telemetry::install() });
    }
    let (elapsed, confirmed) = runtime.block_on(run(total, accounts, workers));
    assert_eq!(confirmed as usize, total, "every shipment confirmed once");
    println!(
        "write-back ({}, metrics {}): {total} shipments on {accounts} accounts, {workers} worker(s), in {:.2} s = {:.0} write-backs/s",
        if database::on_postgres() { "PostgreSQL" } else { "SQLite" },
        if metrics { "on" } else { "off" },
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
}
