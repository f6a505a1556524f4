//! The forgery check and the security headers, on a router of their own.

use axum::routing::{get, post};
use axum::Router;

async fn serve() -> String {
    let router = shipback::web::security::harden(
        Router::new()
            .route("/change", post(|| async { "changed" }))
            .route("/read", get(|| async { "read" })),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("127.0.0.1:{}", addr.port())
}

#[tokio::test]
async fn a_state_changing_request_from_another_site_is_refused() {
    let host = serve().await;
    let http = reqwest::Client::new();
    let change = |origin: Option<&str>, fetch_site: Option<&str>| {
        let mut request = http.post(format!("http://{host}/change"));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };

    // The dashboard's own page, and a script or station that sends no Origin.
    let same = format!("http://{host}");
    assert_eq!(
        change(Some(&same), Some("same-origin"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(change(None, None).await.unwrap().status(), 200);

    for (origin, site) in [
        (Some("http://evil.example"), None),
        (Some("null"), None),
        (Some("http://127.0.0.1:1"), None),
        (None, Some("cross-site")),
    ] {
        let response = change(origin, site).await.unwrap();
        assert_eq!(response.status(), 403, "{origin:?} {site:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["error"]
            .as_str()
            .unwrap()
            .starts_with("Cross-site request refused"));
    }

    // Reading is never refused: a link from another site opens the dashboard.
    let read = http
        .get(format!("http://{host}/read"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let host = serve().await;
    let response = reqwest::get(format!("http://{host}/read")).await.unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}
