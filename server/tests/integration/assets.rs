//! Bytes on the wire: the site's files go as the Brotli or gzip copy made at build
//! time, under their build's name and kept for good (or, under their plain name,
//! revalidated on a return visit); pages and answers are compressed on the fly; event
//! streams are not.

use crate::common;
use crate::people::{dashboard, dashboard_on};
use std::io::Read;

use app::people::Role;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, IF_MODIFIED_SINCE, LAST_MODIFIED,
};
use reqwest::StatusCode;
use shipback::people::http::SessionConfig;
use std::time::Duration;

#[tokio::test]
async fn site_files_go_precompressed_and_answers_compressed_on_the_fly() {
    let d = dashboard(SessionConfig {
        idle: Duration::from_secs(600),
        secure_cookie: false,
    })
    .await;
    let pkg = d.database.dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let script = "console.log('shipback');\n".repeat(200);
    std::fs::write(pkg.join("shipback.js"), &script).unwrap();
    // What `cargo leptos build --precompress` writes beside it (its bytes do not matter
    // to the server, which sends them as they are).
    std::fs::write(pkg.join("shipback.js.br"), b"brotli bytes").unwrap();
    std::fs::write(pkg.join("shipback.js.gz"), b"gzip bytes").unwrap();
    let get = |path: &str, encoding: &str| {
        d.http
            .get(format!("{}{path}", d.base))
            .header(ACCEPT_ENCODING, encoding)
    };

    let br = get("/pkg/shipback.js", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(br.status(), StatusCode::OK);
    assert_eq!(br.headers()[CONTENT_ENCODING], "br");
    assert_eq!(br.headers()[CACHE_CONTROL], "no-cache");
    let modified = br.headers()[LAST_MODIFIED].clone();
    assert_eq!(br.bytes().await.unwrap().as_ref(), b"brotli bytes");
    let gz = get("/pkg/shipback.js", "gzip").send().await.unwrap();
    assert_eq!(gz.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(gz.bytes().await.unwrap().as_ref(), b"gzip bytes");
    let plain = get("/pkg/shipback.js", "identity").send().await.unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(plain.text().await.unwrap(), script);
    // A return visit downloads nothing: the copy it has is still good.
    let again = get("/pkg/shipback.js", "br")
        .header(IF_MODIFIED_SINCE, modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());

    // A page, compressed on the fly.
    let cookie = d.sign_in(Role::Viewer).await;
    let page = get("/", "br")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[CONTENT_ENCODING], "br");
    // A streamed answer, compressed to its end: the whole CSV export.
    let station = common::authorized_client(&d.store).await;
    let shipments: Vec<serde_json::Value> = (0..30)
        .map(|n| {
            serde_json::json!({
                "shipment_id": format!("Z-{n}"), "account": common::ACCOUNT,
                "order_id": format!("113-{n:07}-0000001"), "carrier": "UPS", "service": "Ground",
                "tracking_number": format!("1Z{n:08}"), "ship_date": "2026-11-25T14:02:00Z",
                "items": [{"order_item_id": format!("{n}01"), "quantity": 1}]
            })
        })
        .collect();
    let posted = station
        .post(format!("{}/api/v1/shipments", d.base))
        .json(&shipments)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    let export = station
        .get(format!("{}/api/v1/shipments/export.csv", d.base))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(export.headers()[CONTENT_ENCODING], "gzip");
    let mut csv = String::new();
    flate2::read::GzDecoder::new(&export.bytes().await.unwrap()[..])
        .read_to_string(&mut csv)
        .unwrap();
    assert!(csv.starts_with("Shipment ID,"), "{csv}");
    assert_eq!(csv.lines().count(), 31, "the export arrived whole: {csv}");
    // The event streams are not: each event must arrive when it is written.
    let events = get("/api/v1/status/events", "gzip, br")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    assert!(events.headers().get(CONTENT_ENCODING).is_none());
}

#[tokio::test]
async fn pages_ask_for_the_sites_files_by_build_and_browsers_keep_them_for_good() {
    let database = common::database::TestDatabase::new().await;
    let pkg = database.dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    for (file, bytes) in [
        ("shipback.js", "export default function init() {}\n"),
        ("shipback.js.br", "brotli bytes"),
        ("shipback.wasm", "\0asm"),
        ("shipback.css", "body { margin: 0 }\n"),
    ] {
        std::fs::write(pkg.join(file), bytes).unwrap();
    }
    let d = dashboard_on(
        database,
        SessionConfig {
            idle: Duration::from_secs(600),
            secure_cookie: false,
        },
    )
    .await;
    let get = |path: &str, encoding: &str| {
        d.http
            .get(format!("{}{path}", d.base))
            .header(ACCEPT_ENCODING, encoding)
    };
    let cookie = d.sign_in(Role::Viewer).await;
    let page = d.page("/", &cookie).await;
    let start = page.find("/build/").expect("the page names the build");
    let root = &page[start..start + "/build/".len() + 16];
    assert!(
        root["/build/".len()..]
            .chars()
            .all(|c| c.is_ascii_hexdigit()),
        "{root}"
    );
    for file in ["shipback.js", "shipback.wasm", "shipback.css"] {
        assert!(
            page.contains(&format!("\"{root}/pkg/{file}\"")),
            "the page asks for {file} under {root}: {page}"
        );
    }
    assert!(
        !page.contains("\"/pkg/"),
        "no file under its plain name: {page}"
    );

    let js = get(&format!("{root}/pkg/shipback.js"), "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert_eq!(js.headers()[CONTENT_ENCODING], "br");
    assert_eq!(
        js.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(js.bytes().await.unwrap().as_ref(), b"brotli bytes");
    let css = get(&format!("{root}/pkg/shipback.css"), "identity")
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        css.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    // What is not there must not be remembered as missing past the next deploy.
    let missing = get(&format!("{root}/pkg/split_nothing.wasm"), "identity")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()[CACHE_CONTROL], "no-store");
    // A page of another build, open in a browser across a deploy, gets no file that
    // would not match it.
    let other = get("/build/0123456789abcdef/pkg/shipback.js", "identity")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert_eq!(other.headers()[CACHE_CONTROL], "no-store");
    assert!(other.text().await.unwrap().contains("reload the page"));
}

/// The probes a load balancer polls: `/healthz` while the process answers, `/readyz`
/// once the database is current and the site's files are there, each naming what is not.
#[tokio::test]
async fn the_readiness_probe_names_what_is_missing() {
    let d = dashboard(SessionConfig {
        idle: Duration::from_secs(600),
        secure_cookie: false,
    })
    .await;
    let get = |path: &str| d.http.get(format!("{}{path}", d.base)).send();
    let health = get("/healthz").await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok");

    // No compiled site yet: the API answers, but no page would load.
    let unready = get("/readyz").await.unwrap();
    assert_eq!(unready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = unready.json().await.unwrap();
    assert_eq!(body["ready"], false);
    assert_eq!(body["checks"][0]["name"], "database");
    assert_eq!(body["checks"][0]["ok"], true);
    assert_eq!(body["checks"][1]["name"], "site");
    assert!(
        body["checks"][1]["problem"]
            .as_str()
            .unwrap()
            .contains("shipback.js is missing"),
        "{body}"
    );

    let pkg = d.database.dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("shipback.js"), "export default 1;").unwrap();
    std::fs::write(pkg.join("shipback.wasm"), b"\0asm").unwrap();
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["ready"],
        true
    );
}
