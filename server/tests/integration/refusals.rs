//! Refusals the real marketplaces give, as the emulator gives them, and where each
//! ends: Failed for good with the marketplace's words, or tried again later.

use crate::common;

use common::harness;
use serde_json::{json, Value};
use shipback::emulator::NewOrder;
use std::time::Duration;

/// The first attempt of shipment S-`n` once its order is set up by `order` and the
/// station posted it (changed by `shipment`).
async fn first_attempt(
    h: &common::Harness,
    n: u32,
    order: impl FnOnce(&mut NewOrder),
    shipment: impl FnOnce(&mut Value),
) -> (Value, Value) {
    let (mut new_order, mut posted) = h.order(n);
    order(&mut new_order);
    shipment(&mut posted);
    h.emulator.add_orders(vec![new_order]);
    assert_eq!(h.post(&posted).await.0, 200);
    h.worker("refusals").run_batch().await.unwrap();
    let detail = h.detail(&format!("S-{n}")).await;
    (detail["attempts"][0].clone(), detail)
}

#[tokio::test]
async fn another_sellers_order_fails_with_amazons_words() {
    let h = harness().await;
    let (attempt, detail) =
        first_attempt(&h, 1, |o| o.seller = "someone-else".into(), |_| {}).await;
    assert_eq!(detail["status"], "failed", "{detail}");
    assert_eq!(attempt["http_status"], 404);
    assert!(attempt["error_message"]
        .as_str()
        .unwrap()
        .contains("is not an order of this seller"));
}

#[tokio::test]
async fn a_cancelled_order_fails_and_a_pending_one_is_tried_again() {
    let h = harness().await;
    let (attempt, detail) =
        first_attempt(&h, 2, |o| o.status = Some("Canceled".into()), |_| {}).await;
    assert_eq!(detail["status"], "failed", "{detail}");
    assert_eq!(attempt["error_code"], "InvalidInput");
    assert!(attempt["error_message"]
        .as_str()
        .unwrap()
        .contains("canceled"));

    let (attempt, detail) =
        first_attempt(&h, 3, |o| o.status = Some("Pending".into()), |_| {}).await;
    assert_eq!(detail["status"], "retrying", "{detail}");
    assert_eq!(attempt["outcome"], "retryable_error");
    assert!(attempt["error_message"]
        .as_str()
        .unwrap()
        .contains("is Pending"));
}

#[tokio::test]
async fn a_new_package_on_a_fully_shipped_order_is_package_to_update_not_found() {
    let h = harness().await;
    let (_, detail) = first_attempt(&h, 4, |_| {}, |_| {}).await;
    assert_eq!(detail["status"], "success");
    // The same parcel posted again under another shipment id: a new package.
    let (_, mut again) = h.order(4);
    again["shipment_id"] = json!("S-4-again");
    assert_eq!(h.post(&again).await.0, 200);
    h.worker("refusals").run_batch().await.unwrap();
    let detail = h.detail("S-4-again").await;
    assert_eq!(detail["status"], "failed", "{detail}");
    let attempt = &detail["attempts"][0];
    assert_eq!(attempt["error_code"], "PackageToUpdateNotFound");
    assert_eq!(
        attempt["error_message"],
        "Failed to create package due to not finding a matching package or order already fulfilled"
    );
}

#[tokio::test]
async fn ship_dates_amazon_refuses_fail_with_the_reason() {
    let h = harness().await;
    // Before the purchase: the order is not imported, Amazon says so.
    let (attempt, detail) = first_attempt(
        &h,
        5,
        |o| o.purchase_date = Some("2026-11-26T00:00:00Z".parse().unwrap()),
        |_| {},
    )
    .await;
    assert_eq!(detail["status"], "failed", "{detail}");
    assert!(attempt["error_message"]
        .as_str()
        .unwrap()
        .contains("cannot be before the order's purchase date"));
    // In the future: refused before any call.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let (attempt, detail) =
        first_attempt(&h, 6, |_| {}, |s| s["ship_date"] = json!(tomorrow)).await;
    assert_eq!(detail["status"], "failed", "{detail}");
    assert_eq!(attempt["error_code"], "ShipDateInFuture");
    assert!(attempt["http_status"].is_null(), "no call made");
}

#[tokio::test]
async fn what_the_imported_order_refuses_is_not_sent() {
    let h = harness().await;
    let (mut order, mut shipment) = h.order(7);
    // Bought an hour ago, so that the first import reaches it; shipped now.
    order.purchase_date = Some(chrono::Utc::now() - chrono::Duration::hours(1));
    shipment["ship_date"] = json!(chrono::Utc::now().to_rfc3339());
    h.emulator.add_orders(vec![order]);
    let account = h.account(common::ACCOUNT).await;
    h.sync().sync_account(&account, true).await.unwrap();
    shipment["items"][0]["quantity"] = json!(3);
    assert_eq!(h.post(&shipment).await.0, 200);
    h.worker("refusals").run_batch().await.unwrap();
    let detail = h.detail("S-7").await;
    assert_eq!(detail["status"], "failed", "{detail}");
    let attempt = &detail["attempts"][0];
    assert_eq!(attempt["error_code"], "QuantityExceedsOrder");
    assert!(attempt["http_status"].is_null());
    assert_eq!(
        attempt["error_message"],
        "3 of line 701 shipped, but the order holds 2"
    );
    assert!(h.confirmations().await.is_empty(), "no call was wasted");
}

#[tokio::test]
async fn login_with_amazon_refuses_an_unknown_client() {
    let h = harness().await;
    h.http
        .put(format!("{}/_emulator/clients", h.emulator_url))
        .json(&json!([{"client_id": "amzn1.application-oa2-client.other", "client_secret": "s"}]))
        .send()
        .await
        .unwrap();
    let (attempt, detail) = first_attempt(&h, 8, |_| {}, |_| {}).await;
    // The admin may correct the account's credentials: the account's write-back
    // waits, with the reason, and spends no attempt meanwhile.
    assert_eq!(detail["status"], "pending", "{detail}");
    assert_eq!(detail["error_count"], 0, "{detail}");
    let reason = detail["last_error"].as_str().unwrap();
    assert!(
        reason
            .starts_with("Waiting: Amazon Writeback for acme-us refuses the account's credentials"),
        "{reason}"
    );
    assert_eq!(attempt["error_code"], "invalid_client");
    assert!(attempt["error_message"]
        .as_str()
        .unwrap()
        .contains("client id or secret"));
}

#[tokio::test]
async fn every_amazon_answer_states_its_rate_limit() {
    let h = harness().await;
    let url = format!(
        "{}/orders/v0/orders/113-0000001-0000001/shipmentConfirmation",
        h.emulator_url
    );
    // Refused for want of a token: the header is there all the same.
    let response = h.http.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["x-amzn-RateLimit-Limit"], "2.0");
    let response = h
        .http
        .get(format!("{}/orders/2026-01-01/orders/x", h.emulator_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-amzn-RateLimit-Limit"], "0.5");
}

#[tokio::test]
async fn a_package_reference_sent_as_a_number_is_refused_by_name() {
    let h = harness().await;
    let (order, _) = h.order(9);
    h.emulator.add_orders(vec![order]);
    let token = h.amazon_access_token().await;
    let response = h
        .http
        .post(format!(
            "{}/orders/v0/orders/113-0000009-0000063/shipmentConfirmation",
            h.emulator_url
        ))
        .header("x-amz-access-token", &token)
        .json(&json!({
            "marketplaceId": "ATVPDKIKX0DER",
            "packageDetail": {
                "packageReferenceId": 1, "carrierCode": "UPS", "trackingNumber": "1Z",
                "shipDate": "2026-11-25T14:02:00Z",
                "orderItems": [{"orderItemId": "901", "quantity": 1}]
            }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "InvalidInput");
    assert!(body["errors"][0]["details"]
        .as_str()
        .unwrap()
        .contains("packageDetail.packageReferenceId"));
}

/// eBay's Trading API in trouble: an HTML page, an empty body, a bare HTTP 429 or 503.
/// Each is tried again later, with words that say what came.
#[tokio::test]
async fn ebay_trading_answers_that_are_not_xml_are_retried() {
    for (fault, words) in [
        (
            json!({"marketplace": "ebay", "api": "writeback", "outage": true}),
            "HTML page",
        ),
        (
            json!({"marketplace": "ebay", "api": "writeback", "empty_body": true}),
            "empty",
        ),
        (
            json!({"marketplace": "ebay", "api": "writeback", "forced_status": 429, "html": true}),
            "HTML page",
        ),
        (
            json!({"marketplace": "ebay", "api": "writeback", "forced_status": 503, "html": true}),
            "HTML page",
        ),
    ] {
        let h = harness().await;
        crate::ebay::add_ebay_account(&h, "gadget", "trading").await;
        h.set_faults(fault.clone()).await;
        h.emulator.add_orders(vec![crate::ebay::ebay_order(1)]);
        assert_eq!(
            h.post(&crate::ebay::ebay_shipment(1, "gadget")).await.0,
            200
        );
        h.worker("ebay").run_batch().await.unwrap();
        let detail = h.detail("E-1").await;
        assert_eq!(detail["status"], "pending", "{fault}: {detail}");
        assert!(detail["last_error"]
            .as_str()
            .unwrap()
            .starts_with("Waiting: eBay Writeback for gadget"));
        let message = detail["attempts"][0]["error_message"].as_str().unwrap();
        assert!(message.contains(words), "{fault}: {message}");
        h.set_faults(json!({})).await;
        h.drain(&h.worker("ebay"), Duration::from_secs(10)).await;
        assert_eq!(h.detail("E-1").await["status"], "success", "{fault}");
    }
}
