//! Connection status, end to end against the emulator: real calls judged into Green,
//! Yellow, Red and None; the status kept across a restart; `GET /api/v1/status`; the
//! event stream; and the webhook, retried when its receiver fails.

use crate::common;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use common::{add_account, fast_config, harness, unpaced, Harness, ACCOUNT};
use serde_json::{json, Value};
use shipback::health::board::status_board;
use shipback::health::feed::StatusFeed;
use shipback::health::monitored::Monitored;
use shipback::health::webhook::{ChangeKind, WebhookConfig};
use shipback::health::{HealthConfig, HealthMonitor, HealthThresholds};
use shipback::marketplaces::Marketplaces;
use shipback::worker::Worker;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

const OTHER: &str = "acme-uk";

fn config(webhook: Option<WebhookConfig>) -> HealthConfig {
    HealthConfig {
        thresholds: HealthThresholds::default(),
        judge_every: Duration::from_millis(50),
        webhook,
    }
}

/// A worker whose calls the monitor sees.
fn monitored_worker(h: &Harness, monitor: &HealthMonitor) -> Worker {
    let marketplaces =
        Marketplaces::new(&unpaced()).map(|adapter| Monitored::wrap(adapter, monitor.clone()));
    Worker::new(
        h.store.clone(),
        marketplaces,
        fast_config("health"),
        Arc::new(Notify::new()),
    )
}

async fn post_shipment(h: &Harness, n: u32, account: &str) {
    let (order, mut shipment) = h.order(n);
    shipment["account"] = json!(account);
    h.emulator.add_orders(vec![order]);
    let (status, body) = h.post(&shipment).await;
    assert_eq!(status, 200, "{body}");
}

/// The board's entry for one account's API.
async fn api_status(h: &Harness, account: &str, api: &str) -> Value {
    let board = status_board(&h.store, Duration::from_secs(600), chrono::Utc::now())
        .await
        .unwrap();
    let board = serde_json::to_value(board).unwrap();
    board["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == account)
        .unwrap_or_else(|| panic!("{account} not on the board: {board}"))["apis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["api"] == api)
        .unwrap_or_else(|| panic!("{account} has no {api} API"))
        .clone()
}

/// Waits until `account`'s `api` has `health`, for at most `within`.
async fn wait_for_health(
    h: &Harness,
    account: &str,
    api: &str,
    health: &str,
    within: Duration,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let status = api_status(h, account, api).await;
        if status["health"] == health {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "{account} {api} still {} after {within:?}: {}",
            status["health"],
            status["sentence"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A webhook receiver that fails its first request, then records each message.
pub(crate) async fn webhook_receiver() -> (String, Arc<Mutex<Vec<Value>>>, Arc<Mutex<u32>>) {
    #[derive(Clone)]
    struct Seen {
        messages: Arc<Mutex<Vec<Value>>>,
        requests: Arc<Mutex<u32>>,
    }
    async fn receive(State(seen): State<Seen>, Json(message): Json<Value>) -> StatusCode {
        let mut requests = seen.requests.lock().unwrap();
        *requests += 1;
        if *requests == 1 {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        seen.messages.lock().unwrap().push(message);
        StatusCode::NO_CONTENT
    }
    let seen = Seen {
        messages: Arc::default(),
        requests: Arc::default(),
    };
    let router = Router::new()
        .route("/hook", post(receive))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen.messages, seen.requests)
}

#[tokio::test]
async fn an_outage_turns_one_accounts_writeback_red_and_recovery_turns_it_green() {
    let h = harness().await;
    add_account(&h.store, OTHER, &h.emulator_url).await;
    let (url, messages, requests) = webhook_receiver().await;
    let webhook = WebhookConfig {
        url,
        attempts: 3,
        first_retry: Duration::from_millis(50),
        timeout: Duration::from_secs(2),
    };
    let monitor = HealthMonitor::load(&h.store, config(Some(webhook)))
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let judging = tokio::spawn(monitor.clone().run(h.store.clone(), async {
        let _ = stopped.await;
    }));
    let worker = monitored_worker(&h, &monitor);

    // Nothing called yet: every API is None, and says so.
    let status = api_status(&h, ACCOUNT, "writeback").await;
    assert_eq!(status["health"], "none");
    assert_eq!(
        status["sentence"],
        "Unknown: Shipback has not called this API yet."
    );

    // acme-us's Writeback API is down; acme-uk's is not.
    h.set_faults(json!({"api": "writeback", "seller": "test-acme-us", "outage": true}))
        .await;
    for n in 1..=3 {
        post_shipment(&h, n, ACCOUNT).await;
        post_shipment(&h, 100 + n, OTHER).await;
    }
    // acme-us's shipments wait on its paused write-back, whose probes keep failing.
    let deadline = Instant::now() + Duration::from_secs(20);
    while api_status(&h, ACCOUNT, "writeback").await["health"] != "red" {
        assert!(Instant::now() < deadline, "the outage never turned Red");
        worker.run_batch().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    h.settle(&worker, Duration::from_secs(20)).await;
    assert_eq!(h.waiting_count().await, 3);
    // The API says why each waits, its time in UTC (kept as a mark, drawn for the reader).
    let reason = h.detail("S-1").await["last_error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.starts_with("Waiting: Amazon Writeback for acme-us is down since ")
            && reason.contains(" UTC (")
            && !reason.contains("[[at:"),
        "{reason}"
    );
    let down = wait_for_health(&h, ACCOUNT, "writeback", "red", Duration::from_secs(2)).await;
    let sentence = down["sentence"].as_str().unwrap();
    assert!(
        sentence.starts_with("The API is down: the last ")
            && sentence.contains("503 Service Unavailable"),
        "{sentence}"
    );
    assert!(down["figures"]["consecutive_failures"].as_u64().unwrap() >= 5);
    assert!(down["since"].is_string());
    let other = wait_for_health(&h, OTHER, "writeback", "green", Duration::from_secs(2)).await;
    assert!(
        other["sentence"]
            .as_str()
            .unwrap()
            .starts_with("Connected and operating normally: 3 calls"),
        "{}",
        other["sentence"]
    );
    // APIs that made no call stay unknown.
    assert_eq!(api_status(&h, ACCOUNT, "products").await["health"], "none");

    // The outage ends: the next write-backs go through and the API is Green again.
    h.set_faults(json!({})).await;
    for n in 4..=5 {
        post_shipment(&h, n, ACCOUNT).await;
    }
    h.drain(&worker, Duration::from_secs(20)).await;
    for n in 1..=5 {
        assert_eq!(h.detail(&format!("S-{n}")).await["status"], "success");
    }
    wait_for_health(&h, ACCOUNT, "writeback", "green", Duration::from_secs(2)).await;

    // The webhook heard both, in order, although its first delivery failed.
    let deadline = Instant::now() + Duration::from_secs(5);
    while messages.lock().unwrap().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "webhook messages: {:?}",
            messages.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = messages.lock().unwrap().clone();
    assert_eq!(
        *requests.lock().unwrap(),
        3,
        "one failed delivery, retried, then one more"
    );
    assert_eq!(seen[0]["event"], "api_down");
    assert_eq!(seen[0]["account"], ACCOUNT);
    assert_eq!(seen[0]["api"], "writeback");
    assert_eq!(seen[0]["health"], "red");
    let told = seen[0]["sentence"].as_str().unwrap();
    assert!(
        told.contains("down") && told.ends_with(" UTC.") && !told.contains("[[at:"),
        "{told}"
    );
    assert_eq!(seen[1]["event"], "api_recovered");
    assert_eq!(seen[1]["health"], "green");
    assert_eq!(seen[1]["previous_health"], "red");

    // A restart does not forget: a new monitor goes on from the kept calls and finds
    // nothing to report.
    let _ = stop.send(());
    judging.await.unwrap();
    let before = api_status(&h, ACCOUNT, "writeback").await;
    let restarted = HealthMonitor::load(&h.store, config(None)).await.unwrap();
    let changes = restarted.judge_and_keep(&h.store, chrono::Utc::now()).await;
    assert!(changes.is_empty(), "{changes:?}");
    let after = api_status(&h, ACCOUNT, "writeback").await;
    assert_eq!(after["health"], before["health"]);
    assert_eq!(after["since"], before["since"]);
    assert_eq!(after["figures"]["calls"], before["figures"]["calls"]);
    // The day's history has the calls and the Red slice.
    let history = after["history"].as_array().unwrap();
    assert_eq!(history.len(), 96);
    let calls: u64 = history.iter().map(|b| b["calls"].as_u64().unwrap()).sum();
    assert!(calls >= 7, "{calls} calls in the history");
    assert!(history.iter().any(|b| b["worst"] == "red"));
}

#[tokio::test]
async fn faults_are_judged_by_kind() {
    // (fault on the Writeback API, health, start of the sentence)
    let cases = [
        (
            json!({"api": "writeback", "forced_status": 401}),
            "red",
            "The marketplace refuses this account's authorisation",
        ),
        (
            json!({"api": "writeback", "forced_status": 429}),
            "yellow",
            "Throttled: the marketplace refused",
        ),
        (
            json!({"api": "writeback", "error_rate": 0.0, "latency_ms": 300}),
            "yellow",
            "Slow answers:",
        ),
        (
            json!({"api": "writeback", "forced_status": 400}),
            "green",
            "Connected and operating normally",
        ),
    ];
    for (i, (fault, health, sentence)) in cases.into_iter().enumerate() {
        let h = harness().await;
        let monitor = HealthMonitor::load(
            &h.store,
            HealthConfig {
                thresholds: HealthThresholds {
                    slow_call: Duration::from_millis(200),
                    min_calls: 3,
                    ..HealthThresholds::default()
                },
                ..config(None)
            },
        )
        .await
        .unwrap();
        let worker = monitored_worker(&h, &monitor);
        h.set_faults(fault.clone()).await;
        for n in 1..=3 {
            post_shipment(&h, 10 * i as u32 + n, ACCOUNT).await;
        }
        worker.run_batch().await.unwrap();
        monitor.judge_and_keep(&h.store, chrono::Utc::now()).await;
        let status = api_status(&h, ACCOUNT, "writeback").await;
        assert_eq!(status["health"], health, "{fault}: {}", status["sentence"]);
        assert!(
            status["sentence"].as_str().unwrap().starts_with(sentence),
            "{fault}: {}",
            status["sentence"]
        );
    }
}

#[tokio::test]
async fn status_is_served_as_json_and_changes_are_pushed() {
    let h = harness().await;
    let feed = StatusFeed::spawn(
        h.store.clone(),
        Duration::from_secs(600),
        Duration::from_millis(100),
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = feed.clone().routes();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let board: Value = h
        .http
        .get(format!("{url}/api/v1/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(board["idle_after_secs"], 600);
    let apis: Vec<&str> = board["accounts"][0]["apis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["api"].as_str().unwrap())
        .collect();
    assert_eq!(apis, ["products", "writeback", "orders"]);
    assert_eq!(board["accounts"][0]["account"], ACCOUNT);
    assert_eq!(board["accounts"][0]["company"], "Acme Inc.");

    let mut events = h
        .http
        .get(format!("{url}/api/v1/status/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        events.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let first = String::from_utf8(events.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(first.contains("event: status"), "{first}");
    // The first event names nothing: a page reads the whole board once.
    let data = first
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap();
    assert!(data.parse::<u64>().is_ok(), "{first}");

    // A write-back, judged: the open stream hears of it. (How soon is the streams
    // bench's figure; here the wait only guards against a hang.)
    let monitor = HealthMonitor::load(&h.store, config(None)).await.unwrap();
    let worker = monitored_worker(&h, &monitor);
    post_shipment(&h, 1, ACCOUNT).await;
    worker.run_batch().await.unwrap();
    monitor.judge_and_keep(&h.store, chrono::Utc::now()).await;
    let said: Value = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let chunk = events.chunk().await.unwrap().unwrap();
            let text = String::from_utf8(chunk.to_vec()).unwrap();
            if let Some(data) = text.lines().find_map(|l| l.strip_prefix("data: ")) {
                return serde_json::from_str::<Value>(data).unwrap();
            }
        }
    })
    .await
    .expect("no status event");
    // It names the account whose part changed (nothing else changed since the stream
    // opened), and the page reads that part alone.
    assert_eq!(said["accounts"], json!([ACCOUNT]), "{said}");
    assert!(said["version"].as_u64().unwrap() > 0);
    let part = shipback::health::board::status_board_of(
        &h.store,
        Duration::from_secs(600),
        chrono::Utc::now(),
        Some(&[ACCOUNT.to_string()]),
    )
    .await
    .unwrap();
    assert_eq!(part.accounts.len(), 1);
    let none = shipback::health::board::status_board_of(
        &h.store,
        Duration::from_secs(600),
        chrono::Utc::now(),
        Some(&[]),
    )
    .await
    .unwrap();
    assert!(none.accounts.is_empty());
    assert_eq!(
        api_status(&h, ACCOUNT, "writeback").await["health"],
        "green"
    );
}

/// Two workers each saw part of an outage: three failed calls each, fewer than the five
/// in a row that turn an API Red. Judged on the calls of both, kept in the database, it
/// is Red; before, each judged its own three and the last to write won (Green).
#[tokio::test]
async fn the_status_is_judged_on_the_calls_of_every_worker() {
    use shipback::health::{ApiCall, CallOutcome};
    let h = harness().await;
    let account = h.account(ACCOUNT).await;
    let (first, second) = (
        HealthMonitor::load(&h.store, config(None)).await.unwrap(),
        HealthMonitor::load(&h.store, config(None)).await.unwrap(),
    );
    let start = chrono::Utc::now() - chrono::Duration::seconds(30);
    let failure = |n: i64| ApiCall {
        at: start + chrono::Duration::seconds(n),
        outcome: CallOutcome::ServerError,
        latency_ms: 20,
        http_status: Some(503),
        code: "ServiceUnavailable".into(),
        message: "down".into(),
    };
    let writeback = app::marketplace::ApiKind::Writeback;
    for n in [0, 2, 4] {
        first.record(account.id, writeback, failure(n));
    }
    for n in [1, 3, 5] {
        second.record(account.id, writeback, failure(n));
    }
    let announced = first.judge_and_keep(&h.store, chrono::Utc::now()).await;
    assert!(announced.iter().all(|c| c.kind != ChangeKind::Down));
    assert_ne!(api_status(&h, ACCOUNT, "writeback").await["health"], "red");
    let announced = second.judge_and_keep(&h.store, chrono::Utc::now()).await;
    assert_eq!(api_status(&h, ACCOUNT, "writeback").await["health"], "red");
    assert_eq!(
        announced.iter().map(|c| c.kind).collect::<Vec<_>>(),
        [ChangeKind::Down],
        "the worker that turned it Red announces it"
    );
    // The first worker, judging again with nothing new of its own, agrees, and does
    // not announce it a second time: the webhook hears of it once.
    let announced = first.judge_and_keep(&h.store, chrono::Utc::now()).await;
    assert_eq!(api_status(&h, ACCOUNT, "writeback").await["health"], "red");
    assert!(announced.is_empty(), "announced again: {announced:?}");
}
