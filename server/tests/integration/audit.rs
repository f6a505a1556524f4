//! The audit log of the station API's actions: a token's retry and confirmation, with
//! who, what, when and from where. Sign-ins and refusals are tested in `people.rs`, the
//! command line's entries in `actions.rs`, the dashboard's in the Playwright tests.

use crate::common;

use common::harness;
use serde_json::json;

#[tokio::test]
async fn the_station_apis_actions_are_recorded_under_the_tokens_name() {
    let h = harness().await;
    h.failed_shipments(2).await;
    let retry = json!({"shipment_ids": ["S-1", "nope"]});
    assert_eq!(h.post_to("/api/v1/shipments/retry", retry).await.0, 200);
    let confirm = json!({"confirmed_by": "Dana", "note": "=1+1 in Seller Central"});
    assert_eq!(
        h.post_to("/api/v1/shipments/S-2/confirm", confirm).await.0,
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
