//! Amazon's other APIs, against the emulator: the order import (Orders API 2026-01-01
//! searchOrders), the read-back of written-back orders (getOrder), SKU-only lines, the catalog
//! (getCatalogItem), and the faults each API can meet.

use crate::common;

use common::{harness, unpaced, Harness, ACCOUNT};
use serde_json::{json, Value};
use shipback::emulator::{NewOrder, NewOrderItem};
use shipback::marketplaces::ClientConfig;
use shipback::order_sync::OrderSyncError;
use std::time::Duration;

/// The seller the harness account's refresh token stands for.
const SELLER: &str = "test-acme-us";

fn seller_order(n: u32, seller: &str, days_ago: i64) -> NewOrder {
    NewOrder {
        marketplace: "amazon".into(),
        order_id: format!("114-{n:07}-{:07}", n * 3),
        marketplace_id: "ATVPDKIKX0DER".into(),
        seller: seller.into(),
        purchase_date: Some(
            chrono::Utc::now() - chrono::Duration::days(days_ago)
                + chrono::Duration::seconds(i64::from(n)),
        ),
        ship_by: None,
        status: None,
        items: vec![NewOrderItem {
            order_item_id: format!("{n}01"),
            sku: format!("SKU-{}", n % 7),
            quantity: 1,
            item_number: None,
            title: Some(format!("Widget {}", n % 7)),
        }],
    }
}

async fn calls_of(h: &Harness, api: &str) -> Vec<Value> {
    h.emulator_get("/_emulator/calls").await["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["api"] == api)
        .cloned()
        .collect()
}

async fn post_order(h: &Harness, n: u32) {
    let (order, shipment) = h.order(n);
    h.emulator.add_orders(vec![order]);
    let (status, body) = h.post(&shipment).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn orders_are_imported_page_by_page_with_their_lines() {
    let h = harness().await;
    h.emulator
        .add_orders((0..250).map(|n| seller_order(n, SELLER, 1)).collect());
    // Another seller's order and one older than the first import's reach stay out.
    h.emulator.add_orders(vec![
        seller_order(900, "someone-else", 1),
        seller_order(901, SELLER, 30),
    ]);
    let account = h.account(ACCOUNT).await;
    let sync = h.sync();

    let report = sync.sync_account(&account, true).await.unwrap();
    assert_eq!(report.orders_imported, 250);
    assert_eq!(
        calls_of(&h, "amazon.searchOrders").await.len(),
        3,
        "100 a page"
    );
    assert!(
        calls_of(&h, "amazon.getOrders").await.is_empty(),
        "no v0 read"
    );
    // Each order came with its lines.
    let ids = h
        .store
        .order_item_ids_by_sku(account.id, "114-0000249-0000747")
        .await
        .unwrap();
    assert_eq!(ids.get("SKU-4").map(String::as_str), Some("24901"));

    // The next import starts where this one was complete: nothing new.
    let again = sync.sync_account(&account, true).await.unwrap();
    assert_eq!(again.orders_imported, 0);
    assert!(h.store.import_cursor(account.id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_written_back_order_is_read_back_as_shipped() {
    let h = harness().await;
    post_order(&h, 1).await;
    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;
    assert_eq!(h.detail("S-1").await["marketplace_order"], Value::Null);

    let account = h.account(ACCOUNT).await;
    let sync = h.sync();
    let report = sync.sync_account(&account, false).await.unwrap();
    assert_eq!(report.orders_checked, 1);
    let detail = h.detail("S-1").await;
    let order = &detail["marketplace_order"];
    assert_eq!(order["status"], "SHIPPED", "{order}");
    assert_eq!(order["shipped"], true);
    // The package Amazon holds is the one sent: its reference, carrier and tracking.
    let package = &order["packages"][0];
    assert_eq!(package["reference_id"], detail["package_reference_id"]);
    assert_eq!(package["tracking_number"], detail["tracking_number"]);
    assert_eq!(package["carrier"], "UPS");
    assert!(order["ship_by"].is_string(), "{order}");
    let call = &calls_of(&h, "amazon.getOrder").await[0];
    assert_eq!(call["status"], 200);

    // Seen shipped: not read again.
    let report = sync.sync_account(&account, false).await.unwrap();
    assert_eq!(report.orders_checked, 0);
}

#[tokio::test]
async fn lines_sent_by_sku_get_their_order_item_ids_from_the_order() {
    let h = harness().await;
    let (order, mut shipment) = h.order(5);
    h.emulator.add_orders(vec![order]);
    shipment["items"] = json!([{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}]);
    assert_eq!(h.post(&shipment).await.0, 200);
    let (order, mut unknown) = h.order(6);
    h.emulator.add_orders(vec![order]);
    unknown["items"] = json!([{"sku": "SKU-NOPE", "quantity": 1}]);
    assert_eq!(h.post(&unknown).await.0, 200);

    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;

    let confirmation = &h.confirmations().await[0];
    assert_eq!(
        confirmation.body["packageDetail"]["orderItems"],
        json!([{"orderItemId": "501", "quantity": 2}, {"orderItemId": "502", "quantity": 1}])
    );
    let detail = h.detail("S-5").await;
    assert_eq!(detail["status"], "success");
    assert_eq!(detail["items"][0]["order_item_id"], "501");
    assert_eq!(detail["items"][0]["sku"], "SKU-A");

    let failed = h.detail("S-6").await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["attempts"][0]["error_code"], "UnknownSku");
    assert!(failed["last_error"]
        .as_str()
        .unwrap()
        .contains("SKU 'SKU-NOPE' is not a line of order"));
}

#[tokio::test]
async fn catalog_data_is_fetched_and_shown_in_the_detail() {
    let h = harness().await;
    post_order(&h, 7).await;
    let account = h.account(ACCOUNT).await;
    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;
    // The read-back imports the order with its lines; the catalog data follows.
    let sync = h.sync();
    let report = sync.sync_account(&account, false).await.unwrap();
    assert_eq!(report.catalog_items_fetched, 2, "{report:?}");

    let detail = h.detail("S-7").await;
    let item = &detail["items"][0];
    assert_eq!(item["title"], "Item SKU-A");
    assert!(item["item_number"].as_str().unwrap().starts_with("B0"));
    assert!(
        item["weight"].as_str().unwrap().ends_with(" pounds"),
        "{item}"
    );
    let image = item["image_url"].as_str().unwrap();
    let picture = h.http.get(image).send().await.unwrap();
    assert_eq!(picture.status(), 200);
    assert_eq!(picture.headers()["content-type"], "image/svg+xml");

    // Fresh data is not fetched again before the refresh interval.
    let report = sync.sync_account(&account, false).await.unwrap();
    assert_eq!(report.catalog_items_fetched, 0);
}

#[tokio::test]
async fn a_fault_hits_only_the_api_and_seller_it_names() {
    let h = harness().await;
    h.set_faults(
        json!([{"marketplace": "amazon", "api": "orders", "seller": SELLER, "outage": true}]),
    )
    .await;
    h.emulator.add_orders(vec![seller_order(1, SELLER, 1)]);
    let account = h.account(ACCOUNT).await;
    match h.sync().sync_account(&account, true).await {
        Err(OrderSyncError::Api { failure, .. }) => {
            assert_eq!(failure.http_status, Some(503));
            assert_eq!(failure.code, "ServiceUnavailable");
            assert!(failure.retryable);
        }
        other => panic!("expected the Orders API outage, got {other:?}"),
    }
    // Write-backs of the same seller go through.
    post_order(&h, 2).await;
    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;
    assert_eq!(h.detail("S-2").await["status"], "success");
}

#[tokio::test]
async fn an_expired_token_is_refreshed_within_one_attempt() {
    let h = harness().await;
    let worker = h.worker("w1");
    post_order(&h, 1).await;
    h.drain(&worker, Duration::from_secs(10)).await;
    h.set_faults(json!({"expired_token": true})).await;
    post_order(&h, 2).await;
    h.drain(&worker, Duration::from_secs(10)).await;

    let detail = h.detail("S-2").await;
    assert_eq!(detail["status"], "success");
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 1);
    let statuses: Vec<u64> = calls_of(&h, "amazon.confirmShipment")
        .await
        .iter()
        .map(|c| c["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![204, 403, 204]);
}

#[tokio::test]
async fn dropped_connections_malformed_answers_and_timeouts_are_retried() {
    let h = harness().await;
    let client = ClientConfig {
        request_timeout: Duration::from_millis(400),
        ..unpaced()
    };
    let worker = h.worker_with("w1", &client);
    let cases = [
        (
            json!({"api": "writeback", "connection_reset": true}),
            "NetworkError",
        ),
        (json!({"api": "writeback", "timeout": true}), "Timeout"),
        (
            json!({"api": "writeback", "forced_status": 500}),
            "InternalFailure",
        ),
    ];
    for (n, (fault, code)) in cases.iter().enumerate() {
        h.set_faults(fault.clone()).await;
        let id = format!("S-{}", 10 + n);
        post_order(&h, 10 + n as u32).await;
        worker.run_batch().await.unwrap();
        // The marketplace's trouble, not the shipment's: no attempt is spent, the
        // account's write-back waits, and the grid says on what.
        let detail = h.detail(&id).await;
        assert_eq!(detail["status"], "pending", "{fault}: {detail}");
        assert_eq!(detail["error_count"], 0, "{fault}");
        assert_eq!(detail["attempts"][0]["error_code"], *code, "{fault}");
        let reason = detail["last_error"].as_str().unwrap();
        assert!(
            reason.starts_with("Waiting: Amazon Writeback for acme-us"),
            "{reason}"
        );
        // Once it answers again, the probe goes through and the queue resumes; an
        // answer that never came is read back first.
        h.set_faults(json!({})).await;
        h.drain(&worker, Duration::from_secs(10)).await;
        assert_eq!(h.detail(&id).await["status"], "success", "{fault}");
    }
    // A searchOrders answer that is not JSON is a retryable failure of the Orders API.
    h.set_faults(json!({"api": "orders", "malformed": true}))
        .await;
    let account = h.account(ACCOUNT).await;
    match h.sync().sync_account(&account, true).await {
        Err(OrderSyncError::Api { failure, .. }) => {
            assert_eq!(failure.code, "MalformedResponse");
            assert!(failure.retryable);
        }
        other => panic!("expected a malformed answer, got {other:?}"),
    }
    // Each was written back exactly once.
    let confirmed: Vec<String> = h
        .confirmations()
        .await
        .iter()
        .map(|c| c.order_id.clone())
        .collect();
    assert_eq!(confirmed.len(), 3, "{confirmed:?}");
}
