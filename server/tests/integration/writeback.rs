//! The whole path: station API -> SQLite -> worker -> Amazon client -> emulator.

use crate::common;

use common::{harness, Harness};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

async fn post_order(h: &Harness, n: u32) -> Value {
    let (order, shipment) = h.order(n);
    h.emulator.add_orders(vec![order]);
    let (status, body) = h.post(&shipment).await;
    assert_eq!(status, 200, "{body}");
    shipment
}

#[tokio::test]
async fn a_posted_shipment_is_written_back() {
    let h = harness().await;
    let shipment = post_order(&h, 1).await;
    assert_eq!(h.detail("S-1").await["status"], "pending");

    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;

    let detail = h.detail("S-1").await;
    assert_eq!(detail["status"], "success");
    assert_eq!(detail["error_count"], 0);
    assert!(detail["last_attempt_at"].is_string());
    let attempts = detail["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["outcome"], "success");
    assert_eq!(attempts[0]["http_status"], 204);

    let confirmations = h.confirmations().await;
    assert_eq!(confirmations.len(), 1);
    let body = &confirmations[0].body;
    assert_eq!(confirmations[0].order_id, shipment["order_id"]);
    assert_eq!(body["marketplaceId"], "ATVPDKIKX0DER");
    assert_eq!(
        body["packageDetail"]["trackingNumber"],
        shipment["tracking_number"]
    );
    assert_eq!(body["packageDetail"]["carrierCode"], "UPS");
    assert_eq!(body["packageDetail"]["shippingMethod"], "Ground");
    assert_eq!(
        body["packageDetail"]["shipDate"],
        "2026-11-25T14:02:00.000Z"
    );
    assert_eq!(
        body["packageDetail"]["orderItems"],
        json!([{"orderItemId": "101", "quantity": 2}, {"orderItemId": "102", "quantity": 1}])
    );
    assert_eq!(
        body["packageDetail"]["packageReferenceId"],
        detail["package_reference_id"]
    );
}

#[tokio::test]
async fn a_shipments_own_retryable_refusal_fails_after_five_attempts() {
    let h = harness().await;
    // An order whose payment Amazon has not cleared: refused, worth another try, and
    // the shipment's own fate (the API works).
    let (mut order, shipment) = h.order(2);
    order.status = Some("Pending".into());
    h.emulator.add_orders(vec![order]);
    assert_eq!(h.post(&shipment).await.0, 200);
    let worker = h.worker("w1");

    worker.run_batch().await.unwrap();
    let detail = h.detail("S-2").await;
    assert_eq!(detail["status"], "retrying");
    assert_eq!(detail["error_count"], 1);
    assert!(detail["next_attempt_at"].is_string());

    h.drain(&worker, Duration::from_secs(10)).await;
    let detail = h.detail("S-2").await;
    assert_eq!(detail["status"], "failed");
    assert_eq!(detail["error_count"], 5);
    assert!(detail["next_attempt_at"].is_null());
    let last_error = detail["last_error"].as_str().unwrap();
    assert!(last_error.contains("is Pending"), "{last_error}");
    let attempts = detail["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 5);
    for (i, attempt) in attempts.iter().enumerate() {
        assert_eq!(attempt["number"], i as u64 + 1);
        assert_eq!(attempt["outcome"], "retryable_error");
        assert_eq!(attempt["http_status"], 400);
    }
    assert!(h.confirmations().await.is_empty());
}

#[tokio::test]
async fn an_outage_longer_than_the_whole_schedule_fails_nothing() {
    let h = harness().await;
    for n in 21..=26 {
        post_order(&h, n).await;
    }
    h.set_faults(json!({"api": "writeback", "forced_status": 503}))
        .await;
    let worker = h.worker("w1");
    // The schedule (fast_config) spends five attempts in well under a second; the
    // outage outlasts it by far: probes keep failing.
    let probes_wanted = 20;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        worker.run_batch().await.unwrap();
        let calls = h.emulator_get("/_emulator/calls").await["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["api"] == "amazon.confirmShipment")
            .count();
        if calls >= probes_wanted {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{calls} calls");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.settle(&worker, Duration::from_secs(10)).await;
    assert_eq!(h.waiting_count().await, 6);
    for n in 21..=26 {
        let detail = h.detail(&format!("S-{n}")).await;
        assert_eq!(detail["status"], "pending", "{detail}");
        assert_eq!(detail["error_count"], 0, "no attempt spent: {detail}");
        let reason = detail["last_error"].as_str().unwrap();
        assert!(
            reason.starts_with("Waiting: Amazon Writeback for acme-us is down since ")
                && reason.contains("503"),
            "{reason}"
        );
    }
    // The status API says how many wait behind the API.
    let status = h.get("/api/v1/status").await.1;
    assert_eq!(status["waiting"], 6, "{status}");

    h.set_faults(json!({})).await;
    h.drain(&worker, Duration::from_secs(10)).await;
    for n in 21..=26 {
        let detail = h.detail(&format!("S-{n}")).await;
        assert_eq!(detail["status"], "success", "{detail}");
        assert_eq!(detail["error_count"], 0);
    }
    assert_eq!(h.confirmations().await.len(), 6, "each written back once");
}

#[tokio::test]
async fn a_failure_then_recovery_ends_in_success() {
    let h = harness().await;
    post_order(&h, 3).await;
    h.set_faults(json!({"forced_status": 429})).await;
    let worker = h.worker("w1");
    worker.run_batch().await.unwrap();
    worker.run_batch().await.unwrap();
    h.set_faults(json!({})).await;
    h.drain(&worker, Duration::from_secs(10)).await;
    let detail = h.detail("S-3").await;
    assert_eq!(detail["status"], "success");
    let outcomes: Vec<&str> = detail["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.last(), Some(&"success"));
    assert!(outcomes.len() >= 2);
    assert_eq!(detail["attempts"][0]["error_code"], "QuotaExceeded");
}

#[tokio::test]
async fn a_permanent_error_fails_at_once_with_the_marketplace_message() {
    let h = harness().await;
    let (order, mut shipment) = h.order(4);
    h.emulator.add_orders(vec![order]);
    shipment["items"][0]["order_item_id"] = json!("999999");
    assert_eq!(h.post(&shipment).await.0, 200);

    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;
    let detail = h.detail("S-4").await;
    assert_eq!(detail["status"], "failed");
    assert_eq!(detail["error_count"], 1);
    let attempts = detail["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["outcome"], "permanent_error");
    assert_eq!(attempts[0]["http_status"], 400);
    assert_eq!(attempts[0]["error_code"], "InvalidInput");
    assert!(attempts[0]["error_message"]
        .as_str()
        .unwrap()
        .contains("999999"));
}

#[tokio::test]
async fn an_unknown_order_is_a_permanent_error() {
    let h = harness().await;
    let (_, shipment) = h.order(5);
    assert_eq!(h.post(&shipment).await.0, 200);
    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;
    let detail = h.detail("S-5").await;
    assert_eq!(detail["status"], "failed");
    assert_eq!(detail["attempts"][0]["http_status"], 404);
    assert_eq!(detail["attempts"][0]["error_code"], "NotFound");
}

#[tokio::test]
async fn posting_the_same_shipment_again_changes_nothing() {
    let h = harness().await;
    let shipment = post_order(&h, 6).await;
    let (status, body) = h.post(&shipment).await;
    assert_eq!(status, 200);
    assert_eq!(body["unchanged"], 1);
    assert_eq!(body["created"], 0);
    h.drain(&h.worker("w1"), Duration::from_secs(10)).await;

    let before = h.detail("S-6").await;
    let (status, body) = h.post(&shipment).await;
    assert_eq!((status, body["unchanged"].as_u64()), (200, Some(1)));
    h.worker("w1").run_batch().await.unwrap();
    assert_eq!(h.detail("S-6").await, before);
    assert_eq!(h.confirmations().await.len(), 1);
}

#[tokio::test]
async fn a_corrected_shipment_is_written_again_under_the_same_package() {
    let h = harness().await;
    let mut shipment = post_order(&h, 7).await;
    let worker = h.worker("w1");
    h.drain(&worker, Duration::from_secs(10)).await;

    shipment["tracking_number"] = json!("1ZCORRECTED");
    shipment["carrier"] = json!("FedEx");
    let (status, body) = h.post(&shipment).await;
    assert_eq!((status, body["updated"].as_u64()), (200, Some(1)));
    let detail = h.detail("S-7").await;
    assert_eq!(detail["status"], "pending");
    assert_eq!(detail["revision"], 1);
    h.drain(&worker, Duration::from_secs(10)).await;

    let detail = h.detail("S-7").await;
    assert_eq!(detail["status"], "success");
    assert_eq!(detail["tracking_number"], "1ZCORRECTED");
    let revisions: Vec<u64> = detail["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["revision"].as_u64().unwrap())
        .collect();
    assert_eq!(revisions, vec![0, 1], "the first round's attempt is kept");

    let confirmations = h.confirmations().await;
    assert_eq!(confirmations.len(), 2);
    assert_eq!(
        confirmations[0].package_reference_id,
        confirmations[1].package_reference_id
    );
    assert_eq!(
        confirmations[1].body["packageDetail"]["trackingNumber"],
        "1ZCORRECTED"
    );
    assert_eq!(
        confirmations[1].body["packageDetail"]["carrierCode"],
        "FedEx"
    );
    // The correction replaced the package: the order is still shipped once, not twice.
    let order = h
        .emulator_get(&format!(
            "/_emulator/orders/{}",
            shipment["order_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(order["status"], "Shipped");
    let packages = order["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 1, "{order}");
    // Amazon holds the corrected package as sent last: carrier and tracking number.
    assert_eq!(packages[0]["tracking_number"], "1ZCORRECTED");
    assert_eq!(packages[0]["carrier"], "FedEx");
    assert_eq!(packages[0]["earlier_tracking_numbers"], json!([]));
}

#[tokio::test]
async fn invalid_input_is_refused_with_a_message_per_field_and_nothing_is_stored() {
    let h = harness().await;
    let (_, good) = h.order(8);
    let mut bad = good.clone();
    bad["shipment_id"] = json!("S-9");
    bad["ship_date"] = json!("yesterday");
    bad["items"][0]["quantity"] = json!(-1);
    let (status, body) = h.post(&json!([good, bad])).await;
    assert_eq!(status, 422, "{body}");
    let fields: HashSet<(u64, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["index"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        HashSet::from([
            (1, "ship_date".to_string()),
            (1, "items[0].quantity".to_string())
        ])
    );

    let mut unknown = good.clone();
    unknown["account"] = json!("nobody");
    let (status, body) = h.post(&unknown).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "account");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("nobody"));

    let response = h
        .http
        .post(format!("{}/api/v1/shipments", h.api_url))
        .body("{\"shipment_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);

    assert_eq!(h.store.count_shipments().await.unwrap(), 0);
    let (status, body) = h.get("/api/v1/shipments/S-8").await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn the_list_api_filters_sorts_and_pages_by_keyset() {
    let h = harness().await;
    let shipments: Vec<Value> = (0..23)
        .map(|n| {
            let (_, mut s) = h.order(100 + n);
            s["ship_date"] = json!(format!("2026-11-{:02}T10:00:00Z", 1 + n % 20));
            s["carrier"] = json!(["UPS", "USPS", "FedEx"][n as usize % 3]);
            s
        })
        .collect();
    assert_eq!(h.post(&Value::Array(shipments)).await.0, 200);

    for sort in [
        "ship_date",
        "-ship_date",
        "carrier",
        "-carrier",
        "order_id",
        "-quantity",
        "status",
        "-last_attempt_at",
        "account",
        "tracking_number",
        "error_count",
        "shipment_id",
    ] {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let (status, page) = h
                .get(&format!("/api/v1/shipments?sort={sort}&limit=5{cursor}"))
                .await;
            assert_eq!(status, 200, "{page}");
            assert_eq!(page["total"], 23);
            for item in page["items"].as_array().unwrap() {
                seen.push(item.clone());
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), 23, "{sort}: every row exactly once");
        let ids: HashSet<&str> = seen
            .iter()
            .map(|s| s["shipment_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 23, "{sort}: no duplicates across pages");
        let field = sort.trim_start_matches('-');
        let field = if field == "account" { "account" } else { field };
        let values: Vec<String> = seen.iter().map(|s| s[field].to_string()).collect();
        let mut sorted = values.clone();
        sorted.sort();
        if sort.starts_with('-') {
            sorted.reverse();
        }
        if !["quantity", "error_count"].contains(&field) {
            assert_eq!(values, sorted, "{sort}: ordered");
        }
    }

    let (_, page) = h
        .get("/api/v1/shipments?from=2026-11-05T00:00:00Z&to=2026-11-08T00:00:00Z&limit=100")
        .await;
    let dates: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ship_date"].as_str().unwrap())
        .collect();
    assert!(!dates.is_empty());
    assert!(
        dates
            .iter()
            .all(|d| *d >= "2026-11-05" && *d < "2026-11-08"),
        "{dates:?}"
    );
    assert_eq!(page["total"].as_u64().unwrap() as usize, dates.len());

    let (_, page) = h
        .get("/api/v1/shipments?status=pending&status=failed")
        .await;
    assert_eq!(page["total"], 23);
    let (_, page) = h.get("/api/v1/shipments?status=success").await;
    assert_eq!(page["total"], 0);

    let (status, body) = h.get("/api/v1/shipments?status=lost").await;
    assert_eq!(status, 400);
    assert_eq!(body["parameter"], "status");
    let (status, body) = h.get("/api/v1/shipments?cursor=00ff").await;
    assert_eq!(status, 400);
    assert_eq!(body["parameter"], "cursor");
}

#[tokio::test]
async fn two_workers_racing_over_200_shipments_confirm_each_exactly_once() {
    let h = harness().await;
    let mut batch = Vec::new();
    let mut orders = Vec::new();
    for n in 1000..1200 {
        let (order, shipment) = h.order(n);
        orders.push(order);
        batch.push(shipment);
    }
    h.emulator.add_orders(orders);
    assert_eq!(h.post(&Value::Array(batch)).await.0, 200);
    // Some latency so that both workers are busy at once.
    h.set_faults(json!({"latency_ms": 5})).await;

    // Separate stores: separate connection pools, as two processes would have.
    let second = shipback::store::Store::open(&h.database_url)
        .await
        .unwrap()
        .with_keyring(shipback::secrets::Keyring::new(h.secret_key.clone()));
    let a = h.worker("worker-a");
    let b = shipback::worker::Worker::new(
        second,
        shipback::marketplaces::Marketplaces::new(&common::unpaced()),
        common::fast_config("worker-b"),
        Default::default(),
    );
    let (ra, rb) = tokio::join!(
        async {
            let mut attempted = 0;
            for _ in 0..400 {
                attempted += a.run_batch().await.unwrap().attempted;
            }
            attempted
        },
        async {
            let mut attempted = 0;
            for _ in 0..400 {
                attempted += b.run_batch().await.unwrap().attempted;
            }
            attempted
        }
    );
    assert_eq!(h.open_count().await, 0);
    assert!(ra > 0 && rb > 0, "both workers took part: {ra} and {rb}");
    assert_eq!(ra + rb, 200);

    let confirmations = h.confirmations().await;
    let mut per_order: HashMap<String, usize> = HashMap::new();
    for c in &confirmations {
        *per_order.entry(c.order_id.clone()).or_default() += 1;
    }
    assert_eq!(per_order.len(), 200);
    assert!(
        per_order.values().all(|n| *n == 1),
        "an order was confirmed twice"
    );
}
