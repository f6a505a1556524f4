//! A real `shipback worker` process stopped with SIGTERM mid-batch: the calls on the
//! wire end and are recorded, the shipments it had not sent are given back at once (not
//! after the lease), it exits 0. Its `--health-bind` probes answer while it works.

use crate::common::{free_port, harness};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn sigterm_finishes_the_calls_on_the_wire_gives_back_the_rest_and_exits_0() {
    let h = harness().await;
    let mut batch = Vec::new();
    let mut orders = Vec::new();
    for n in 1..=60 {
        let (order, shipment) = h.order(n);
        orders.push(order);
        batch.push(shipment);
    }
    h.emulator.add_orders(orders);
    assert_eq!(h.post(&Value::Array(batch)).await.0, 200);
    // Slow answers keep calls on the wire when the signal lands.
    h.set_faults(json!({"latency_ms": 300})).await;

    let health = format!("127.0.0.1:{}", free_port());
    let log = std::env::temp_dir().join(format!("shipback-sigterm-{}.log", std::process::id()));
    let mut worker = Command::new(env!("CARGO_BIN_EXE_shipback"))
        .args(["worker", "--database-url", &h.database_url])
        .args(["--worker-name", "stopping", "--health-bind", &health])
        // A lease far longer than the test: a claim given back only by its lapse would
        // still be held when the test looks.
        .args([
            "--lease",
            "10m",
            "--attempt-timeout",
            "20s",
            "--batch-size",
            "60",
        ])
        .args([
            "--concurrency",
            "4",
            "--idle-poll",
            "20ms",
            "--shutdown-grace",
            "20s",
        ])
        .args(["--no-rate-limits", "--no-sync"])
        .env("SHIPBACK_SECRET_KEY", h.secret_key.to_base64())
        .env("SHIPBACK_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();

    // The probes answer, and the worker is ready once it has claimed.
    let deadline = Instant::now() + Duration::from_secs(60);
    let readiness = loop {
        if let Ok(answer) = h.http.get(format!("http://{health}/readyz")).send().await {
            if answer.status() == 200 {
                break answer.json::<Value>().await.unwrap();
            }
        }
        assert!(
            Instant::now() < deadline,
            "the worker never became ready; its log:\n{}",
            log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(readiness["ready"], true);
    let names: Vec<&str> = readiness["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["database", "worker"], "{readiness}");
    let alive = h
        .http
        .get(format!("http://{health}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), 200);

    while h.confirmations().await.len() < 4 {
        assert!(
            Instant::now() < deadline,
            "the worker made no progress; its log:\n{}",
            log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let signalled = Command::new("kill")
        .args(["-TERM", &worker.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());

    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = worker.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = worker.kill();
            panic!(
                "the worker did not exit after SIGTERM; its log:\n{}",
                log_text()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        log_text()
    );
    assert!(
        log_text().contains("write-back worker stopped"),
        "{}",
        log_text()
    );

    // Every call that reached the marketplace was recorded before the exit.
    let confirmed: std::collections::HashSet<String> = h
        .confirmations()
        .await
        .into_iter()
        .map(|c| c.order_id)
        .collect();
    let counts: std::collections::HashMap<_, _> =
        h.store.status_counts().await.unwrap().into_iter().collect();
    let success = counts
        .get(&app::shipments::WritebackStatus::Success)
        .copied()
        .unwrap_or(0);
    assert_eq!(success as usize, confirmed.len(), "{counts:?}");
    let left = h.open_count().await;
    assert!(left > 0, "the signal came too late to test anything");

    // What it had not sent is free at once: another worker takes all of it now.
    let now = shipback::store::now_millis();
    let taken = h
        .store
        .claim_due("next", now, now + 60_000, 1_000, 1_000)
        .await
        .unwrap();
    assert_eq!(
        taken.len() as u64,
        left,
        "claims still held by the stopped worker"
    );
    // The probes went with the process.
    assert!(h
        .http
        .get(format!("http://{health}/healthz"))
        .send()
        .await
        .is_err());
}
