//! `shipback serve --log-format json` as a real process at debug level: every line is a
//! JSON object; a request's lines carry its id, which comes back in `x-request-id`;
//! each write-back attempt is a line with the shipment, account, API, revision and
//! outcome; no token, password, credential or key reaches any line.

use crate::common::{harness, run_shipback};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple 7";

#[tokio::test]
async fn json_logs_follow_a_request_and_an_attempt_and_hold_no_secret() {
    let h = harness().await;
    let key = h.secret_key.to_base64();
    let envs = [("SHIPBACK_SECRET_KEY", key.as_str())];
    let url = h.database_url.as_str();
    let (ok, _, err) = run_shipback(
        &[
            "user",
            "add",
            "ops",
            "--role",
            "operator",
            "--database-url",
            url,
        ],
        &envs,
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert!(ok, "{err}");
    let (ok, out, err) = run_shipback(
        &[
            "token",
            "create",
            "station-9",
            "--scope",
            "ingest,read",
            "--database-url",
            url,
        ],
        &envs,
        "",
    )
    .await;
    assert!(ok, "{err}");
    let token = out
        .split_whitespace()
        .find(|word| word.len() > 30)
        .expect("the new token is printed")
        .to_string();

    let port = crate::common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = std::env::temp_dir().join(format!("shipback-json-{}.log", std::process::id()));
    let mut serve = Command::new(env!("CARGO_BIN_EXE_shipback"))
        .args([
            "serve",
            "--database-url",
            url,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--site-root", "/nonexistent/site", "--log-format", "json"])
        .args(["--no-rate-limits", "--no-sync", "--idle-poll", "20ms"])
        .env("SHIPBACK_SECRET_KEY", &key)
        .env("SHIPBACK_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "serve did not start:\n{}",
            log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The station's id is kept and sent back; a request without one gets a new one.
    let (order, shipment) = h.order(1);
    h.emulator.add_orders(vec![order]);
    let posted = http
        .post(format!("{base}/api/v1/shipments"))
        .bearer_auth(&token)
        .header("x-request-id", "station-9-batch-0042")
        .json(&Value::Array(vec![shipment.clone()]))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    assert_eq!(posted.headers()["x-request-id"], "station-9-batch-0042");
    let fresh = http.get(format!("{base}/healthz")).send().await.unwrap();
    let fresh_id = fresh.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(fresh_id.len(), 36, "a UUID: {fresh_id}");
    // A refused sign-in and a good one: the password must not be logged either way.
    for password in ["wrong-password-xyz", PASSWORD] {
        http.post(format!("{base}/login"))
            .form(&[("name", "ops"), ("password", password), ("next", "/")])
            .send()
            .await
            .unwrap();
    }

    let shipment_id = shipment["shipment_id"].as_str().unwrap().to_string();
    while h.open_count().await > 0 {
        assert!(
            Instant::now() < deadline,
            "not written back:\n{}",
            log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopped = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert!(serve.wait().unwrap().success(), "{}", log_text());

    let text = log_text();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.iter().any(|l| l["level"] == "DEBUG"), "debug level");
    let of_request = |id: &str| {
        lines
            .iter()
            .filter(|l| l["span"]["request_id"] == id)
            .collect::<Vec<_>>()
    };
    let station = of_request("station-9-batch-0042");
    assert!(
        station
            .iter()
            .any(|l| l["span"]["path"] == "/api/v1/shipments" && l["status"] == 200),
        "the answer's line carries the station's id: {station:?}"
    );
    assert!(!of_request(&fresh_id).is_empty());
    let attempt = lines
        .iter()
        .find(|l| l["message"] == "write-back attempt" && l["shipment"] == shipment_id.as_str())
        .unwrap_or_else(|| panic!("no attempt line:\n{text}"));
    assert_eq!(attempt["account"], crate::common::ACCOUNT);
    assert_eq!(attempt["api"], "writeback");
    assert_eq!(attempt["revision"], 0);
    assert_eq!(attempt["outcome"], "success");
    assert_eq!(attempt["status"], "success");

    for secret in [
        token.as_str(),
        PASSWORD,
        "wrong-password-xyz",
        &format!("Atzr|test-{}", crate::common::ACCOUNT),
        "client_secret=secret",
        key.as_str(),
    ] {
        assert!(
            !text.contains(secret),
            "a log line holds a secret: {secret}"
        );
    }
}
