//! Several instances on one PostgreSQL, as separate processes: two `shipback serve
//! --no-worker` and three `shipback worker`, shipments over five accounts, the emulator
//! enforcing the usage plans, and workers killed with SIGKILL and started again while
//! the queue drains. Every shipment ends Success, each order holds one package, no
//! answer 429 was earned, and both dashboards' event streams saw the changes.
//!
//! `SHIPBACK_INSTANCES_SHIPMENTS` sets the number of shipments (300 by default, which
//! the usage plans let through in about 30 s; the 5,000 take about 9 minutes).

use crate::common;

use common::database::on_postgres;
use common::{add_account, free_port, harness, Harness};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A `shipback` process, killed (SIGKILL) when dropped.
struct Process {
    child: Child,
    log: std::path::PathBuf,
}

impl Process {
    fn start(h: &Harness, name: &str, args: &[&str]) -> Process {
        let log = std::env::temp_dir().join(format!(
            "shipback-instances-{}-{name}.log",
            std::process::id()
        ));
        let child = Command::new(env!("CARGO_BIN_EXE_shipback"))
            .args(args)
            .args(["--database-url", &h.database_url])
            .env("SHIPBACK_SECRET_KEY", h.secret_key.to_base64())
            .env("SHIPBACK_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("the shipback binary starts");
        Process { child, log }
    }

    fn worker(h: &Harness, name: &str) -> Process {
        Process::start(
            h,
            name,
            &[
                "worker",
                "--worker-name",
                name,
                "--no-sync",
                "--lease",
                "10s",
                "--attempt-timeout",
                "3s",
                "--idle-poll",
                "20ms",
                "--retry-base-delay",
                "200ms",
            ],
        )
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Signs in on the dashboard at `base` once it answers; the session cookie.
async fn sign_in(base: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = http
            .post(format!("{base}/login"))
            .form(&[
                ("name", "supervisor"),
                ("password", PASSWORD),
                ("next", "/"),
            ])
            .send()
            .await;
        if let Ok(response) = answer {
            assert_eq!(response.status(), 303, "sign-in at {base}");
            let cookie = response.headers()["set-cookie"].to_str().unwrap();
            return cookie.split(';').next().unwrap().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the dashboard at {base} never answered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const PASSWORD: &str = "a supervisor's long password";

/// Counts the `shipments` events a dashboard's stream sends to a signed-in page.
fn watch_events(base: String, cookie: String) -> Arc<AtomicUsize> {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let http = reqwest::Client::new();
    tokio::spawn(async move {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut response = loop {
            let request = http
                .get(format!("{base}/api/v1/events/shipments"))
                .header("cookie", &cookie);
            match request.send().await {
                Ok(r) if r.status() == 200 => break r,
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                other => panic!("the dashboard at {base} never answered: {other:?}"),
            }
        };
        while let Ok(Some(chunk)) = response.chunk().await {
            let text = String::from_utf8_lossy(&chunk);
            counter.fetch_add(text.matches("event: shipments").count(), Ordering::Relaxed);
        }
    });
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_dashboards_and_three_workers_killed_and_restarted_on_one_postgresql() {
    if !on_postgres() {
        eprintln!("skipped here: needs PostgreSQL; the PostgreSQL pass of scripts/test.sh runs it");
        return;
    }
    let total: u32 = std::env::var("SHIPBACK_INSTANCES_SHIPMENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let h = harness().await;
    let mut accounts = vec![common::ACCOUNT.to_string()];
    for n in 2..=5 {
        let key = format!("seller-{n}");
        add_account(&h.store, &key, &h.emulator_url).await;
        accounts.push(key);
    }

    let dashboards: Vec<(Process, String)> = (0..2)
        .map(|n| {
            let bind = format!("127.0.0.1:{}", free_port());
            let process = Process::start(
                &h,
                &format!("serve-{n}"),
                &[
                    "serve",
                    "--no-worker",
                    "--bind",
                    &bind,
                    "--site-root",
                    "/nonexistent",
                ],
            );
            (process, format!("http://{bind}"))
        })
        .collect();
    shipback::people::add_user(&h.store, "supervisor", PASSWORD, app::people::Role::Viewer)
        .await
        .unwrap();
    // One sign-in, on the first dashboard: the session is in the database, so the
    // second dashboard knows it too.
    let cookie = sign_in(&dashboards[0].1).await;
    let events: Vec<Arc<AtomicUsize>> = dashboards
        .iter()
        .map(|(_, base)| watch_events(base.clone(), cookie.clone()))
        .collect();
    // Each stream sends one event as it opens.
    let deadline = Instant::now() + Duration::from_secs(30);
    while events.iter().any(|seen| seen.load(Ordering::Relaxed) == 0) {
        assert!(
            Instant::now() < deadline,
            "a dashboard's stream never opened: {}",
            dashboards[0].0.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let opened: Vec<usize> = events.iter().map(|e| e.load(Ordering::Relaxed)).collect();

    let mut orders = Vec::new();
    let mut shipments = Vec::new();
    for n in 0..total {
        let (order, mut shipment) = h.order(20_000 + n);
        shipment["account"] = Value::from(accounts[n as usize % accounts.len()].clone());
        orders.push(order);
        shipments.push(shipment);
    }
    h.emulator.add_orders(orders);
    for chunk in shipments.chunks(1000) {
        assert_eq!(h.post(&Value::Array(chunk.to_vec())).await.0, 200);
    }
    h.emulator.enforce_limits(true);

    let mut workers: Vec<Process> = (0..3)
        .map(|n| Process::worker(&h, &format!("w{n}")))
        .collect();
    // While the queue drains: kill a worker every few seconds and start it again.
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60 + u64::from(total) / 5);
    let mut kills = 0;
    let mut next_kill = started + Duration::from_secs(4);
    while h.open_count().await > 0 {
        assert!(
            Instant::now() < deadline,
            "shipments still open; a worker's log:\n{}",
            workers[0].log()
        );
        if Instant::now() >= next_kill && kills < 6 {
            let victim = kills % 3;
            workers[victim].kill();
            workers[victim] = Process::worker(&h, &format!("w{victim}-{kills}"));
            kills += 1;
            next_kill = Instant::now() + Duration::from_secs(3);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    println!("{total} shipments over 5 accounts, 3 workers, {kills} kills: {elapsed:?}");
    assert!(kills >= 2, "the run ended before the kills tested anything");

    let counts: HashMap<_, _> = h.store.status_counts().await.unwrap().into_iter().collect();
    assert_eq!(
        counts.get(&app::shipments::WritebackStatus::Success),
        Some(&u64::from(total)),
        "{counts:?}"
    );
    // One package per order, however many calls a kill repeated.
    let mut packages: HashMap<String, HashSet<String>> = HashMap::new();
    for c in h.confirmations().await {
        packages
            .entry(c.order_id)
            .or_default()
            .insert(c.package_reference_id);
    }
    assert_eq!(packages.len(), total as usize, "every order confirmed");
    assert!(
        packages.values().all(|refs| refs.len() == 1),
        "an order holds two packages"
    );
    // Three workers together kept each account's usage plan.
    let throttled = h.throttled_calls().await;
    assert!(throttled.is_empty(), "429s earned: {throttled:?}");
    // Both dashboards told their pages, whichever worker wrote: waited for, not slept.
    let deadline = Instant::now() + Duration::from_secs(30);
    for (n, seen) in events.iter().enumerate() {
        while seen.load(Ordering::Relaxed) <= opened[n] {
            assert!(
                Instant::now() < deadline,
                "dashboard {n}'s stream saw no change"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    drop(dashboards);
}
