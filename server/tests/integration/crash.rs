//! A worker process killed with SIGKILL mid-batch, then started again: every shipment
//! ends Success, none is lost, none is shipped under two package references.

use crate::common;

use common::harness;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A worker process, killed when dropped so that a failing test leaves none behind.
struct WorkerProcess {
    child: Child,
    log: std::path::PathBuf,
}

impl WorkerProcess {
    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn start_worker(
    database_url: &str,
    key: &shipback::secrets::SecretKey,
    name: &str,
) -> WorkerProcess {
    let log =
        std::env::temp_dir().join(format!("shipback-crash-{}-{name}.log", std::process::id()));
    let child = Command::new(env!("CARGO_BIN_EXE_shipback"))
        .args([
            "worker",
            "--database-url",
            database_url,
            "--worker-name",
            name,
        ])
        .args([
            "--lease",
            "3s",
            "--attempt-timeout",
            "1s",
            "--batch-size",
            "40",
        ])
        .args([
            "--concurrency",
            "4",
            "--idle-poll",
            "20ms",
            "--retry-base-delay",
            "50ms",
        ])
        // This test is about crashes, not pacing: the emulator's limits are off too.
        .arg("--no-rate-limits")
        // Debug, so that the logs can be searched for a credential that should not be there.
        .env("SHIPBACK_LOG", "debug")
        .env("SHIPBACK_SECRET_KEY", key.to_base64())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("worker log file"))
        .spawn()
        .expect("the shipback binary starts");
    WorkerProcess { child, log }
}

#[tokio::test]
async fn a_worker_killed_mid_batch_loses_nothing_and_ships_nothing_twice() {
    let h = harness().await;
    let mut batch = Vec::new();
    let mut orders = Vec::new();
    for n in 1..=120 {
        let (order, shipment) = h.order(n);
        orders.push(order);
        batch.push(shipment);
    }
    h.emulator.add_orders(orders);
    assert_eq!(h.post(&Value::Array(batch)).await.0, 200);
    // Slow answers keep calls in flight when the kill lands.
    h.set_faults(json!({"latency_ms": 40})).await;

    let mut first = start_worker(&h.database_url, &h.secret_key, "doomed");
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.confirmations().await.len() < 20 {
        assert!(
            Instant::now() < deadline,
            "the first worker made no progress; its log:\n{}",
            first.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill();
    let confirmed_before_kill = h.confirmations().await.len();
    assert!(
        confirmed_before_kill < 120,
        "the kill came too late to test anything"
    );

    let mut second = start_worker(&h.database_url, &h.secret_key, "survivor");
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.open_count().await > 0 {
        assert!(
            Instant::now() < deadline,
            "shipments still open after the restart; the worker's log:\n{}",
            second.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    second.kill();

    // Neither the marketplace credentials nor the key reached a log line.
    let logs = format!("{}{}", first.log(), second.log());
    assert!(logs.contains("DEBUG"), "the logs are at debug level");
    for secret in [
        format!("Atzr|test-{}", common::ACCOUNT),
        "client_secret=secret".to_string(),
        h.secret_key.to_base64(),
    ] {
        assert!(!logs.contains(&secret), "a log line holds a secret");
    }

    let counts: HashMap<_, _> = h.store.status_counts().await.unwrap().into_iter().collect();
    assert_eq!(
        counts.get(&app::shipments::WritebackStatus::Success),
        Some(&120),
        "{counts:?}"
    );

    let confirmations = h.confirmations().await;
    let mut packages: HashMap<String, HashSet<String>> = HashMap::new();
    for c in &confirmations {
        packages
            .entry(c.order_id.clone())
            .or_default()
            .insert(c.package_reference_id.clone());
    }
    assert_eq!(packages.len(), 120, "every order confirmed");
    assert!(
        packages.values().all(|refs| refs.len() == 1),
        "an order was shipped under two package references"
    );
    // A call in flight at the kill may be repeated under the same package reference
    // (Amazon treats it as the same package); anything more would be a double claim.
    let repeats = confirmations.len() - 120;
    assert!(
        repeats <= 4,
        "{repeats} repeated confirmations for 4 calls in flight"
    );
}
