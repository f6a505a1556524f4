//! Retention: `shipback prune` deletes finished shipments past `--keep-shipments`
//! with their attempts, never an open one, keeps the audit log unless asked, and the
//! grid's counters stay exact; the worker's pass does the same on its own.

use crate::common::database::{execute, scalar_text};
use crate::common::{counters_match_rows, harness, run_shipback};
use serde_json::Value;
use shipback::retention::RetentionPolicy;
use shipback::runtime::Shutdown;
use std::time::{Duration, Instant};

async fn count(url: &str, sql: &str) -> i64 {
    scalar_text(url, &format!("SELECT CAST(({sql}) AS TEXT)"))
        .await
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn finished_shipments_past_retention_go_with_their_attempts_and_counters_stay_exact() {
    let h = harness().await;
    let url = h.database_url.clone();
    let mut orders = Vec::new();
    let mut done = Vec::new();
    for n in 1..=10 {
        let (order, shipment) = h.order(n);
        orders.push(order);
        done.push(shipment);
    }
    h.emulator.add_orders(orders);
    assert_eq!(h.post(&Value::Array(done)).await.0, 200);
    h.drain(&h.worker("retention"), Duration::from_secs(30))
        .await;
    let mut open = Vec::new();
    for n in 11..=13 {
        open.push(h.order(n).1);
    }
    assert_eq!(h.post(&Value::Array(open)).await.0, 200);

    // S-1…S-6 finished long ago; S-11 is still open, however old.
    execute(
        &url,
        "UPDATE shipments SET updated_at = 1000
          WHERE shipment_id IN ('S-1', 'S-2', 'S-3', 'S-4', 'S-5', 'S-6', 'S-11')",
    )
    .await;
    execute(
        &url,
        "INSERT INTO audit_log (at, actor, role, action, target, detail, address)
         VALUES (1000, 'old', 'admin', 'test', 't', 'long ago', '')",
    )
    .await;
    let audit_before = count(&url, "SELECT COUNT(*) FROM audit_log").await;
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM writeback_attempts").await,
        10
    );

    let key = h.secret_key.to_base64();
    let envs = [("SHIPBACK_SECRET_KEY", key.as_str())];
    let (ok, out, err) = run_shipback(&["prune", "--database-url", &url], &envs, "").await;
    assert!(ok, "{err}");
    assert!(
        out.contains("deleted 6 shipments (with their attempts) and 0 audit entries"),
        "{out}"
    );
    assert!(
        out.contains("longest"),
        "the batch times are printed: {out}"
    );
    let left: Vec<String> = {
        let rows = h
            .store
            .list_shipments(&app::query::ShipmentQuery {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut ids: Vec<String> = rows.items.into_iter().map(|r| r.shipment_id).collect();
        ids.sort();
        ids
    };
    assert_eq!(
        left,
        ["S-10", "S-11", "S-12", "S-13", "S-7", "S-8", "S-9"],
        "the old finished ones went, the open one stayed"
    );
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM writeback_attempts").await,
        4
    );
    assert_eq!(
        count(
            &url,
            "SELECT COUNT(*) FROM writeback_attempts
              WHERE shipment_row NOT IN (SELECT id FROM shipments)"
        )
        .await,
        0
    );
    counters_match_rows(&h.store).await;
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM audit_log").await,
        audit_before,
        "the audit log is kept unless asked"
    );

    let (ok, out, err) = run_shipback(
        &["prune", "--keep-audit", "30d", "--database-url", &url],
        &envs,
        "",
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("0 shipments (with their attempts) and 1 audit entries"),
        "{out}"
    );
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM audit_log").await,
        audit_before - 1
    );

    // The worker's own pass, every few milliseconds here.
    execute(
        &url,
        "UPDATE shipments SET updated_at = 1000 WHERE shipment_id = 'S-7'",
    )
    .await;
    let (stop, shutdown) = Shutdown::manual();
    let pass = tokio::spawn(shipback::retention::run(
        h.store.clone(),
        RetentionPolicy::default(),
        Duration::from_millis(20),
        shutdown,
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(
        &url,
        "SELECT COUNT(*) FROM shipments WHERE shipment_id = 'S-7'",
    )
    .await
        > 0
    {
        assert!(
            Instant::now() < deadline,
            "the worker's pass never deleted S-7"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.fire();
    pass.await.unwrap();
    counters_match_rows(&h.store).await;
}
