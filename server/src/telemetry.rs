//! Prometheus metrics (docs/metrics.md), through the `metrics` facade and
//! `metrics-exporter-prometheus`'s text format, served at `GET /metrics` on an address
//! of their own (`--metrics-bind`), never beside the dashboard.
//!
//! What happens in this process is counted where it happens (attempts, rate-limit
//! waits, ingest, open event streams). What the database knows (shipments by status,
//! the queue, the connection status) is read from it at each scrape, from the kept
//! counters and judgements, so every instance reports the same, exact figures: take
//! `max` of them across instances, and `sum` of the counters.
//!
//! Without `--metrics-bind` no recorder is installed and every call here costs nothing
//! but a check.

use crate::store::{Store, StoreError};
use app::health::Health;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// Every metric's name, as the Grafana dashboard (`docs/grafana/shipback.json`) uses them.
pub mod names {
    pub const WRITEBACK_ATTEMPTS: &str = "shipback_writeback_attempts_total";
    pub const ATTEMPT_DURATION: &str = "shipback_writeback_attempt_duration_seconds";
    pub const RATE_LIMIT_WAIT: &str = "shipback_rate_limit_wait_seconds";
    pub const SHIPMENTS: &str = "shipback_shipments";
    pub const QUEUE_DEPTH: &str = "shipback_queue_due";
    pub const OLDEST_DUE_AGE: &str = "shipback_queue_oldest_due_age_seconds";
    pub const API_HEALTH: &str = "shipback_api_health";
    pub const INGEST_REQUESTS: &str = "shipback_ingest_requests_total";
    pub const INGEST_ROWS: &str = "shipback_ingest_rows_total";
    pub const SSE_CLIENTS: &str = "shipback_sse_clients";
}

/// Attempts end in well under a second when a marketplace is well, and in tens of
/// seconds when it is not (the attempt timeout is 45 s).
const ATTEMPT_BUCKETS: &[f64] = &[0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 45.0];

/// Most turns come at once; a throttled account's can take minutes.
const WAIT_BUCKETS: &[f64] = &[0.001, 0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (once; later calls return the same handle).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(names::ATTEMPT_DURATION.into()),
                    ATTEMPT_BUCKETS,
                )
                .expect("the buckets are not empty")
                .set_buckets_for_metric(Matcher::Full(names::RATE_LIMIT_WAIT.into()), WAIT_BUCKETS)
                .expect("the buckets are not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed");
            describe();
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        names::WRITEBACK_ATTEMPTS,
        "Write-back attempts, by marketplace, account, API and outcome"
    );
    describe_histogram!(
        names::ATTEMPT_DURATION,
        Unit::Seconds,
        "Time one write-back attempt took, call and read-back included"
    );
    describe_histogram!(
        names::RATE_LIMIT_WAIT,
        Unit::Seconds,
        "Time write-backs waited for their API's usage plan before the call"
    );
    describe_gauge!(
        names::SHIPMENTS,
        "Shipments by write-back status, from the kept counters"
    );
    describe_gauge!(
        names::QUEUE_DEPTH,
        "Shipments due for an attempt now (not waiting, not leased)"
    );
    describe_gauge!(
        names::OLDEST_DUE_AGE,
        Unit::Seconds,
        "How long the oldest due shipment has been due; 0 when none is"
    );
    describe_gauge!(
        names::API_HEALTH,
        "Connection status per account and API: 1 on the current state's series"
    );
    describe_counter!(
        names::INGEST_REQUESTS,
        "Batches the shipping station posted, by outcome"
    );
    describe_counter!(
        names::INGEST_ROWS,
        "Shipments in accepted batches, by what they did"
    );
    describe_gauge!(names::SSE_CLIENTS, "Open event streams, by stream");
}

/// One write-back attempt: counted, and its time into the histogram.
pub fn attempt(marketplace: &str, account: &str, api: &str, outcome: &str, took: Duration) {
    let labels = [
        ("marketplace", marketplace.to_string()),
        ("account", account.to_string()),
        ("api", api.to_string()),
    ];
    histogram!(names::ATTEMPT_DURATION, &labels).record(took.as_secs_f64());
    let [marketplace, account, api] = labels;
    counter!(
        names::WRITEBACK_ATTEMPTS,
        &[marketplace, account, api, ("outcome", outcome.to_string())]
    )
    .increment(1);
}

/// Time a write-back spent waiting for its turn in the usage plan (zero counts too, so
/// that the series exists from the first write-back). A histogram: its `_sum` is the
/// time spent waiting, a float, which a counter of the facade cannot hold.
pub fn rate_limit_wait(marketplace: &str, account: &str, waited: Duration) {
    histogram!(names::RATE_LIMIT_WAIT,
        "marketplace" => marketplace.to_string(),
        "account" => account.to_string())
    .record(waited.as_secs_f64());
}

/// A batch the station posted: `accepted` with the rows' outcomes, else `refused` (its
/// content) or `failed` (Shipback's trouble).
pub fn ingest(outcome: &'static str, rows: &[(&'static str, usize)]) {
    counter!(names::INGEST_REQUESTS, "outcome" => outcome).increment(1);
    for (what, n) in rows {
        counter!(names::INGEST_ROWS, "outcome" => *what).increment(*n as u64);
    }
}

/// Counts one open event stream of `stream` while it lives.
pub struct SseClient(&'static str);

impl SseClient {
    pub fn open(stream: &'static str) -> SseClient {
        gauge!(names::SSE_CLIENTS, "stream" => stream).increment(1.0);
        SseClient(stream)
    }
}

impl Drop for SseClient {
    fn drop(&mut self) {
        gauge!(names::SSE_CLIENTS, "stream" => self.0).decrement(1.0);
    }
}

#[derive(Clone)]
struct Scraped {
    store: Store,
    handle: PrometheusHandle,
    idle_after: Duration,
}

/// `GET /metrics` alone.
pub fn routes(store: Store, idle_after: Duration) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(Scraped {
            store,
            handle: install(),
            idle_after,
        })
}

async fn metrics(State(scraped): State<Scraped>) -> Response {
    if let Err(e) = read_database_gauges(&scraped.store, scraped.idle_after).await {
        tracing::warn!(error = %e, "metrics: the database does not answer");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database does not answer\n",
        )
            .into_response();
    }
    scraped.handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scraped.handle.render(),
    )
        .into_response()
}

/// The gauges the database knows, as of now.
async fn read_database_gauges(store: &Store, idle_after: Duration) -> Result<(), StoreError> {
    for (status, n) in store.status_totals().await? {
        gauge!(names::SHIPMENTS, "status" => status.as_str()).set(n as f64);
    }
    let now = crate::store::now_millis();
    let queue = store.due_queue(now).await?;
    gauge!(names::QUEUE_DEPTH).set(queue.due as f64);
    let age = queue
        .oldest_due_at
        .map_or(0.0, |at| (now - at).max(0) as f64 / 1000.0);
    gauge!(names::OLDEST_DUE_AGE).set(age);
    let board = crate::health::board::status_board(store, idle_after, chrono::Utc::now()).await?;
    for account in &board.accounts {
        for api in &account.apis {
            for state in Health::ALL {
                gauge!(names::API_HEALTH,
                    "account" => account.account.clone(),
                    "api" => api.api.as_str(),
                    "state" => state.as_str())
                .set(if api.health == state { 1.0 } else { 0.0 });
            }
        }
    }
    Ok(())
}
