//! The audit log: sign-ins and refusals, an operator's retry and confirmation through
//! the dashboard and through the API, each with who, what, when and from where.

use crate::common;

use common::harness;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn the_station_apis_actions_are_recorded_under_the_tokens_name() {
    let h = harness().await;
    let worker = h.worker("audit");
    for n in 1..=2 {
        let (order, shipment) = h.order(n);
        h.emulator.add_orders(vec![order]);
        assert_eq!(h.post(&shipment).await.0, 200);
    }
    h.set_faults(json!({"api": "writeback", "forced_status": 400}))
        .await;
    h.drain(&worker, Duration::from_secs(10)).await;
    let post = |path: String, body: serde_json::Value| {
        let http = h.http.clone();
        let url = format!("{}{path}", h.api_url);
        async move { http.post(url).json(&body).send().await.unwrap().status() }
    };
    assert_eq!(
        post(
            "/api/v1/shipments/retry".into(),
            json!({"shipment_ids": ["S-1", "nope"]})
        )
        .await,
        200
    );
    assert_eq!(
        post(
            "/api/v1/shipments/S-2/confirm".into(),
            json!({"confirmed_by": "Dana", "note": "=1+1 in Seller Central"})
        )
        .await,
        200
    );

    let entries = h.store.audit_entries(None).await.unwrap();
    let actions: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.target.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("token:integration-tests", "confirm", "S-2"),
            ("token:integration-tests", "retry", "S-1"),
        ],
        "newest first; the refused 'nope' is not an action taken"
    );
    assert_eq!(entries[0].role, "ingest,read,operate");
    assert!(entries[0].detail.contains("Dana"));
}
