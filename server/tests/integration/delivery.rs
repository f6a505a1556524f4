//! Delivery guarantees, per write-back API (Amazon confirmShipment, eBay Trading
//! CompleteSale, eBay Fulfillment createShippingFulfillment): an answer lost after the
//! marketplace applied the call is read back, never sent again; a correction never
//! races a call in flight; results survive a database that is locked past its busy
//! timeout; a disabled account or one whose credentials cannot be read waits, costs
//! the others nothing, and goes on when mended. `docs/writeback.md` names these tests.

use crate::common;
use crate::ebay::{add_ebay_account, assert_once_each, ebay_order, ebay_shipment};

use common::{harness, Harness, ACCOUNT};
use serde_json::{json, Value};
use shipback::actions::Actions;
use shipback::audit::Actor;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// The three write-back APIs.
#[derive(Clone, Copy, Debug)]
enum WritebackApi {
    Amazon,
    Trading,
    Fulfillment,
}

const EVERY_API: [WritebackApi; 3] = [
    WritebackApi::Amazon,
    WritebackApi::Trading,
    WritebackApi::Fulfillment,
];

impl WritebackApi {
    fn marketplace(self) -> &'static str {
        match self {
            WritebackApi::Amazon => "amazon",
            _ => "ebay",
        }
    }

    /// The emulator's name of the write-back call.
    fn call(self) -> &'static str {
        match self {
            WritebackApi::Amazon => "amazon.confirmShipment",
            WritebackApi::Trading => "ebay.CompleteSale",
            WritebackApi::Fulfillment => "ebay.createShippingFulfillment",
        }
    }

    /// Write-back calls one shipment takes (CompleteSale goes line by line).
    fn calls_per_shipment(self) -> usize {
        match self {
            WritebackApi::Trading => 2,
            _ => 1,
        }
    }
}

/// A shipment of an order the emulator has, on an account of `api`: its id, order id
/// and body as posted.
struct Posted {
    shipment_id: String,
    order_id: String,
    body: Value,
}

async fn post_for(h: &Harness, api: WritebackApi, n: u32) -> Posted {
    let body = match api {
        WritebackApi::Amazon => {
            let (order, shipment) = h.order(n);
            h.emulator.add_orders(vec![order]);
            shipment
        }
        WritebackApi::Trading | WritebackApi::Fulfillment => {
            if h.store.account_by_key("gadget").await.unwrap().is_none() {
                let which = match api {
                    WritebackApi::Trading => "trading",
                    _ => "fulfillment",
                };
                add_ebay_account(h, "gadget", which).await;
            }
            h.emulator.add_orders(vec![ebay_order(n)]);
            ebay_shipment(n, "gadget")
        }
    };
    let (status, answer) = h.post(&body).await;
    assert_eq!(status, 200, "{answer}");
    Posted {
        shipment_id: body["shipment_id"].as_str().unwrap().to_string(),
        order_id: body["order_id"].as_str().unwrap().to_string(),
        body,
    }
}

/// How many calls named `call` the emulator answered.
async fn calls(h: &Harness, call: &str) -> usize {
    h.emulator_get("/_emulator/calls").await["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["api"] == call)
        .count()
}

/// The packages the marketplace holds for the order.
async fn packages(h: &Harness, order_id: &str) -> Vec<Value> {
    h.emulator_get(&format!("/_emulator/orders/{order_id}"))
        .await["packages"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_lost_answer_is_read_back_and_never_sent_twice() {
    let lost_forms = [
        json!({"lost_answer": true}),
        json!({"lost_answer": true, "forced_status": 504}),
    ];
    for api in EVERY_API {
        for lost in &lost_forms {
            let h = harness().await;
            let posted = post_for(&h, api, 31).await;
            let mut fault = lost.clone();
            fault["marketplace"] = json!(api.marketplace());
            fault["api"] = json!("writeback");
            h.set_faults(fault).await;
            let worker = h.worker("w1");
            worker.run_batch().await.unwrap();

            // The call took effect, but Shipback could not know: no attempt spent,
            // nothing sent again blindly.
            let detail = h.detail(&posted.shipment_id).await;
            assert_eq!(detail["status"], "pending", "{api:?} {lost}: {detail}");
            assert_eq!(detail["error_count"], 0, "{api:?} {lost}");
            assert_eq!(detail["waiting"], true, "{api:?} {lost}");
            assert_eq!(detail["attempts"][0]["number"], 0, "{api:?} {lost}");

            h.set_faults(json!({})).await;
            h.drain(&worker, Duration::from_secs(10)).await;
            let detail = h.detail(&posted.shipment_id).await;
            assert_eq!(detail["status"], "success", "{api:?} {lost}: {detail}");
            let attempts = detail["attempts"].as_array().unwrap();
            let last = attempts.last().unwrap();
            assert_eq!(last["outcome"], "success");
            if api.calls_per_shipment() == 1 {
                assert!(
                    last["error_message"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("confirmed at the marketplace on read-back"),
                    "{api:?} {lost}: {last}"
                );
            }
            // Each call the marketplace applied, once (CompleteSale's first call carries
            // the whole parcel, so a read-back may find it all there); one package,
            // with the tracking and every line.
            let confirmations = h.confirmations().await;
            assert_once_each(&confirmations);
            assert!(
                confirmations.len() <= api.calls_per_shipment(),
                "{api:?} {lost}: {} write-backs",
                confirmations.len()
            );
            assert_eq!(
                calls(&h, api.call()).await,
                confirmations.len(),
                "{api:?} {lost}: no second write-back"
            );
            let held = packages(&h, &posted.order_id).await;
            assert_eq!(held.len(), 1, "{api:?} {lost}: {held:?}");
            assert_eq!(held[0]["tracking_number"], posted.body["tracking_number"]);
            assert_eq!(held[0]["items"].as_array().unwrap().len(), 2, "{held:?}");
        }
    }
}

/// The shipment's lease owner, read from the database as an operator would.
async fn lease_owner(h: &Harness, shipment_id: &str) -> Option<String> {
    common::database::scalar_text(
        &h.database_url,
        &format!("SELECT lease_owner FROM shipments WHERE shipment_id = '{shipment_id}'"),
    )
    .await
}

#[tokio::test]
async fn a_correction_never_races_a_call_in_flight() {
    for api in EVERY_API {
        let h = harness().await;
        let posted = post_for(&h, api, 41).await;
        // The first revision's call is held by the marketplace for a while.
        h.set_faults(
            json!({"marketplace": api.marketplace(), "api": "writeback", "latency_ms": 1500}),
        )
        .await;
        let (first, second) = (h.worker("w1"), h.worker("w2"));
        let mut corrected = posted.body.clone();
        corrected["tracking_number"] = json!("1ZCORRECTED41");
        let racing = async {
            // Once w1 holds the shipment, the station posts the correction and a second
            // worker looks for due work at once.
            let deadline = Instant::now() + Duration::from_secs(10);
            while lease_owner(&h, &posted.shipment_id).await.as_deref() != Some("w1") {
                assert!(Instant::now() < deadline, "w1 never claimed the shipment");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let (status, answer) = h.post(&corrected).await;
            assert_eq!(status, 200, "{answer}");
            second.run_batch().await.unwrap()
        };
        let (in_flight, raced) = tokio::join!(first.run_batch(), racing);
        assert_eq!(
            in_flight.unwrap().stale,
            1,
            "{api:?}: w1's result is superseded"
        );
        assert_eq!(
            raced.claimed, 0,
            "{api:?}: w2 must not send while w1's call is out"
        );

        h.set_faults(json!({})).await;
        h.drain(&second, Duration::from_secs(10)).await;
        let detail = h.detail(&posted.shipment_id).await;
        assert_eq!(detail["status"], "success", "{api:?}: {detail}");
        assert_eq!(detail["tracking_number"], "1ZCORRECTED41");
        // The history says which revision each call carried.
        let attempts = detail["attempts"].as_array().unwrap();
        assert!(
            attempts
                .iter()
                .any(|a| a["revision"] == 0 && a["superseded"] == true && a["number"] == 0),
            "{api:?}: {attempts:?}"
        );
        let last = attempts.last().unwrap();
        assert_eq!(
            (last["revision"].as_u64(), last["number"].as_u64()),
            (Some(1), Some(1))
        );
        // The marketplace ends with the latest revision.
        let held = packages(&h, &posted.order_id).await;
        assert_eq!(held.len(), 1, "{api:?}: {held:?}");
        assert_eq!(
            held[0]["tracking_number"], "1ZCORRECTED41",
            "{api:?}: {held:?}"
        );
    }
}

/// A `sqlite3` process holding the database's write lock until dropped.
struct WriteLock {
    child: std::process::Child,
}

impl WriteLock {
    /// Takes the lock with `BEGIN IMMEDIATE` and returns once SQLite granted it.
    fn take(database_url: &str) -> WriteLock {
        let path = database_url.trim_start_matches("sqlite://");
        let mut child = Command::new("sqlite3")
            .arg(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the sqlite3 shell is needed (scripts/setup.sh installs it)");
        let stdin = child.stdin.as_mut().unwrap();
        writeln!(stdin, ".timeout 20000\nBEGIN IMMEDIATE;\nSELECT 'locked';").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "locked");
        WriteLock { child }
    }

    fn release(mut self) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "COMMIT;\n.quit").unwrap();
        stdin.flush().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ends every connection to the test's PostgreSQL database but this one, as a database
/// restart does.
async fn cut_connections(url: &str) {
    let name = url.rsplit('/').next().unwrap();
    common::database::execute(
        url,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ),
    )
    .await;
}

/// On SQLite, another process holds the write lock past the store's busy timeout; on
/// PostgreSQL, the store's connections are cut again and again (`pg_terminate_backend`).
#[tokio::test]
async fn results_are_kept_while_the_database_is_locked_past_its_busy_timeout() {
    let h = harness().await;
    for n in 51..=55 {
        post_for(&h, WritebackApi::Amazon, n).await;
    }
    // The calls take a while, so that the lock is taken while they are out.
    h.set_faults(json!({"api": "writeback", "latency_ms": 300}))
        .await;
    let worker = h.worker("w1");
    let locked = std::sync::Mutex::new(None);
    let locking = async {
        let deadline = Instant::now() + Duration::from_secs(10);
        while lease_owner(&h, "S-51").await.is_none() {
            assert!(Instant::now() < deadline, "the batch was never claimed");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        *locked.lock().unwrap() = Some(Instant::now());
        if common::database::on_postgres() {
            // PostgreSQL has no busy timeout to run out: its connections are cut
            // instead, again and again, while the results come in and for 3 s after.
            while calls(&h, "amazon.confirmShipment").await < 5 {
                cut_connections(&h.database_url).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let until = Instant::now() + Duration::from_secs(3);
            while Instant::now() < until {
                cut_connections(&h.database_url).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            return;
        }
        // Blocks this task only while sqlite3 starts and takes the lock.
        let lock = WriteLock::take(&h.database_url);
        // Held until every call was answered and the store's busy timeout (10 s) has
        // run out on the results' first write; then released.
        while calls(&h, "amazon.confirmShipment").await < 5 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_secs(12)).await;
        lock.release();
    };
    let (report, ()) = tokio::join!(worker.run_batch(), locking);
    let report = report.unwrap();
    assert!(locked.lock().unwrap().is_some());
    assert_eq!((report.claimed, report.attempted), (5, 5), "{report:?}");
    for n in 51..=55 {
        let detail = h.detail(&format!("S-{n}")).await;
        assert_eq!(detail["status"], "success", "{detail}");
        let attempts = detail["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 1, "recorded exactly once: {attempts:?}");
    }
    assert_eq!(
        calls(&h, "amazon.confirmShipment").await,
        5,
        "each sent once"
    );
    // Nothing is left to send again.
    h.drain(&worker, Duration::from_secs(10)).await;
    assert_eq!(calls(&h, "amazon.confirmShipment").await, 5);
}

fn actions(h: &Harness) -> Actions {
    Actions::new(h.store.clone(), Arc::new(Notify::new()))
}

#[tokio::test]
async fn a_disabled_accounts_queue_waits_and_resumes_when_enabled() {
    let h = harness().await;
    for n in 61..=63 {
        post_for(&h, WritebackApi::Amazon, n).await;
    }
    let actions = actions(&h);
    actions
        .set_account_enabled(&Actor::CommandLine, ACCOUNT, false)
        .await
        .unwrap();
    let worker = h.worker("w1");
    h.settle(&worker, Duration::from_secs(10)).await;
    assert_eq!(calls(&h, "amazon.confirmShipment").await, 0);
    let detail = h.detail("S-61").await;
    assert_eq!(detail["status"], "pending");
    assert_eq!(detail["waiting"], true);
    assert_eq!(detail["error_count"], 0);
    assert!(
        detail["last_error"]
            .as_str()
            .unwrap()
            .starts_with("Waiting: account acme-us is disabled"),
        "{detail}"
    );
    assert_eq!(h.get("/api/v1/status").await.1["waiting"], 3);

    actions
        .set_account_enabled(&Actor::CommandLine, ACCOUNT, true)
        .await
        .unwrap();
    h.drain(&worker, Duration::from_secs(10)).await;
    for n in 61..=63 {
        let detail = h.detail(&format!("S-{n}")).await;
        assert_eq!(detail["status"], "success", "{detail}");
        assert_eq!(detail["error_count"], 0);
    }
}

#[tokio::test]
async fn an_account_whose_credentials_cannot_be_read_waits_while_the_others_go_on() {
    let h = harness().await;
    common::add_account(&h.store, "broken", &h.emulator_url).await;
    // Its refresh token damaged in the database: it cannot be opened with any key.
    common::database::execute(
        &h.database_url,
        "UPDATE accounts SET refresh_token = 'enc:v1:damaged' WHERE key = 'broken'",
    )
    .await;
    for n in 71..=72 {
        post_for(&h, WritebackApi::Amazon, n).await;
    }
    let (order, mut shipment) = h.order(73);
    h.emulator.add_orders(vec![order]);
    shipment["account"] = json!("broken");
    assert_eq!(h.post(&shipment).await.0, 200);

    let worker = h.worker("w1");
    h.settle(&worker, Duration::from_secs(10)).await;
    for n in 71..=72 {
        assert_eq!(h.detail(&format!("S-{n}")).await["status"], "success");
    }
    let detail = h.detail("S-73").await;
    assert_eq!(detail["status"], "pending");
    assert_eq!(detail["waiting"], true);
    let reason = detail["last_error"].as_str().unwrap();
    assert!(
        reason.starts_with("Waiting: Shipback cannot read this account's credentials: "),
        "{reason}"
    );
    // The connection status shows the account Red with the reason, and the shipment
    // waiting behind its Writeback API.
    let board = h.get("/api/v1/status").await.1;
    let broken = board["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == "broken")
        .unwrap()
        .clone();
    assert!(broken["problem"]
        .as_str()
        .unwrap()
        .starts_with("Shipback cannot read this account's credentials: "));
    for api in broken["apis"].as_array().unwrap() {
        assert_eq!(api["health"], "red", "{api}");
        assert!(api["sentence"]
            .as_str()
            .unwrap()
            .starts_with("Shipback cannot read this account's credentials"));
    }
    let writeback = broken["apis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["api"] == "writeback")
        .unwrap();
    assert_eq!(writeback["waiting"], 1);

    // An admin enters the credentials again: the shipment goes on.
    let stored = h.store.account_by_key("broken").await.unwrap().unwrap();
    let mut input =
        app::accounts::AccountInput::from_summary(&shipback::accounts::summary(&stored));
    input.client_secret = "secret".into();
    input.refresh_token = "Atzr|test-broken".into();
    let problems = actions(&h)
        .save_account(&Actor::CommandLine, &input)
        .await
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    h.drain(&worker, Duration::from_secs(10)).await;
    assert_eq!(h.detail("S-73").await["status"], "success");
}

#[tokio::test]
async fn a_correction_of_the_carrier_alone_is_not_taken_for_the_revision_before() {
    let h = harness().await;
    let posted = post_for(&h, WritebackApi::Amazon, 81).await;
    let worker = h.worker("w1");
    h.drain(&worker, Duration::from_secs(10)).await;
    // The carrier is corrected, same tracking number; the call fails with a 503 that
    // may or may not have taken effect.
    h.set_faults(json!({"api": "writeback", "forced_status": 503}))
        .await;
    let mut corrected = posted.body.clone();
    corrected["carrier"] = json!("FedEx");
    assert_eq!(h.post(&corrected).await.0, 200);
    worker.run_batch().await.unwrap();
    assert_eq!(h.detail(&posted.shipment_id).await["waiting"], true);
    // Read back, Amazon still holds the first revision's package (UPS, same number):
    // that is not the correction, which is sent.
    h.set_faults(json!({})).await;
    h.drain(&worker, Duration::from_secs(10)).await;
    let held = packages(&h, &posted.order_id).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["carrier"], "FedEx", "{held:?}");
    let detail = h.detail(&posted.shipment_id).await;
    let last = detail["attempts"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["revision"], 1);
    assert!(
        last["error_message"].is_null(),
        "sent, not read back: {last}"
    );
}
