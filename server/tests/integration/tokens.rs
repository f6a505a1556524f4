//! The station API's bearer tokens: no token, a wrong one, a revoked one and one of the
//! wrong scope are refused; a token's use is recorded; the database never holds a token.

use crate::common;

use common::harness;
use reqwest::Method;
use serde_json::{json, Value};
use shipback::tokens::{create_token, TokenHash};

/// Every route of the station API that needs a token, with the scope it needs.
const GUARDED: [(&str, &str, &str); 7] = [
    ("POST", "/api/v1/shipments", "ingest"),
    ("GET", "/api/v1/shipments", "read"),
    ("GET", "/api/v1/shipments/S-1", "read"),
    ("GET", "/api/v1/shipments/export.csv", "read"),
    ("POST", "/api/v1/shipments/retry", "operate"),
    ("POST", "/api/v1/shipments/S-1/confirm", "operate"),
    // Served by the status feed; `health.rs` reads it with a token.
    ("GET", "/api/v1/status", "read"),
];

async fn call(h: &common::Harness, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{}{path}", h.api_url),
    );
    if let Some(token) = token {
        request = request.header("authorization", token);
    }
    if method == "POST" {
        request = request.json(&json!({}));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    if status == 401 {
        assert!(
            challenge.unwrap_or_default().starts_with("Bearer"),
            "{method} {path}: a 401 names the scheme"
        );
    }
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn token(h: &common::Harness, name: &str, scopes: &str) -> String {
    create_token(&h.store, name, scopes.parse().unwrap(), chrono::Utc::now())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_guarded_route_refuses_a_request_without_a_valid_token() {
    let h = harness().await;
    let (order, shipment) = h.order(1);
    h.emulator.add_orders(vec![order]);
    assert_eq!(h.post(&shipment).await.0, 200);
    let wrong = format!("Bearer {}", "sbk_".to_string() + &"A".repeat(43));
    for (method, path, _) in GUARDED {
        if path == "/api/v1/status" {
            continue;
        }
        for header in [
            None,
            Some("Bearer "),
            Some("Basic dXNlcjpwYXNz"),
            Some(wrong.as_str()),
        ] {
            let (status, body) = call(&h, method, path, header).await;
            assert_eq!(status, 401, "{method} {path} with {header:?}: {body}");
            assert!(body["error"].as_str().unwrap().contains("token"), "{body}");
        }
    }
    // Nothing was changed by the refused requests.
    assert_eq!(h.detail("S-1").await["status"], "pending");
}

#[tokio::test]
async fn a_token_without_the_scope_is_refused_with_403_and_the_scope_named() {
    let h = harness().await;
    let (order, shipment) = h.order(1);
    h.emulator.add_orders(vec![order]);
    assert_eq!(h.post(&shipment).await.0, 200);
    for (scope, other) in [
        ("ingest", "read"),
        ("read", "operate"),
        ("operate", "ingest"),
    ] {
        let bearer = format!(
            "Bearer {}",
            token(&h, &format!("only-{other}"), other).await
        );
        for (method, path, needed) in GUARDED
            .iter()
            .filter(|(_, p, n)| *n == scope && *p != "/api/v1/status")
        {
            let (status, body) = call(&h, method, path, Some(&bearer)).await;
            assert_eq!(status, 403, "{method} {path} with an {other} token: {body}");
            let message = body["error"].as_str().unwrap();
            assert!(message.contains(&format!("'{needed}' scope")), "{message}");
            assert!(message.contains(&format!("only-{other}")), "{message}");
        }
    }
    // A read token cannot post: the refused shipment was not stored.
    let read = format!("Bearer {}", token(&h, "reader", "read").await);
    let (_, mut second) = h.order(2);
    second["shipment_id"] = json!("S-2");
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/shipments", h.api_url))
        .header("authorization", &read)
        .json(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let (status, _) = call(&h, "GET", "/api/v1/shipments/S-2", Some(&read)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_once_and_use_is_recorded() {
    let h = harness().await;
    let bearer = format!("Bearer {}", token(&h, "monitor", "read").await);
    let before = h.store.tokens().await.unwrap();
    let monitor = before.iter().find(|t| t.name == "monitor").unwrap();
    assert_eq!(monitor.last_used_at, None);

    assert_eq!(
        call(&h, "GET", "/api/v1/shipments", Some(&bearer)).await.0,
        200
    );
    let used = h.store.tokens().await.unwrap();
    let monitor = used.iter().find(|t| t.name == "monitor").unwrap();
    assert!(monitor.last_used_at.is_some(), "the use is recorded");

    assert!(h
        .store
        .revoke_token("monitor", chrono::Utc::now())
        .await
        .unwrap());
    assert_eq!(
        call(&h, "GET", "/api/v1/shipments", Some(&bearer)).await.0,
        401
    );
    // Revoking twice says there was nothing left to revoke.
    assert!(!h
        .store
        .revoke_token("monitor", chrono::Utc::now())
        .await
        .unwrap());
    // The name can be given to a new token; the old one stays refused.
    let renewed = format!("Bearer {}", token(&h, "monitor", "read").await);
    assert_eq!(
        call(&h, "GET", "/api/v1/shipments", Some(&renewed)).await.0,
        200
    );
    assert_eq!(
        call(&h, "GET", "/api/v1/shipments", Some(&bearer)).await.0,
        401
    );
}

#[tokio::test]
async fn the_database_keeps_only_a_hash_of_each_token() {
    let h = harness().await;
    let secret = token(&h, "station-1", "ingest").await;
    assert!(secret.starts_with("sbk_") && secret.len() > 40, "{secret}");
    // A second live token under the same name is refused.
    let taken = create_token(
        &h.store,
        "station-1",
        "read".parse().unwrap(),
        chrono::Utc::now(),
    )
    .await;
    assert!(taken.unwrap_err().to_string().contains("exists already"));

    // Everything a copy of the database holds.
    let bytes = common::database::stored_bytes(&h.database_url).await;
    let contains = |needle: &[u8]| common::database::holds(&bytes, needle);
    assert!(
        !contains(secret.as_bytes()),
        "the token itself is not stored"
    );
    assert!(!contains(&secret.as_bytes()[4..20]), "nor a part of it");
    assert!(contains(TokenHash::of(&secret).as_bytes()), "its hash is");
}

/// The dashboard's copy of the export is for a signed-in browser: a token, even one
/// that may read, does not open it (`people.rs` signs in and downloads it).
#[tokio::test]
async fn the_dashboards_export_path_takes_a_session_not_a_token() {
    let h = harness().await;
    let (status, _) = h.get(app::shipments::DASHBOARD_EXPORT_PATH).await;
    assert_eq!(status, 401);
    let (status, _) = h.get("/api/v1/shipments/export.csv").await;
    assert_eq!(status, 200);
}

/// The OpenAPI document is public, but only a caller who may post shipments learns the
/// registered account keys from it.
#[tokio::test]
async fn the_openapi_document_lists_the_accounts_to_an_ingest_token_only() {
    let h = harness().await;
    let account_enum = |doc: &Value| {
        doc["components"]["schemas"]["Shipment"]["properties"]["account"]["enum"].clone()
    };
    let (status, anonymous) = call(&h, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(account_enum(&anonymous), Value::Null);
    assert_eq!(
        anonymous["components"]["schemas"]["Shipment"]["properties"]["account"]["type"],
        "string"
    );

    let reader = format!("Bearer {}", token(&h, "reader", "read").await);
    let (_, as_reader) = call(&h, "GET", "/api/v1/openapi.json", Some(&reader)).await;
    assert_eq!(account_enum(&as_reader), Value::Null);

    let station = format!("Bearer {}", token(&h, "station", "ingest").await);
    let (_, as_station) = call(&h, "GET", "/api/v1/openapi.json", Some(&station)).await;
    assert_eq!(account_enum(&as_station), json!([common::ACCOUNT]));
}
