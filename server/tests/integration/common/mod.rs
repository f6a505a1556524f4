//! A database of the test's own (see `database.rs`), the emulator and the station API
//! on ephemeral ports.

pub mod database;

use serde_json::{json, Value};
use shipback::accounts::{Account, Credentials, MarketplaceKind, NewAccount};
use shipback::emulator::{ConfirmationRecord, Emulator, NewOrder, NewOrderItem};
use shipback::marketplaces::{ClientConfig, Marketplaces};
use shipback::order_sync::{OrderSync, OrderSyncConfig};
use shipback::people::http::SessionConfig;
use shipback::runtime::{self, Shutdown, ShutdownTrigger, WebSettings};
use shipback::secrets::{Keyring, SecretKey};
use shipback::store::Store;
use shipback::worker::{RetryPolicy, Worker, WorkerConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

pub struct Harness {
    pub store: Store,
    pub database_url: String,
    pub emulator: Emulator,
    pub emulator_url: String,
    pub api_url: String,
    pub http: reqwest::Client,
    pub secret_key: SecretKey,
    /// Stops the web server when the test ends.
    _shutdown: ShutdownTrigger,
    /// Dropped with the harness: a PostgreSQL test database goes with it.
    _database: database::TestDatabase,
}

pub const ACCOUNT: &str = "acme-us";

pub async fn harness() -> Harness {
    // `RUST_LOG=warn cargo test …` shows the server's log beside a failing test.
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
    let database = database::TestDatabase::new().await;
    let database_url = database.url.clone();
    // The credentials are sealed as in production; a worker process started by a test
    // is given the same key.
    let secret_key = SecretKey::generate();
    let store = Store::open(&database_url)
        .await
        .unwrap()
        .with_keyring(Keyring::new(secret_key.clone()));
    let emulator = Emulator::default();
    // Most tests are about outcomes, not pacing: the rate-limit tests turn limits on.
    emulator.enforce_limits(false);
    let emulator_addr = emulator
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let emulator_url = format!("http://{emulator_addr}");
    add_account(&store, ACCOUNT, &emulator_url).await;

    // The whole web server, as `shipback serve` runs it (route table, sign-in,
    // hardening), without a compiled site: the tests call the API and server functions.
    let (shutdown, stop) = Shutdown::manual();
    let web = runtime::start_web(
        &store,
        &WebSettings {
            bind: "127.0.0.1:0".parse().unwrap(),
            site_root: database.dir.path().join("site").display().to_string(),
            sessions: SessionConfig::default(),
            health_idle_after: Duration::from_secs(600),
            site_time: Default::default(),
        },
        Arc::new(Notify::new()),
        None,
        stop,
    )
    .await
    .unwrap();
    let api_url = web.url();

    let http = authorized_client(&store).await;
    Harness {
        store,
        database_url,
        emulator,
        emulator_url,
        api_url,
        http,
        secret_key,
        _shutdown: shutdown,
        _database: database,
    }
}

/// Every scope: the tests that are about tokens build their own requests.
pub const ALL_SCOPES: &str = "ingest,read,operate";

/// An HTTP client that sends a token with every scope.
pub async fn authorized_client(store: &Store) -> reqwest::Client {
    let token = shipback::tokens::create_token(
        store,
        "integration-tests",
        ALL_SCOPES.parse().unwrap(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    shipback::tokens::client_with_token(&token)
}

pub async fn add_account(store: &Store, key: &str, emulator_url: &str) {
    store
        .upsert_account(&NewAccount {
            key: key.into(),
            marketplace: MarketplaceKind::Amazon,
            display_name: format!("{key} store"),
            company: "Acme Inc.".into(),
            enabled: true,
            marketplace_id: "ATVPDKIKX0DER".into(),
            region: "na".into(),
            api_base_url: emulator_url.into(),
            auth_base_url: emulator_url.into(),
            credentials: Credentials {
                client_id: "amzn1.application-oa2-client.test".into(),
                client_secret: "secret".into(),
                refresh_token: format!("Atzr|test-{key}").into(),
            },
            writeback_api: String::new(),
        })
        .await
        .unwrap();
}

/// Clients that do not pace themselves to the marketplaces' rates.
pub fn unpaced() -> ClientConfig {
    ClientConfig {
        rate_limits: false,
        ..ClientConfig::default()
    }
}

/// Retries in milliseconds so that five attempts take well under a second.
pub fn fast_config(name: &str) -> WorkerConfig {
    WorkerConfig {
        name: name.into(),
        batch_size: 50,
        per_account: 50,
        concurrency: 16,
        lease: Duration::from_secs(10),
        attempt_timeout: Duration::from_secs(5),
        idle_poll: Duration::from_millis(10),
        probe_every: Duration::from_millis(50),
        retry: RetryPolicy {
            max_attempts: 5,
            delays: RetryPolicy::doubling(Duration::from_millis(10), Duration::from_millis(40), 5),
            jitter: 0.2,
        },
        shutdown_grace: Duration::from_secs(5),
    }
}

impl Harness {
    /// A worker with its own client settings (e.g. a short request timeout).
    pub fn worker_with(&self, name: &str, client: &ClientConfig) -> Worker {
        Worker::new(
            self.store.clone(),
            Marketplaces::new(client),
            fast_config(name),
            Arc::new(Notify::new()),
        )
    }

    /// The marketplace sync, with unpaced clients.
    pub fn sync(&self) -> OrderSync {
        OrderSync::new(
            self.store.clone(),
            Marketplaces::new(&unpaced()),
            OrderSyncConfig::default(),
        )
    }

    pub async fn account(&self, key: &str) -> Account {
        self.store
            .accounts()
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.key == key)
            .unwrap()
    }

    pub fn worker(&self, name: &str) -> Worker {
        Worker::new(
            self.store.clone(),
            Marketplaces::new(&unpaced()),
            fast_config(name),
            Arc::new(Notify::new()),
        )
    }

    /// An order in the emulator, and the station's shipment of all of it.
    pub fn order(&self, n: u32) -> (NewOrder, Value) {
        let order_id = format!("113-{:07}-{:07}", n, n * 7 % 10_000_000);
        let order = NewOrder {
            marketplace: "amazon".into(),
            order_id: order_id.clone(),
            marketplace_id: "ATVPDKIKX0DER".into(),
            seller: String::new(),
            // Bought the day before the shipment's fixed ship date.
            purchase_date: Some("2026-11-24T09:00:00Z".parse().unwrap()),
            ship_by: None,
            status: None,
            items: vec![
                NewOrderItem {
                    order_item_id: format!("{n}01"),
                    sku: "SKU-A".into(),
                    quantity: 2,
                    item_number: None,
                    title: None,
                },
                NewOrderItem {
                    order_item_id: format!("{n}02"),
                    sku: "SKU-B".into(),
                    quantity: 1,
                    item_number: None,
                    title: None,
                },
            ],
        };
        let shipment = json!({
            "shipment_id": format!("S-{n}"),
            "account": ACCOUNT,
            "order_id": order_id,
            "carrier": "UPS",
            "service": "Ground",
            "tracking_number": format!("1Z{n:08}"),
            "ship_date": "2026-11-25T14:02:00Z",
            "items": [
                {"order_item_id": format!("{n}01"), "sku": "SKU-A", "quantity": 2},
                {"order_item_id": format!("{n}02"), "sku": "SKU-B", "quantity": 1}
            ]
        });
        (order, shipment)
    }

    /// Posts `body` to another API path: its status and JSON answer (Null if none).
    pub async fn post_to(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.api_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Shipments S-1 … S-`count`, each refused for good by the marketplace (400), so
    /// Failed. The refusal stays on.
    pub async fn failed_shipments(&self, count: u32) {
        let worker = self.worker("failing");
        for n in 1..=count {
            let (order, shipment) = self.order(n);
            self.emulator.add_orders(vec![order]);
            assert_eq!(self.post(&shipment).await.0, 200);
        }
        self.set_faults(serde_json::json!({"api": "writeback", "forced_status": 400}))
            .await;
        self.drain(&worker, Duration::from_secs(10)).await;
    }

    pub async fn post(&self, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/api/v1/shipments", self.api_url))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.api_url))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// An access token for acme-us from the emulator's Login with Amazon, for tests
    /// that call its APIs directly.
    pub async fn amazon_access_token(&self) -> String {
        let answer: Value = self
            .http
            .post(format!("{}/auth/o2/token", self.emulator_url))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "Atzr|test-acme-us"),
                ("client_id", "amzn1.application-oa2-client.test"),
                ("client_secret", "s"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["access_token"].as_str().unwrap().to_string()
    }

    /// A control endpoint of the emulator, read over HTTP.
    /// The emulator's call summary rows that answered 429: none, when the usage plans
    /// were kept.
    pub async fn throttled_calls(&self) -> Vec<Value> {
        self.emulator_get("/_emulator/calls").await["summary"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["status"] == 429)
            .cloned()
            .collect()
    }

    pub async fn emulator_get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.emulator_url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    pub async fn detail(&self, shipment_id: &str) -> Value {
        let (status, body) = self.get(&format!("/api/v1/shipments/{shipment_id}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn set_faults(&self, faults: Value) {
        let response = self
            .http
            .put(format!("{}/_emulator/faults", self.emulator_url))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    /// Read over HTTP, as a test outside the process would.
    pub async fn confirmations(&self) -> Vec<ConfirmationRecord> {
        self.http
            .get(format!("{}/_emulator/confirmations", self.emulator_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Runs the worker's batches until nothing is pending or retrying.
    pub async fn drain(&self, worker: &Worker, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            worker.run_batch().await.unwrap();
            if self.open_count().await == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "shipments still open after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Runs the worker's batches until every open shipment waits (on a paused API, a
    /// disabled account…) and nothing else is due: what a marketplace still in trouble
    /// leaves behind.
    pub async fn settle(&self, worker: &Worker, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            worker.run_batch().await.unwrap();
            if self.open_count().await == self.waiting_count().await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "shipments neither done nor waiting after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Shipments waiting on something (a paused API, a disabled account…).
    pub async fn waiting_count(&self) -> u64 {
        self.store
            .waiting_counts()
            .await
            .unwrap()
            .into_iter()
            .map(|(_, n)| n)
            .sum()
    }

    pub async fn open_count(&self) -> u64 {
        self.store
            .status_counts()
            .await
            .unwrap()
            .into_iter()
            .filter(|(s, _)| {
                matches!(
                    s,
                    app::shipments::WritebackStatus::Pending
                        | app::shipments::WritebackStatus::Retrying
                )
            })
            .map(|(_, n)| n)
            .sum()
    }
}

/// An account value for tests that need one without a database.
pub fn sample_account() -> Account {
    Account {
        id: 1,
        key: ACCOUNT.into(),
        marketplace: MarketplaceKind::Amazon,
        display_name: "Acme".into(),
        company: "Acme Inc.".into(),
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
        unusable: None,
    }
}

/// A claimed shipment as the worker hands it to a client.
pub fn sample_claim(carrier: &str, service: &str) -> shipback::records::shipments::ClaimedShipment {
    shipback::records::shipments::ClaimedShipment {
        row_id: 77,
        fence: 1,
        shipment_id: "S-1".into(),
        account_id: 1,
        order_id: "113-1234567-1234567".into(),
        carrier: carrier.into(),
        service: service.into(),
        tracking_number: "1Z999".into(),
        ship_date: "2026-11-25T14:02:00Z".parse().unwrap(),
        items: vec![
            app::shipments::ShipmentItem {
                order_item_id: "111".into(),
                sku: Some("SKU".into()),
                quantity: 2,
            },
            app::shipments::ShipmentItem {
                order_item_id: "112".into(),
                sku: None,
                quantity: 1,
            },
        ],
        revision: 0,
        error_count: 0,
        marketplace_carrier: None,
        outcome_unknown: false,
        waiting_on: None,
    }
}

/// `shipback ARGS` as a process of its own, with `envs` and `stdin`: its exit status,
/// standard output and standard error. Waited for on a thread of its own: the test's
/// runtime must go on driving the harness's tasks meanwhile, or a task of the harness
/// that holds SQLite's write lock (the session sweep at start) would hold it until the
/// process gives up ("database is locked", seen).
pub async fn run_shipback(
    args: &[&str],
    envs: &[(&str, &str)],
    stdin: &str,
) -> (bool, String, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let envs: Vec<(String, String)> = envs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let stdin = stdin.to_string();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_shipback_blocking(&args, &envs, &stdin)
    })
    .await
    .unwrap()
}

/// [`run_shipback`], for a test without a runtime.
pub fn run_shipback_blocking(
    args: &[&str],
    envs: &[(&str, &str)],
    stdin: &str,
) -> (bool, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shipback"))
        .args(args)
        .envs(envs.iter().copied())
        .env("SHIPBACK_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The grid's kept counters agree with the rows themselves, status by status.
pub async fn counters_match_rows(store: &Store) {
    let counted: std::collections::HashMap<_, _> =
        store.status_counts().await.unwrap().into_iter().collect();
    for (status, kept) in store.status_totals().await.unwrap() {
        let listed = store
            .list_shipments(&app::query::ShipmentQuery {
                statuses: vec![status],
                limit: 1,
                ..app::query::ShipmentQuery::default()
            })
            .await
            .unwrap()
            .total;
        let counted = counted.get(&status).copied().unwrap_or(0);
        assert_eq!(kept, counted, "the counters of {status:?}");
        assert_eq!(listed, counted, "the grid's total of {status:?}");
    }
}

/// A port free a moment ago, for a process that cannot report the one it took.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
