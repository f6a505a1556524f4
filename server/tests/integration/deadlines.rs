//! Deadlines end to end: each shipment takes its order's ship-by date from the order
//! import (whether the shipment came before or after it), the API and the CSV filter
//! and sort by it, late confirmations are marked, the status carries the at-risk counts,
//! and the `deadline_at_risk` webhook announces each shipment and threshold once, also
//! with two workers watching.

use crate::common;
use crate::health::webhook_receiver;

use chrono::{DateTime, Duration as Span, SubsecRound, Utc};
use common::{harness, Harness, ACCOUNT};
use serde_json::{json, Value};
use shipback::deadlines::{watch, DeadlineWatch};
use shipback::emulator::NewOrder;
use shipback::health::webhook::WebhookConfig;
use shipback::records::orders::{MarketplaceOrder, ShipByWindow};
use shipback::runtime::Shutdown;
use std::time::{Duration, Instant};

/// The order of shipment `S-n`, due at `ship_by`, bought a day before now; the
/// shipment left an hour ago.
fn order_due(h: &Harness, n: u32, ship_by: DateTime<Utc>) -> (NewOrder, Value) {
    let (mut order, mut shipment) = h.order(n);
    let now = Utc::now().trunc_subsecs(0);
    order.purchase_date = Some(now - Span::days(1));
    order.ship_by = Some(ship_by);
    shipment["ship_date"] = json!(now - Span::hours(1));
    (order, shipment)
}

async fn ids(h: &Harness, query: &str) -> Vec<String> {
    let (status, page) = h.get(&format!("/api/v1/shipments?{query}")).await;
    assert_eq!(status, 200, "{query}: {page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["shipment_id"].as_str().unwrap().to_string())
        .collect()
}

async fn import(h: &Harness) {
    let account = h.account(ACCOUNT).await;
    h.sync().sync_account(&account, true).await.unwrap();
}

/// S-1 due in 2 h, S-2 late by 3 h, S-3 due in 3 days (posted after the import), S-4
/// without an order the marketplace knows, S-5 confirmed on time, S-6 confirmed an hour
/// after its deadline. S-1 to S-3 fail at the marketplace, so stay unconfirmed.
async fn six_shipments(h: &Harness) {
    let now = Utc::now().trunc_subsecs(0);
    let due = [
        (1, now + Span::hours(2)),
        (2, now - Span::hours(3)),
        (3, now + Span::days(3)),
        (5, now + Span::hours(5)),
        (6, now - Span::hours(1)),
    ];
    let mut shipments = std::collections::HashMap::new();
    for (n, ship_by) in due {
        let (order, shipment) = order_due(h, n, ship_by);
        h.emulator.add_orders(vec![order]);
        shipments.insert(n, shipment);
    }
    // S-5 and S-6 are written back before anything is imported: the import then gives
    // them their deadlines.
    for n in [5, 6] {
        assert_eq!(h.post(&shipments[&n]).await.0, 200);
    }
    h.drain(&h.worker("confirming"), Duration::from_secs(10))
        .await;
    h.set_faults(json!({"api": "writeback", "forced_status": 400}))
        .await;
    for n in [1, 2] {
        assert_eq!(h.post(&shipments[&n]).await.0, 200);
    }
    import(h).await;
    // S-3 arrives after its order was imported: it carries the deadline at once.
    assert_eq!(h.post(&shipments[&3]).await.0, 200);
    let (_, mut unknown) = h.order(4);
    unknown["order_id"] = json!("113-9999999-9999999");
    assert_eq!(h.post(&unknown).await.0, 200);
    h.drain(&h.worker("failing"), Duration::from_secs(10)).await;
}

#[tokio::test]
async fn the_api_and_the_csv_filter_and_sort_by_deadline() {
    let h = harness().await;
    six_shipments(&h).await;

    assert_eq!(ids(&h, "deadline=due").await, ["S-1"]);
    assert_eq!(ids(&h, "deadline=late").await, ["S-2"]);
    assert_eq!(ids(&h, "deadline=none").await, ["S-4"]);
    assert_eq!(ids(&h, "deadline=confirmed_late").await, ["S-6"]);
    let (_, both) = h.get("/api/v1/shipments?deadline=due,late").await;
    assert_eq!(both["total"], 2);
    // Filters combine with the others by "and".
    assert!(ids(&h, "deadline=late&status=success").await.is_empty());
    assert_eq!(
        ids(&h, "sort=ship_by").await,
        ["S-2", "S-6", "S-1", "S-5", "S-3", "S-4"]
    );
    assert_eq!(
        ids(&h, "sort=-ship_by&limit=2").await,
        ["S-4", "S-3"],
        "no deadline comes first going down"
    );
    // The keyset pages through the deadlines as through any column.
    let (_, first) = h.get("/api/v1/shipments?sort=ship_by&limit=4").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    assert_eq!(
        ids(&h, &format!("sort=ship_by&limit=4&cursor={cursor}")).await,
        ["S-3", "S-4"]
    );
    let (status, refused) = h.get("/api/v1/shipments?deadline=soonish").await;
    assert_eq!(status, 400);
    assert!(refused.to_string().contains("deadline"), "{refused}");

    // Each row carries its deadline and when it was confirmed.
    let detail = h.detail("S-6").await;
    assert!(detail["ship_by"].is_string(), "{detail}");
    let confirmed: DateTime<Utc> = detail["confirmed_at"].as_str().unwrap().parse().unwrap();
    let ship_by: DateTime<Utc> = detail["ship_by"].as_str().unwrap().parse().unwrap();
    assert!(confirmed > ship_by);
    assert!(h.detail("S-4").await["ship_by"].is_null());
    assert!(h.detail("S-1").await["confirmed_at"].is_null());

    // The CSV lists the same, with the deadline's words.
    let csv = h
        .http
        .get(format!(
            "{}/api/v1/shipments/export.csv?deadline=late,confirmed_late&sort=ship_by",
            h.api_url
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].ends_with(",Ship by,Confirmed,Deadline"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].starts_with("S-2,") && lines[1].contains(",Late by 3 h"),
        "{csv}"
    );
    assert!(
        lines[2].starts_with("S-6,") && lines[2].contains(",Confirmed late (1 h"),
        "{csv}"
    );

    // The status carries what is at risk, per account.
    let (_, board) = h.get("/api/v1/status").await;
    let acme = board["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == ACCOUNT)
        .unwrap();
    assert_eq!(acme["deadlines"], json!({"due_soon": 1, "late": 1}));
    assert_eq!(board["deadline_warning_minutes"], 24 * 60);
}

/// Two workers watch for deadlines at once: each shipment and threshold is announced
/// exactly once, confirmed shipments never, and a shipment that later turns late is
/// announced again for that.
#[tokio::test]
async fn the_deadline_webhook_announces_each_shipment_and_threshold_once() {
    let h = harness().await;
    six_shipments(&h).await;
    let (url, messages, _) = webhook_receiver().await;
    let webhook = WebhookConfig {
        url,
        attempts: 3,
        first_retry: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
    };
    let (stop, shutdown) = Shutdown::manual();
    for _ in 0..2 {
        let settings = DeadlineWatch {
            check_every: Duration::from_millis(20),
            webhook: webhook.clone(),
        };
        tokio::spawn(watch(h.store.clone(), settings, shutdown.clone()));
    }
    let heard = |count: usize| {
        let messages = messages.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let seen = messages.lock().unwrap().clone();
                if seen.len() >= count {
                    return seen;
                }
                assert!(Instant::now() < deadline, "heard only {seen:?}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    let seen = heard(2).await;
    let mut announced: Vec<(String, String)> = seen
        .iter()
        .map(|m| {
            assert_eq!(m["event"], "deadline_at_risk");
            assert_eq!(m["account"], ACCOUNT);
            (
                m["shipment_id"].as_str().unwrap().to_string(),
                m["threshold"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    announced.sort();
    assert_eq!(
        announced,
        [
            ("S-1".to_string(), "due_soon".to_string()),
            ("S-2".to_string(), "late".to_string())
        ]
    );
    let late = seen.iter().find(|m| m["shipment_id"] == "S-2").unwrap();
    assert!(late["minutes_left"].as_i64().unwrap() <= -179, "{late}");

    // S-1's deadline moves into the past (the next import brings the marketplace's
    // changed order): it is announced again, as late, once.
    let now = Utc::now();
    let changed = MarketplaceOrder {
        order_id: h.order(1).0.order_id,
        status: "Unshipped".into(),
        shipped: false,
        purchase_date: Some(now - Span::days(1)),
        last_updated: now,
        items: None,
        ship_by: Some(ShipByWindow {
            earliest: None,
            latest: now - Span::minutes(5),
        }),
        packages: Vec::new(),
    };
    let account = h.account(ACCOUNT).await;
    h.store.save_orders(account.id, &[changed]).await.unwrap();
    let seen = heard(3).await;
    assert_eq!(seen[2]["shipment_id"], "S-1");
    assert_eq!(seen[2]["threshold"], "late");
    // The watchers look several more times; nobody announces anything twice.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(messages.lock().unwrap().len(), 3);
    stop.fire();
}
