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

/// Runs `shipback ARGS` against the harness's database; its exit status and output.
async fn shipback(h: &common::Harness, args: &[&str]) -> (bool, String, String) {
    let mut all = args.to_vec();
    all.extend(["--database-url", &h.database_url]);
    let key = h.secret_key.to_base64();
    common::run_shipback(&all, &[("SHIPBACK_SECRET_KEY", &key)], "").await
}

/// The command line takes the same actions as the API and the dashboard: the same
/// rules, the same refusals, the same audit entries.
#[tokio::test]
async fn the_command_line_retries_confirms_and_disables_through_the_same_actions() {
    let h = harness().await;
    h.failed_shipments(2).await;

    let (ok, out, err) = shipback(&h, &["shipments", "retry", "S-1", "nope"]).await;
    assert!(!ok, "one of two was refused: {out} {err}");
    assert!(out.contains("S-1: queued for a new round"), "{out}");
    assert!(err.contains("nope: no shipment 'nope'"), "{err}");
    assert_eq!(h.detail("S-1").await["status"], "pending");

    let (ok, out, err) = shipback(
        &h,
        &[
            "shipments",
            "confirm",
            "S-2",
            "--by",
            "Dana",
            "--note",
            "by phone",
        ],
    )
    .await;
    assert!(ok, "{out} {err}");
    let confirmed = h.detail("S-2").await;
    assert_eq!(confirmed["status"], "confirmed_manually");
    assert_eq!(confirmed["manual_confirmation"]["confirmed_by"], "Dana");
    // Not Failed any more: refused, with the reason, and a failing exit status.
    let (ok, _, err) = shipback(&h, &["shipments", "confirm", "S-2", "--by", "Dana"]).await;
    assert!(!ok);
    assert!(err.contains("only a Failed shipment"), "{err}");

    let (ok, out, err) = shipback(&h, &["account", "disable", common::ACCOUNT]).await;
    assert!(ok, "{out} {err}");
    assert!(!h.account(common::ACCOUNT).await.enabled);
    let (ok, _, err) = shipback(&h, &["account", "enable", "no-such-account"]).await;
    assert!(!ok);
    assert!(err.contains("no account named 'no-such-account'"), "{err}");
    let (ok, out, _) = shipback(&h, &["account", "list"]).await;
    assert!(ok && out.contains(common::ACCOUNT), "{out}");

    let log: Vec<(String, String, String)> = h
        .store
        .audit_entries(None)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| (e.actor, e.action, e.target))
        .collect();
    let by_command_line: Vec<(&str, &str)> = log
        .iter()
        .filter(|(actor, _, _)| actor == "command line")
        .map(|(_, action, target)| (action.as_str(), target.as_str()))
        .collect();
    assert_eq!(
        by_command_line,
        [
            ("retry", "S-1"),
            ("confirm", "S-2"),
            ("account_disable", common::ACCOUNT)
        ]
    );
}

/// An edit that points an account at another address must carry its credentials
/// again: the stored ones are never sent where they were not entered for.
#[tokio::test]
async fn moving_an_account_to_another_address_needs_its_credentials_again() {
    use shipback::actions::Actions;
    use shipback::audit::Actor;
    let h = harness().await;
    let actions = Actions::new(h.store.clone(), std::sync::Arc::new(Default::default()));
    let stored = shipback::accounts::summary(&h.account(common::ACCOUNT).await);
    let mut input = app::accounts::AccountInput::from_summary(&stored);
    input.api_base_url = "https://collector.example".into();
    let problems = actions
        .save_account(&Actor::CommandLine, &input)
        .await
        .unwrap();
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["client_secret", "refresh_token"]);
    let unchanged = h.account(common::ACCOUNT).await;
    assert_eq!(unchanged.api_base_url, stored.api_base_url);

    input.client_secret = "new secret".into();
    input.refresh_token = "Atzr|new".into();
    let problems = actions
        .save_account(&Actor::CommandLine, &input)
        .await
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let moved = h.account(common::ACCOUNT).await;
    assert_eq!(moved.api_base_url, "https://collector.example");
    assert_eq!(moved.credentials.refresh_token.expose(), "Atzr|new");
    let entry = h.store.audit_entries(Some(1)).await.unwrap().remove(0);
    assert_eq!(entry.action, "account_save");
    assert!(
        entry.detail.contains("addresses changed") && entry.detail.contains("collector.example"),
        "{}",
        entry.detail
    );
    assert!(!entry.detail.contains("Atzr"), "{}", entry.detail);
}
