//! Ingest benchmark: shipments per second posted to `POST /api/v1/shipments` in batches
//! of 1,000, over real HTTP on loopback, into a fresh database with every index.
//!
//!     cargo bench -p shipback --bench ingest [-- TOTAL_SHIPMENTS]
//!
//! A SQLite file by default; with `SHIPBACK_TEST_DATABASE=postgres`, a fresh database
//! on the PostgreSQL server at `SHIPBACK_TEST_POSTGRES_URL` (default: the local one).
//!
//! Not a test: it prints figures; docs/benchmarks.md records them.

use serde_json::{json, Value};
use shipback::accounts::{Credentials, MarketplaceKind, NewAccount};
use shipback::people::http::SessionConfig;
use shipback::runtime::{self, Shutdown, WebSettings};
use shipback::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../tests/integration/common/database.rs"]
#[allow(dead_code)]
mod database;

const BATCH: usize = 1000;

fn batch(first: usize) -> Value {
    let carriers = ["UPS", "USPS", "FedEx", "DHL"];
    Value::Array(
        (first..first + BATCH)
            .map(|n| {
                json!({
                    "shipment_id": format!("BENCH-{n:09}"),
                    "account": if n % 2 == 0 { "bench-us" } else { "bench-uk" },
                    "order_id": format!("{:03}-{:07}-{:07}", 100 + n % 900, n % 10_000_000, (n * 7919) % 10_000_000),
                    "carrier": carriers[n % 4],
                    "service": "Ground",
                    "tracking_number": format!("1Z{n:016}"),
                    "ship_date": format!("2026-{:02}-{:02}T{:02}:{:02}:00Z", 1 + n % 11, 1 + n % 28, n % 24, n % 60),
                    "items": [
                        {"order_item_id": format!("{n}01"), "sku": "SKU-A", "quantity": 1 + n % 3},
                        {"order_item_id": format!("{n}02"), "sku": "SKU-B", "quantity": 1}
                    ]
                })
            })
            .collect(),
    )
}

async fn add_accounts(store: &Store) {
    for key in ["bench-us", "bench-uk"] {
        store
            .upsert_account(&NewAccount {
                key: key.into(),
                marketplace: MarketplaceKind::Amazon,
                display_name: key.into(),
                company: "Bench".into(),
                enabled: true,
                marketplace_id: "ATVPDKIKX0DER".into(),
                region: "na".into(),
                api_base_url: "http://127.0.0.1:9".into(),
                auth_base_url: "http://127.0.0.1:9".into(),
                credentials: Credentials {
                    client_id: "c".into(),
                    client_secret: "s".into(),
                    refresh_token: "Atzr|r".into(),
                },
                writeback_api: String::new(),
            })
            .await
            .unwrap();
    }
}

async fn run(total: usize, posters: usize) -> (Duration, usize) {
    let database = database::TestDatabase::new().await;
    let store = database.open_store().await;
    add_accounts(&store).await;
    // The web server as `shipback serve` runs it: route table, token check, hardening.
    let (stop, shutdown) = Shutdown::manual();
    let web = runtime::start_web(
        &store,
        &WebSettings {
            bind: "127.0.0.1:0".parse().unwrap(),
            site_root: database.dir.path().display().to_string(),
            sessions: SessionConfig::default(),
            health_idle_after: Duration::from_secs(600),
            site_time: Default::default(),
        },
        Arc::new(tokio::sync::Notify::new()),
        None,
        shutdown,
    )
    .await
    .unwrap();
    let api = format!("{}/api/v1/shipments", web.url());

    // Bodies are made before the clock starts: the station's cost is not ours.
    let bodies: Vec<Vec<u8>> = (0..total / BATCH)
        .map(|b| serde_json::to_vec(&batch(b * BATCH)).unwrap())
        .collect();
    let bodies = Arc::new(bodies);
    let token = shipback::tokens::create_token(
        &store,
        "bench",
        "ingest".parse().unwrap(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for poster in 0..posters {
        let (http, api, bodies, token) = (http.clone(), api.clone(), bodies.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            for body in bodies.iter().skip(poster).step_by(posters) {
                let response = http
                    .post(&api)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = start.elapsed();
    stop.fire();
    let stored = store.count_shipments().await.unwrap() as usize;
    (elapsed, stored)
}

/// The same batches without HTTP: JSON parsing and validation, then the store alone.
async fn breakdown(total: usize) -> (Duration, Duration) {
    let database = database::TestDatabase::new().await;
    let store = database.open_store().await;
    add_accounts(&store).await;
    let bodies: Vec<Vec<u8>> = (0..total / BATCH)
        .map(|b| serde_json::to_vec(&batch(b * BATCH)).unwrap())
        .collect();
    let start = Instant::now();
    let parsed: Vec<_> = bodies
        .iter()
        .map(|b| shipback::shipments::validate::parse_batch(b).unwrap())
        .collect();
    let parsing = start.elapsed();
    let start = Instant::now();
    for batch in &parsed {
        store.ingest(batch).await.unwrap();
    }
    (parsing, start.elapsed())
}

fn main() {
    let total: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let total = total / BATCH * BATCH;
    // `RUST_LOG=warn` shows the server's log beside the figures.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!(
        "ingest: {total} shipments in batches of {BATCH}, HTTP on loopback, {}",
        if database::on_postgres() {
            "PostgreSQL"
        } else {
            "SQLite file (WAL)"
        }
    );
    let (parsing, storing) = runtime.block_on(breakdown(total));
    println!(
        "  without HTTP: parsing and validation {:>8.0} shipments/s, store alone {:>8.0} shipments/s",
        total as f64 / parsing.as_secs_f64(),
        total as f64 / storing.as_secs_f64()
    );
    for posters in [1, 2, 4] {
        let (elapsed, stored) = runtime.block_on(run(total, posters));
        assert_eq!(stored, total, "every shipment stored");
        println!(
            "  {posters} concurrent poster(s): {:>8.0} shipments/s  ({:.2} s, {:.1} ms per batch of {BATCH})",
            total as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1000.0 / (total / BATCH) as f64 * posters as f64,
        );
    }
}
