//! `shipback backup` of a live SQLite database while the worker writes, `shipback
//! restore` into a fresh folder, and a server started on it showing the same rows. On
//! PostgreSQL, the documented path: `pg_dump` and `pg_restore` into a new database.

use crate::common::database::{on_postgres, TestDatabase};
use crate::common::{harness, run_shipback, Harness};
use app::query::ShipmentQuery;
use app::shipments::WritebackStatus;
use serde_json::{json, Value};
use shipback::runtime::{self, Shutdown, WebSettings};
use shipback::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every shipment the store lists, as (id, status, errors), in id order.
async fn rows(store: &Store) -> Vec<(String, WritebackStatus, u32)> {
    let page = store
        .list_shipments(&ShipmentQuery {
            limit: 1_000,
            ..ShipmentQuery::default()
        })
        .await
        .unwrap();
    let mut rows: Vec<_> = page
        .items
        .into_iter()
        .map(|r| (r.shipment_id, r.status, r.error_count))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// `shipback backup --out FILE --database-url URL`: exit status, stdout, stderr.
async fn backup(out: &str, url: &str) -> (bool, String, String) {
    run_shipback(&["backup", "--out", out, "--database-url", url], &[], "").await
}

/// `shipback restore --from FILE --database-url URL`: exit status, stdout, stderr.
async fn restore(from: &str, url: &str) -> (bool, String, String) {
    run_shipback(&["restore", "--from", from, "--database-url", url], &[], "").await
}

async fn post_shipments(h: &Harness, count: u32) {
    let mut batch = Vec::new();
    let mut orders = Vec::new();
    for n in 1..=count {
        let (order, shipment) = h.order(n);
        orders.push(order);
        batch.push(shipment);
    }
    h.emulator.add_orders(orders);
    assert_eq!(h.post(&Value::Array(batch)).await.0, 200);
}

#[tokio::test]
async fn a_backup_taken_while_the_worker_writes_restores_into_a_working_installation() {
    if on_postgres() {
        return pg_dump_and_pg_restore_keep_every_row().await;
    }
    let h = harness().await;
    post_shipments(&h, 150).await;
    // Slow answers (150 shipments, 16 calls at a time: about 2 s in all), so that the
    // outage below starts while most shipments are still open.
    h.set_faults(json!({"latency_ms": 200})).await;
    let (stop, shutdown) = Shutdown::manual();
    let worker = tokio::spawn(h.worker("writing").run(shutdown));
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.confirmations().await.len() < 10 {
        assert!(Instant::now() < deadline, "the worker made no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The marketplace goes down: the rest wait on the paused API while the worker goes
    // on writing (its pauses, its probes), however long the backup takes to start.
    h.set_faults(json!({"api": "writeback", "seller": "test-acme-us", "outage": true}))
        .await;

    let backups = tempfile::tempdir().unwrap();
    let during = backups.path().join("during.db");
    let during_path = during.to_str().unwrap();
    let (ok, out, err) = backup(during_path, &h.database_url).await;
    assert!(ok, "backup failed: {err}");
    assert!(out.contains("150 shipments"), "{out}");
    assert!(
        h.open_count().await > 0,
        "the backup came too late to test anything"
    );

    // The copy taken mid-run is one moment of the database: whole, counters exact.
    let restored = tempfile::tempdir().unwrap();
    let restored_url = format!("sqlite://{}/data/shipback.db", restored.path().display());
    let (ok, out, err) = restore(during_path, &restored_url).await;
    assert!(ok, "restore failed: {err}");
    assert!(out.contains("150 shipments"), "{out}");
    assert!(
        out.contains("secret.key"),
        "the restore says where the key goes: {out}"
    );
    let copy = Store::open(&restored_url).await.unwrap();
    assert_eq!(rows(&copy).await.len(), 150);
    crate::common::counters_match_rows(&copy).await;
    copy.close().await;

    // Neither overwrites anything.
    let (ok, _, err) = backup(during_path, &h.database_url).await;
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = restore(during_path, &restored_url).await;
    assert!(!ok && err.contains("already exists"), "{err}");
    let not_a_backup = backups.path().join("notes.txt");
    std::fs::write(&not_a_backup, "not a database").unwrap();
    let elsewhere = format!("sqlite://{}/other/shipback.db", restored.path().display());
    let (ok, _, err) = restore(not_a_backup.to_str().unwrap(), &elsewhere).await;
    assert!(!ok && err.contains("is not a Shipback backup"), "{err}");
    assert!(!restored.path().join("other/shipback.db").exists());

    // Once the marketplace is back and the worker done: back up, restore, start a
    // server on the copy with the installation's key; its API lists the same rows.
    h.set_faults(json!({})).await;
    while h.open_count().await > 0 {
        assert!(Instant::now() < deadline, "shipments still open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.fire();
    worker.await.unwrap();
    let after = backups.path().join("after.db");
    let copy_url = format!("sqlite://{}/after/shipback.db", restored.path().display());
    let (ok, _, err) = backup(after.to_str().unwrap(), &h.database_url).await;
    assert!(ok, "{err}");
    let (ok, _, err) = restore(after.to_str().unwrap(), &copy_url).await;
    assert!(ok, "{err}");
    let copy = Store::open(&copy_url)
        .await
        .unwrap()
        .with_keyring(shipback::secrets::Keyring::new(h.secret_key.clone()));
    let (stop_web, web_shutdown) = Shutdown::manual();
    let web = runtime::start_web(
        &copy,
        &WebSettings {
            bind: "127.0.0.1:0".parse().unwrap(),
            site_root: restored.path().join("site").display().to_string(),
            sessions: Default::default(),
            health_idle_after: Duration::from_secs(600),
            site_time: Default::default(),
        },
        Arc::new(tokio::sync::Notify::new()),
        None,
        web_shutdown,
    )
    .await
    .unwrap();
    let listed = |base: String, client: reqwest::Client| async move {
        let page: Value = client
            .get(format!("{base}/api/v1/shipments?limit=500&sort=order_id"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page
    };
    let original = listed(h.api_url.clone(), h.http.clone()).await;
    // The station's token came along with everything else.
    let restored_page = listed(web.url(), h.http.clone()).await;
    assert_eq!(original["total"], 150);
    assert_eq!(original["items"], restored_page["items"]);
    // The credentials open with the installation's key: the accounts are usable.
    assert!(copy
        .accounts()
        .await
        .unwrap()
        .iter()
        .all(|a| a.unusable.is_none()));
    stop_web.fire();
}

/// PostgreSQL's own tools, as docs/operations.md#backups gives them.
async fn pg_dump_and_pg_restore_keep_every_row() {
    let h = harness().await;
    post_shipments(&h, 40).await;
    let worker = h.worker("writing");
    h.drain(&worker, Duration::from_secs(60)).await;

    let (ok, _, err) = backup("/tmp/never-written.db", &h.database_url).await;
    assert!(!ok && err.contains("pg_dump"), "{err}");

    let dump = tempfile::tempdir().unwrap();
    let file = dump.path().join("shipback.dump");
    let dumped = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&file)
        .arg(&h.database_url)
        .status();
    let Ok(dumped) = dumped else {
        eprintln!("SKIPPED the pg_dump restore check: pg_dump is not installed");
        return;
    };
    assert!(dumped.success());
    let target = TestDatabase::new().await;
    let restored = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &target.url])
        .arg(&file)
        .status()
        .unwrap();
    assert!(restored.success());
    let copy = Store::open(&target.url).await.unwrap();
    assert_eq!(rows(&copy).await, rows(&h.store).await);
    assert_eq!(rows(&copy).await.len(), 40);
    crate::common::counters_match_rows(&copy).await;
    copy.close().await;
}
