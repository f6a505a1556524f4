//! `GET /metrics` on its own address: every metric the Grafana dashboard
//! (`docs/grafana/shipback.json`) plots is exported, and the database's figures are
//! this database's. The metrics recorder is global to the test process, so counters
//! are checked as lower bounds; the gauges read from the database at the scrape are
//! exact.

use crate::common::harness;
use serde_json::{json, Value};
use shipback::runtime::Shutdown;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// Every `shipback_…` name the dashboard's queries use.
fn dashboard_metrics() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/grafana/shipback.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut names = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(at) = rest.find("shipback_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                rest = &rest[at + name.len()..];
                names.insert(name);
            }
        }
    }
    names
}

/// Each sample of the scrape: `name{labels}` → value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

fn value(samples: &HashMap<String, f64>, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(series, _)| {
            series.split('{').next() == Some(name)
                && labels
                    .iter()
                    .all(|(k, v)| series.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, v)| *v)
}

#[tokio::test]
async fn every_metric_the_dashboard_plots_is_exported_with_this_databases_figures() {
    let h = harness().await;
    let (_stop, shutdown) = Shutdown::manual();
    let addr = shipback::runtime::start_metrics(
        &h.store,
        "127.0.0.1:0".parse().unwrap(),
        Duration::from_secs(600),
        shutdown,
    )
    .await
    .unwrap();

    let mut batch = Vec::new();
    let mut orders = Vec::new();
    for n in 1..=5 {
        let (order, shipment) = h.order(n);
        orders.push(order);
        batch.push(shipment);
    }
    h.emulator.add_orders(orders);
    assert_eq!(h.post(&Value::Array(batch)).await.0, 200);
    assert_eq!(h.post(&json!([{"shipment_id": ""}])).await.0, 422);
    // The worker as production starts it: the monitor judges its calls.
    let (_stop_worker, worker_shutdown) = Shutdown::manual();
    let _worker = shipback::runtime::start_worker(
        &h.store,
        shipback::runtime::WorkerSettings {
            worker: crate::common::fast_config("measured"),
            clients: crate::common::unpaced(),
            sync: None,
            health: shipback::health::HealthConfig {
                judge_every: Duration::from_millis(20),
                ..Default::default()
            },
            deadline_check_every: Duration::from_secs(60),
            retention: None,
        },
        std::sync::Arc::new(tokio::sync::Notify::new()),
        worker_shutdown,
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let board = shipback::health::board::status_board(
            &h.store,
            Duration::from_secs(600),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let writeback_green = board.accounts.iter().any(|a| {
            a.apis
                .iter()
                .any(|api| api.api.as_str() == "writeback" && api.health.as_str() == "green")
        });
        if writeback_green && h.open_count().await == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not written back and judged Green"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A page's event stream, open while the scrape happens.
    let (feed, _bump) = shipback::live::Feed::new();
    let stream = feed.events("status");

    let scrape = h
        .http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    assert!(scrape.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = scrape.text().await.unwrap();
    drop(stream);
    let exported: BTreeSet<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let wanted = dashboard_metrics();
    assert!(wanted.len() >= 10, "{wanted:?}");
    for name in &wanted {
        assert!(
            exported.contains(name.as_str()),
            "{name} is on the dashboard but not exported:\n{text}"
        );
    }

    let samples = samples(&text);
    let account = crate::common::ACCOUNT;
    // The database's figures: exact.
    assert_eq!(
        value(&samples, "shipback_shipments", &[("status", "success")]),
        Some(5.0)
    );
    assert_eq!(
        value(&samples, "shipback_shipments", &[("status", "failed")]),
        Some(0.0)
    );
    assert_eq!(value(&samples, "shipback_queue_due", &[]), Some(0.0));
    assert_eq!(
        value(
            &samples,
            "shipback_api_health",
            &[
                ("account", account),
                ("api", "writeback"),
                ("state", "green")
            ]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &samples,
            "shipback_api_health",
            &[("account", account), ("api", "writeback"), ("state", "red")]
        ),
        Some(0.0)
    );
    // This process's counts: at least this test's.
    let at_least = |name: &str, labels: &[(&str, &str)], n: f64| {
        let got = value(&samples, name, labels).unwrap_or(0.0);
        assert!(got >= n, "{name}{labels:?} = {got}, expected at least {n}");
    };
    at_least(
        "shipback_writeback_attempts_total",
        &[
            ("account", account),
            ("api", "writeback"),
            ("outcome", "success"),
        ],
        5.0,
    );
    at_least(
        "shipback_writeback_attempt_duration_seconds_count",
        &[("account", account)],
        5.0,
    );
    at_least(
        "shipback_ingest_requests_total",
        &[("outcome", "accepted")],
        1.0,
    );
    at_least(
        "shipback_ingest_requests_total",
        &[("outcome", "refused")],
        1.0,
    );
    at_least("shipback_ingest_rows_total", &[("outcome", "created")], 5.0);
    at_least("shipback_sse_clients", &[("stream", "status")], 1.0);

    // Never beside the dashboard (which answers with its sign-in page or a 404).
    let public = h
        .http
        .get(format!("{}/metrics", h.api_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!public.contains("# TYPE"), "{public}");
}
