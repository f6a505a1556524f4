//! Retry now and Confirm manually through the station API: only Failed shipments, a new
//! round that keeps the old attempts, and who confirmed what and when.

use crate::common;

use common::harness;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn retry_now_starts_a_new_round_of_failed_shipments_only() {
    let h = harness().await;
    let worker = h.worker("actions");
    h.failed_shipments(3).await;
    assert_eq!(h.detail("S-1").await["status"], "failed");

    let (status, body) = h
        .post_to(
            "/api/v1/shipments/retry",
            json!({"shipment_ids": ["S-1", "S-2", "nope"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0], json!({"shipment_id": "S-1", "done": true}));
    assert_eq!(results[1]["done"], true);
    assert_eq!(results[2]["done"], false);
    assert_eq!(results[2]["message"], "no shipment 'nope'");
    let retried = h.detail("S-1").await;
    assert_eq!(retried["status"], "pending");
    assert_eq!(retried["error_count"], 0);

    // The marketplace takes it now: the new round succeeds and the old one stays.
    h.set_faults(json!({})).await;
    h.drain(&worker, Duration::from_secs(10)).await;
    let done = h.detail("S-1").await;
    assert_eq!(done["status"], "success");
    let attempts = done["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0]["outcome"], "permanent_error");
    assert_eq!(attempts[1]["outcome"], "success");
    assert_ne!(attempts[0]["revision"], attempts[1]["revision"]);

    // A shipment that is not Failed is not retried, and says why.
    let (_, body) = h
        .post_to("/api/v1/shipments/retry", json!({"shipment_ids": ["S-1"]}))
        .await;
    assert_eq!(body["results"][0]["done"], false);
    assert_eq!(
        body["results"][0]["message"],
        "only a Failed shipment can be retried; 'S-1' is Success"
    );
    // Bad requests are refused with a reason.
    let (status, body) = h
        .post_to("/api/v1/shipments/retry", json!({"shipment_ids": []}))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = h
        .post_to("/api/v1/shipments/retry", json!({"ids": ["S-1"]}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_failed_shipment_confirmed_by_hand_leaves_the_failed_list() {
    let h = harness().await;
    h.failed_shipments(1).await;

    let (status, body) = h
        .post_to(
            "/api/v1/shipments/S-1/confirm",
            json!({"confirmed_by": "  ", "note": ""}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "Enter who confirmed the shipment on the marketplace."
    );
    assert_eq!(h.detail("S-1").await["status"], "failed", "nothing changed");

    let (status, body) = h
        .post_to(
            "/api/v1/shipments/S-1/confirm",
            json!({"confirmed_by": "Dana (packing)", "note": "Confirmed in Seller Central"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let detail = h.detail("S-1").await;
    assert_eq!(detail["status"], "confirmed_manually");
    assert_eq!(detail["next_attempt_at"], Value::Null);
    assert_eq!(
        detail["manual_confirmation"]["confirmed_by"],
        "Dana (packing)"
    );
    assert_eq!(
        detail["manual_confirmation"]["note"],
        "Confirmed in Seller Central"
    );
    let (_, failed) = h.get("/api/v1/shipments?status=failed").await;
    assert_eq!(failed["total"], 0);

    // Twice is a conflict; an unknown shipment is not found.
    let (status, body) = h
        .post_to(
            "/api/v1/shipments/S-1/confirm",
            json!({"confirmed_by": "Dana"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = h
        .post_to(
            "/api/v1/shipments/S-9/confirm",
            json!({"confirmed_by": "Dana"}),
        )
        .await;
    assert_eq!(status, 404);
}
