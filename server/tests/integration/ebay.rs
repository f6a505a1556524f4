//! eBay end to end: station API -> SQLite -> worker -> eBay client -> emulator, and the
//! order import (GetOrders) straight through the adapter.

use crate::common;

use common::{harness, unpaced, Harness};
use serde_json::{json, Value};
use shipback::accounts::{Account, Credentials, MarketplaceKind, NewAccount};
use shipback::emulator::{NewOrder, NewOrderItem};
use shipback::marketplaces::{ClientConfig, MarketplaceAdapter, Marketplaces};
use std::sync::Arc;
use std::time::Duration;

const SELLER: &str = "gadget-ebay";

pub async fn add_ebay_account(h: &Harness, key: &str, writeback_api: &str) -> Account {
    h.store
        .upsert_account(&NewAccount {
            key: key.into(),
            marketplace: MarketplaceKind::Ebay,
            display_name: format!("{key} store"),
            company: "Gadget Ltd".into(),
            enabled: true,
            marketplace_id: "0".into(),
            region: "us".into(),
            api_base_url: h.emulator_url.clone(),
            auth_base_url: h.emulator_url.clone(),
            credentials: Credentials {
                client_id: "Gadget-Shipback-PRD-0123456789".into(),
                client_secret: "PRD-secret".into(),
                refresh_token: format!("v^1.1#i^1#r^1#{SELLER}").into(),
            },
            writeback_api: writeback_api.into(),
        })
        .await
        .unwrap()
}

fn order_id(n: u32) -> String {
    format!("12-{:05}-{:05}", n, n * 7 % 100_000)
}

pub fn ebay_order(n: u32) -> NewOrder {
    NewOrder {
        marketplace: "ebay".into(),
        order_id: order_id(n),
        marketplace_id: "0".into(),
        seller: SELLER.into(),
        // Bought the day before the shipments' fixed ship date.
        purchase_date: Some("2026-11-24T09:00:00Z".parse().unwrap()),
        ship_by: None,
        status: None,
        items: vec![
            NewOrderItem {
                order_item_id: format!("1100{n:04}-1"),
                sku: "MUG-1".into(),
                quantity: 2,
                item_number: Some(format!("1100{n:04}")),
                title: Some("Mug & saucer".into()),
            },
            NewOrderItem {
                order_item_id: format!("1100{n:04}-2"),
                sku: "SPOON".into(),
                quantity: 1,
                item_number: Some(format!("1101{n:04}")),
                title: None,
            },
        ],
    }
}

pub fn ebay_shipment(n: u32, account: &str) -> Value {
    json!({
        "shipment_id": format!("E-{n}"),
        "account": account,
        "order_id": order_id(n),
        "carrier": "UPS",
        "service": "Ground",
        "tracking_number": format!("1ZEB{n:06}"),
        "ship_date": "2026-11-25T14:02:00Z",
        "items": [
            {"order_item_id": format!("1100{n:04}-1"), "sku": "MUG-1", "quantity": 2},
            {"order_item_id": format!("1100{n:04}-2"), "sku": "SPOON", "quantity": 1}
        ]
    })
}

/// An order in the emulator and its shipment posted to the station.
async fn post(h: &Harness, n: u32, account: &str) -> Value {
    h.emulator.add_orders(vec![ebay_order(n)]);
    let shipment = ebay_shipment(n, account);
    let (status, body) = h.post(&shipment).await;
    assert_eq!(status, 200, "{body}");
    shipment
}

fn adapter(config: &ClientConfig) -> Arc<dyn MarketplaceAdapter> {
    Marketplaces::new(config)
        .adapter(MarketplaceKind::Ebay)
        .unwrap()
        .clone()
}

fn attempts(detail: &Value) -> Vec<Value> {
    detail["attempts"].as_array().unwrap().clone()
}

async fn calls(h: &Harness, api: &str) -> usize {
    h.emulator_get("/_emulator/calls").await["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["api"] == api)
        .count()
}

#[tokio::test]
async fn complete_sale_marks_the_order_shipped() {
    let h = harness().await;
    let account = add_ebay_account(&h, "gadget", "").await;
    post(&h, 1, "gadget").await;

    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;

    let detail = h.detail("E-1").await;
    assert_eq!(detail["status"], "success", "{detail}");
    let attempts = attempts(&detail);
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["http_status"], 200);
    assert!(attempts[0]["error_message"].is_null());

    let order = h
        .emulator_get(&format!("/_emulator/orders/{}", order_id(1)))
        .await;
    assert_eq!(order["status"], "Shipped");
    assert_eq!(order["shipped_at"], "2026-11-25T14:02:00Z");
    assert_eq!(order["tracking"], json!([["UPS", "1ZEB000001"]]));
    // One CompleteSale per order line item, each with the line's units.
    let confirmations = h.confirmations().await;
    assert_eq!(confirmations.len(), 2);
    for (confirmation, line) in confirmations.iter().zip(["11000001-1", "11000001-2"]) {
        assert_eq!(confirmation.marketplace, "ebay");
        assert_eq!(confirmation.body["OrderLineItemID"], line);
        assert_eq!(
            confirmation.body["Shipment"]["ShipmentTrackingDetails"]["ShipmentTrackingNumber"],
            "1ZEB000001"
        );
    }
    assert_eq!(calls(&h, "ebay.CompleteSale").await, 2);

    // GetOrders now shows it shipped, every line.
    let orders = adapter(&unpaced())
        .orders_by_id(&account, &[order_id(1)])
        .await
        .unwrap();
    assert_eq!(orders.len(), 1);
    assert!(orders[0].shipped);
    let items = orders[0].items.as_ref().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].order_item_id, "11000001-1");
    assert_eq!(items[0].title.as_deref(), Some("Mug & saucer"));
    assert_eq!(
        (items[0].quantity_ordered, items[0].quantity_shipped),
        (2, 2)
    );
}

#[tokio::test]
async fn rest_fulfillment_creates_a_fulfillment() {
    let h = harness().await;
    add_ebay_account(&h, "gadget", "fulfillment").await;
    post(&h, 2, "gadget").await;

    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;

    let detail = h.detail("E-2").await;
    assert_eq!(detail["status"], "success", "{detail}");
    assert_eq!(attempts(&detail)[0]["http_status"], 201);
    let confirmations = h.confirmations().await;
    assert_eq!(confirmations.len(), 1);
    assert_eq!(
        confirmations[0].body,
        json!({
            "lineItems": [
                {"lineItemId": "11000002-1", "quantity": 2},
                {"lineItemId": "11000002-2", "quantity": 1}
            ],
            "shippedDate": "2026-11-25T14:02:00.000Z",
            "shippingCarrierCode": "UPS",
            "trackingNumber": "1ZEB000002"
        })
    );
    let order = h
        .emulator_get(&format!("/_emulator/orders/{}", order_id(2)))
        .await;
    assert_eq!(order["status"], "Shipped");
    assert_eq!(calls(&h, "ebay.createShippingFulfillment").await, 1);
    assert_eq!(calls(&h, "ebay.CompleteSale").await, 0);
}

#[tokio::test]
async fn a_warning_is_kept_on_a_successful_attempt() {
    let h = harness().await;
    add_ebay_account(&h, "gadget", "trading").await;
    let mut shipment = post(&h, 3, "gadget").await;
    let worker = h.worker("w1");
    h.drain(&worker, Duration::from_secs(10)).await;

    // A corrected tracking number on an order eBay already has as shipped.
    shipment["tracking_number"] = json!("1ZCORRECTED");
    assert_eq!(h.post(&shipment).await.0, 200);
    h.drain(&worker, Duration::from_secs(10)).await;

    let detail = h.detail("E-3").await;
    assert_eq!(detail["status"], "success", "{detail}");
    assert!(detail["last_error"].is_null(), "{detail}");
    let attempts = attempts(&detail);
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[1]["outcome"], "success");
    let warning = attempts[1]["error_message"].as_str().unwrap();
    assert!(
        warning.contains("21917091") && warning.contains("already"),
        "{warning}"
    );
}

#[tokio::test]
async fn an_unknown_order_fails_permanently_with_ebays_message() {
    let h = harness().await;
    add_ebay_account(&h, "gadget", "").await;
    // Posted to the station, but eBay has no such order.
    assert_eq!(h.post(&ebay_shipment(4, "gadget")).await.0, 200);
    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;

    let detail = h.detail("E-4").await;
    assert_eq!(detail["status"], "failed");
    let attempts = attempts(&detail);
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["outcome"], "permanent_error");
    assert_eq!(attempts[0]["error_code"], "21916811");
    assert!(attempts[0]["error_message"]
        .as_str()
        .unwrap()
        .contains("The order ID is invalid"));
}

#[tokio::test]
async fn an_unknown_order_fails_permanently_over_rest() {
    let h = harness().await;
    add_ebay_account(&h, "gadget", "fulfillment").await;
    assert_eq!(h.post(&ebay_shipment(5, "gadget")).await.0, 200);
    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;

    let attempt = &attempts(&h.detail("E-5").await)[0];
    assert_eq!(attempt["outcome"], "permanent_error");
    assert_eq!(attempt["http_status"], 404);
    assert_eq!(attempt["error_code"], "32100");
}

/// One batch under the fault: the shipment waits on the paused write-back without
/// spending an attempt. Its first attempt.
async fn first_attempt_under(h: &Harness, writeback_api: &str, fault: Value) -> Value {
    add_ebay_account(h, "gadget", writeback_api).await;
    post(h, 6, "gadget").await;
    h.set_faults(fault).await;
    h.worker("w1").run_batch().await.unwrap();
    let detail = h.detail("E-6").await;
    assert_eq!(detail["status"], "pending", "{detail}");
    assert_eq!(detail["error_count"], 0, "{detail}");
    let reason = detail["last_error"].as_str().unwrap();
    assert!(
        reason.starts_with("Waiting: eBay Writeback for gadget"),
        "{reason}"
    );
    attempts(&detail)[0].clone()
}

/// With the fault gone, the paused write-back resumes: the shipment is written back,
/// and the marketplace took exactly one write-back for it.
async fn recovers(h: &Harness) {
    h.set_faults(json!({})).await;
    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;
    assert_eq!(h.detail("E-6").await["status"], "success");
    assert_once_each(&h.confirmations().await);
}

/// Every write-back the marketplace took is a different one: nothing was sent twice
/// (Trading takes one CompleteSale per line; the Fulfillment API one fulfillment).
pub fn assert_once_each(confirmations: &[shipback::emulator::ConfirmationRecord]) {
    assert!(!confirmations.is_empty());
    for (i, c) in confirmations.iter().enumerate() {
        assert!(
            confirmations[..i]
                .iter()
                .all(|earlier| earlier.body != c.body),
            "sent twice: {}",
            c.body
        );
    }
}

#[tokio::test]
async fn server_errors_are_retried() {
    for (api, status) in [("", 503), ("", 500), ("fulfillment", 503)] {
        let h = harness().await;
        let attempt = first_attempt_under(
            &h,
            api,
            json!({"marketplace": "ebay", "api": "writeback", "forced_status": status}),
        )
        .await;
        assert_eq!(attempt["outcome"], "retryable_error");
        assert_eq!(attempt["http_status"], status);
        recovers(&h).await;
    }
}

#[tokio::test]
async fn rest_throttling_is_retried() {
    let h = harness().await;
    let attempt = first_attempt_under(
        &h,
        "fulfillment",
        json!({"marketplace": "ebay", "api": "writeback", "forced_status": 429}),
    )
    .await;
    assert_eq!(attempt["http_status"], 429);
    assert_eq!(attempt["error_code"], "2001");
    recovers(&h).await;
}

#[tokio::test]
async fn trading_call_limit_waits_an_hour() {
    let h = harness().await;
    let attempt = first_attempt_under(
        &h,
        "",
        json!({"marketplace": "ebay", "api": "writeback", "forced_status": 429}),
    )
    .await;
    assert_eq!(attempt["error_code"], "518");
    // The queue is probed again only when eBay's call limit resets.
    let pauses = h.store.api_pauses().await.unwrap();
    assert_eq!(pauses.len(), 1, "{pauses:?}");
    let wait = pauses[0].next_probe_at - chrono::Utc::now();
    assert!(wait > chrono::Duration::minutes(55), "probed in {wait}");
    assert!(
        pauses[0].reason.contains("is throttling its calls"),
        "{pauses:?}"
    );
}

#[tokio::test]
async fn outage_reset_and_malformed_answers_are_retried() {
    let faults = [
        json!({"marketplace": "ebay", "outage": true}),
        json!({"marketplace": "ebay", "api": "writeback", "connection_reset": true}),
        json!({"marketplace": "ebay", "api": "writeback", "malformed": true}),
    ];
    for api in ["", "fulfillment"] {
        for fault in &faults {
            let h = harness().await;
            let attempt = first_attempt_under(&h, api, fault.clone()).await;
            assert_eq!(attempt["outcome"], "retryable_error", "{api} {fault}");
            assert!(h.confirmations().await.is_empty(), "{api} {fault}");
            recovers(&h).await;
        }
    }
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_within_one_attempt() {
    for api in ["", "fulfillment"] {
        let h = harness().await;
        add_ebay_account(&h, "gadget", api).await;
        let worker = h.worker("w1");
        post(&h, 7, "gadget").await;
        h.drain(&worker, Duration::from_secs(10)).await;
        assert_eq!(calls(&h, "ebay.token").await, 1, "the token is cached");

        // Every token issued so far is now refused as expired.
        h.set_faults(json!({"marketplace": "ebay", "expired_token": true}))
            .await;
        post(&h, 8, "gadget").await;
        h.drain(&worker, Duration::from_secs(10)).await;

        let detail = h.detail("E-8").await;
        assert_eq!(detail["status"], "success", "{api}: {detail}");
        assert_eq!(attempts(&detail).len(), 1, "{api}: one attempt");
        assert_eq!(calls(&h, "ebay.token").await, 2, "{api}: refreshed once");
    }
}

#[tokio::test]
async fn a_revoked_grant_asks_to_check_the_authorisation() {
    let h = harness().await;
    let mut account = add_ebay_account(&h, "gadget", "").await;
    account.credentials.refresh_token = format!("v^1.1#i^1#r^1#revoked-{SELLER}").into();
    let failure = adapter(&unpaced())
        .orders_by_id(&account, &[order_id(1)])
        .await
        .unwrap_err();
    assert_eq!(failure.code, "invalid_grant");
    assert!(failure.retryable);
    assert!(
        failure.message.contains("authorisation"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn get_orders_reads_every_page() {
    let h = harness().await;
    let account = add_ebay_account(&h, "gadget", "").await;
    let since = chrono::Utc::now() - chrono::Duration::minutes(5);
    // A minute old: the window ends at "now", given to the second.
    let a_minute_ago = chrono::Utc::now() - chrono::Duration::minutes(1);
    h.emulator.add_orders(
        (100..350)
            .map(|n| NewOrder {
                purchase_date: Some(a_minute_ago),
                ship_by: None,
                status: None,
                ..ebay_order(n)
            })
            .collect(),
    );
    // Another seller's order is not listed.
    let mut foreign = ebay_order(999);
    foreign.seller = "someone-else".into();
    h.emulator.add_orders(vec![foreign]);

    let updates = adapter(&unpaced())
        .orders_updated_since(&account, since)
        .await
        .unwrap();
    assert_eq!(updates.orders.len(), 250);
    let mut ids: Vec<&str> = updates.orders.iter().map(|o| o.order_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 250, "no order twice");
    assert!(updates
        .orders
        .iter()
        .all(|o| !o.shipped && o.status == "Completed"));
    assert!(updates.complete_until > since);
    assert_eq!(calls(&h, "ebay.GetOrders").await, 3, "100 + 100 + 50");
}

#[tokio::test]
async fn the_daily_quota_paces_trading_calls() {
    let h = harness().await;
    let account = add_ebay_account(&h, "gadget", "").await;
    h.emulator.add_orders(vec![ebay_order(1)]);
    let client = adapter(&ClientConfig {
        ebay_daily_quota: 3,
        ..ClientConfig::default()
    });
    // Bounded: a quota paced wrongly would otherwise wait for hours.
    let burst = tokio::time::timeout(Duration::from_secs(30), async {
        for _ in 0..3 {
            client.orders_by_id(&account, &[order_id(1)]).await.unwrap();
        }
    })
    .await;
    assert!(burst.is_ok(), "the quota is a burst: 3 calls at once");
    let fourth = tokio::time::timeout(
        Duration::from_millis(500),
        client.orders_by_id(&account, &[order_id(1)]),
    )
    .await;
    assert!(fourth.is_err(), "the fourth call of a 3-a-day quota waits");
    assert_eq!(calls(&h, "ebay.GetOrders").await, 3);
}

#[tokio::test]
async fn the_sync_imports_ebay_orders_and_reads_written_back_ones_back() {
    let h = harness().await;
    let account = add_ebay_account(&h, "gadget", "fulfillment").await;
    // A minute old: the import's window ends at "now", given to the second.
    let a_minute_ago = chrono::Utc::now() - chrono::Duration::minutes(1);
    h.emulator.add_orders(
        (1..=3)
            .map(|n| NewOrder {
                purchase_date: Some(a_minute_ago),
                ship_by: None,
                status: None,
                ..ebay_order(n)
            })
            .collect(),
    );
    let sync = h.sync();

    // GetOrders brings the orders with their lines: no separate line calls.
    let report = sync.sync_account(&account, true).await.unwrap();
    assert_eq!(report.orders_imported, 3);
    assert_eq!(
        report.catalog_items_fetched, 0,
        "eBay has no Products API here"
    );
    let ids = h
        .store
        .order_item_ids_by_sku(account.id, &order_id(2))
        .await
        .unwrap();
    assert_eq!(ids.get("SPOON").map(String::as_str), Some("11000002-2"));

    // A station that sends SKUs only: the line ids come from the imported order.
    let mut shipment = ebay_shipment(2, "gadget");
    shipment["items"] = json!([{"sku": "MUG-1", "quantity": 2}, {"sku": "SPOON", "quantity": 1}]);
    // Shipped after the order was bought, a minute ago.
    shipment["ship_date"] = json!(chrono::Utc::now().to_rfc3339());
    assert_eq!(h.post(&shipment).await.0, 200);
    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;
    let detail = h.detail("E-2").await;
    assert_eq!(detail["status"], "success", "{detail}");
    assert_eq!(detail["items"][1]["order_item_id"], "11000002-2");
    assert_eq!(detail["items"][0]["title"], "Mug & saucer");

    // The read-back shows the order shipped, as eBay reports it.
    let report = sync.sync_account(&account, false).await.unwrap();
    assert_eq!(report.orders_checked, 1);
    let order = &h.detail("E-2").await["marketplace_order"];
    assert_eq!(order["shipped"], true, "{order}");
}

/// A two-line order shipped in two parcels: the first holds one of line 1's two units,
/// the second the other unit and line 2. Each parcel is written back line by line, with
/// its units; a third parcel that would ship more than was bought is refused with
/// eBay's words. The same on both eBay write-back APIs.
#[tokio::test]
async fn a_two_line_order_shipped_in_two_packages_on_both_ebay_apis() {
    for api in ["trading", "fulfillment"] {
        let h = harness().await;
        add_ebay_account(&h, "gadget", api).await;
        let n = 20;
        h.emulator.add_orders(vec![ebay_order(n)]);
        let parcel = |id: &str, tracking: &str, lines: Value| {
            let mut shipment = ebay_shipment(n, "gadget");
            shipment["shipment_id"] = json!(id);
            shipment["tracking_number"] = json!(tracking);
            shipment["items"] = lines;
            shipment
        };
        let line = |k: u32| format!("1100{n:04}-{k}");
        let first = parcel(
            "P-1",
            "1ZPARCEL1",
            json!([{"order_item_id": line(1), "quantity": 1}]),
        );
        let second = parcel(
            "P-2",
            "1ZPARCEL2",
            json!([
                {"order_item_id": line(1), "quantity": 1},
                {"order_item_id": line(2), "quantity": 1}
            ]),
        );
        assert_eq!(h.post(&first).await.0, 200);
        let worker = h.worker("parcels");
        h.drain(&worker, Duration::from_secs(10)).await;
        let order = h
            .emulator_get(&format!("/_emulator/orders/{}", order_id(n)))
            .await;
        assert_eq!(order["status"], "PartiallyShipped", "{api}: {order}");
        assert_eq!(order["items"][0]["shipped"], 1, "{api}");
        assert_eq!(order["items"][1]["shipped"], 0, "{api}");

        assert_eq!(h.post(&second).await.0, 200);
        h.drain(&worker, Duration::from_secs(10)).await;
        for id in ["P-1", "P-2"] {
            assert_eq!(h.detail(id).await["status"], "success", "{api} {id}");
        }
        let order = h
            .emulator_get(&format!("/_emulator/orders/{}", order_id(n)))
            .await;
        assert_eq!(order["status"], "Shipped", "{api}: {order}");
        let packages = order["packages"].as_array().unwrap();
        assert_eq!(packages.len(), 2, "{api}: {order}");
        let held: Vec<(String, Value)> = packages
            .iter()
            .map(|p| {
                (
                    p["tracking_number"].as_str().unwrap().to_string(),
                    p["items"].clone(),
                )
            })
            .collect();
        assert_eq!(
            held,
            vec![
                (
                    "1ZPARCEL1".to_string(),
                    json!([{"order_item_id": line(1), "quantity": 1}])
                ),
                (
                    "1ZPARCEL2".to_string(),
                    json!([
                        {"order_item_id": line(1), "quantity": 1},
                        {"order_item_id": line(2), "quantity": 1}
                    ])
                ),
            ],
            "{api}"
        );

        // A third parcel with two more of line 1: more than the buyer bought.
        let third = parcel(
            "P-3",
            "1ZPARCEL3",
            json!([{"order_item_id": line(1), "quantity": 2}]),
        );
        assert_eq!(h.post(&third).await.0, 200);
        h.drain(&worker, Duration::from_secs(10)).await;
        let refused = h.detail("P-3").await;
        assert_eq!(refused["status"], "failed", "{api}: {refused}");
        let error = refused["last_error"].as_str().unwrap();
        assert!(error.contains("exceeds"), "{api}: {error}");
        assert_eq!(attempts(&refused).len(), 1, "{api}: refused for good, once");
    }
}

/// A corrected tracking number: eBay keeps the earlier number beside the new one, and
/// the shipment's detail says what the buyer now sees.
#[tokio::test]
async fn a_correction_adds_the_new_tracking_number_and_the_detail_says_so() {
    for api in ["trading", "fulfillment"] {
        let h = harness().await;
        let account = add_ebay_account(&h, "gadget", api).await;
        let mut shipment = post(&h, 21, "gadget").await;
        let worker = h.worker("corrections");
        h.drain(&worker, Duration::from_secs(10)).await;
        shipment["tracking_number"] = json!("1ZNEWNUMBER");
        assert_eq!(h.post(&shipment).await.0, 200);
        h.drain(&worker, Duration::from_secs(10)).await;
        assert_eq!(h.detail("E-21").await["status"], "success", "{api}");

        let order = h
            .emulator_get(&format!("/_emulator/orders/{}", order_id(21)))
            .await;
        let packages = order["packages"].as_array().unwrap();
        assert_eq!(packages.len(), 1, "{api}: the same parcel, {order}");
        assert_eq!(packages[0]["tracking_number"], "1ZNEWNUMBER", "{api}");
        assert_eq!(
            packages[0]["earlier_tracking_numbers"],
            json!(["1ZEB000021"]),
            "{api}"
        );
        assert_eq!(order["items"][0]["shipped"], 2, "{api}: no unit twice");

        // Read back, the detail says what the buyer sees.
        h.sync().sync_account(&account, false).await.unwrap();
        let detail = h.detail("E-21").await;
        assert_eq!(
            detail["marketplace_order"]["packages"]
                .as_array()
                .map(Vec::len),
            Some(2),
            "{api}: {detail}"
        );
        let detail: app::shipments::ShipmentDetail = serde_json::from_value(detail).unwrap();
        assert_eq!(
            detail.buyer_sees().as_deref(),
            Some("eBay shows both tracking numbers (1ZEB000021, 1ZNEWNUMBER); the newest is 1ZNEWNUMBER."),
            "{api}"
        );
    }
}
