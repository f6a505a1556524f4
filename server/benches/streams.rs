//! Many open dashboards: STREAMS signed-in event streams (half `shipments`, half
//! `status`) held open against one `shipback serve --no-worker` process, while this
//! bench posts shipments and writes them back (through the worker, to the emulator) on
//! the same SQLite database, one change at a time with quiet in between.
//!
//!     cargo bench -p shipback --bench streams [-- STREAMS [ROUNDS]]
//!
//! Prints, for each kind of change, how long until every `shipments` stream had an
//! event (p50 and worst over the rounds; target: within 1 s), the server's resident
//! memory per open stream, and what it costs when every page then re-reads its grid
//! (STREAMS concurrent `GET /api/v1/shipments?limit=50`, the query a page's refresh
//! makes): the time until the last answer, and the answers' p50 and p99.
//! Not a test: it prints figures; docs/benchmarks.md records them.

use app::people::Role;
use chrono::Utc;
use shipback::accounts::{Credentials, MarketplaceKind, NewAccount};
use shipback::emulator::{Emulator, NewOrder, NewOrderItem};
use shipback::marketplaces::{ClientConfig, Marketplaces};
use shipback::secrets::{Keyring, SecretKey};
use shipback::shipments::NewShipment;
use shipback::store::Store;
use shipback::worker::{Worker, WorkerConfig};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench password for streams";
/// Long enough for the feed's 200 ms poll and 500 ms gap to pass twice.
const QUIET: Duration = Duration::from_millis(1500);

/// The server under measure, killed at the end.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn resident_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(values: &mut [Duration], share: f64) -> Duration {
    values.sort();
    let rank = ((values.len() as f64 * share).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

fn shipment(n: usize) -> (NewOrder, NewShipment) {
    let order_id = format!("111-{n:07}-0000001");
    (
        NewOrder {
            marketplace: "amazon".into(),
            order_id: order_id.clone(),
            marketplace_id: "ATVPDKIKX0DER".into(),
            seller: String::new(),
            purchase_date: None,
            ship_by: None,
            status: None,
            items: vec![NewOrderItem {
                order_item_id: format!("{n}01"),
                sku: "SKU-A".into(),
                quantity: 1,
                item_number: None,
                title: None,
            }],
        },
        NewShipment {
            shipment_id: format!("ST-{n:07}"),
            account: "bench".into(),
            order_id,
            carrier: "UPS".into(),
            service: "Ground".into(),
            tracking_number: format!("1Z{n:016}"),
            ship_date: Utc::now(),
            items: vec![app::shipments::ShipmentItem {
                order_item_id: format!("{n}01"),
                sku: Some("SKU-A".into()),
                quantity: 1,
            }],
        },
    )
}

async fn run(streams: usize, rounds: usize) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/shipback.db", dir.path().display());
    let key = SecretKey::generate();
    let store = Store::open(&url)
        .await
        .unwrap()
        .with_keyring(Keyring::new(key.clone()));
    let emulator = Emulator::default();
    emulator.enforce_limits(false);
    let emulator_url = format!(
        "http://{}",
        emulator
            .serve("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
    );
    store
        .upsert_account(&NewAccount {
            key: "bench".into(),
            marketplace: MarketplaceKind::Amazon,
            display_name: "Bench".into(),
            company: "Bench".into(),
            enabled: true,
            marketplace_id: "ATVPDKIKX0DER".into(),
            region: "na".into(),
            api_base_url: emulator_url.clone(),
            auth_base_url: emulator_url,
            credentials: Credentials {
                client_id: "amzn1.application-oa2-client.bench".into(),
                client_secret: "s".into(),
                refresh_token: "Atzr|bench".into(),
            },
            writeback_api: String::new(),
        })
        .await
        .unwrap();
    // A grid worth reading: a few thousand shipments already there.
    let (orders, backlog): (Vec<_>, Vec<_>) = (0..5_000).map(shipment).unzip();
    emulator.add_orders(orders);
    for chunk in backlog.chunks(1000) {
        store.ingest(chunk).await.unwrap();
    }
    // Written back before the pages open, as a day's work would be.
    let worker = Worker::new(
        store.clone(),
        Marketplaces::new(&ClientConfig {
            rate_limits: false,
            ..ClientConfig::default()
        }),
        WorkerConfig::default(),
        Arc::new(tokio::sync::Notify::new()),
    );
    while worker.run_batch().await.unwrap().claimed > 0 {}
    shipback::people::add_user(&store, "floor", PASSWORD, Role::Viewer)
        .await
        .unwrap();
    let token =
        shipback::tokens::create_token(&store, "bench", "read".parse().unwrap(), Utc::now())
            .await
            .unwrap();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_shipback"))
            .args(["serve", "--no-worker", "--database-url", &url])
            .args([
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--site-root",
                "/nonexistent",
            ])
            .env("SHIPBACK_SECRET_KEY", key.to_base64())
            .env("SHIPBACK_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = server.0.id();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(streams * 2)
        .build()
        .unwrap();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let signed_in = http
        .post(format!("{base}/login"))
        .form(&[("name", "floor"), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    tokio::time::sleep(QUIET).await;
    let before_kb = resident_kb(pid);

    // Each stream notes when it received each event.
    let seen: Arc<Vec<Mutex<Vec<Instant>>>> =
        Arc::new((0..streams).map(|_| Mutex::new(Vec::new())).collect());
    let opened = Arc::new(tokio::sync::Semaphore::new(0));
    for s in 0..streams {
        let path = if s % 2 == 0 {
            "/api/v1/events/shipments"
        } else {
            "/api/v1/status/events"
        };
        let request = http
            .get(format!("{base}{path}"))
            .header("cookie", &cookie)
            .header("accept", "text/event-stream");
        let (seen, opened) = (seen.clone(), opened.clone());
        tokio::spawn(async move {
            let mut response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            opened.add_permits(1);
            // An event carries data; a keep-alive is a comment, and does not count.
            while let Ok(Some(chunk)) = response.chunk().await {
                if String::from_utf8_lossy(&chunk).contains("data:") {
                    seen[s].lock().unwrap().push(Instant::now());
                }
            }
        });
    }
    let all = opened.acquire_many(streams as u32).await.unwrap();
    drop(all);
    tokio::time::sleep(QUIET).await;
    let open_kb = resident_kb(pid);
    println!(
        "{streams} streams open: server resident {} MB -> {} MB, {:.1} KB per stream",
        before_kb / 1024,
        open_kb / 1024,
        (open_kb.saturating_sub(before_kb)) as f64 / streams as f64
    );

    let reader = shipback::tokens::client_with_token(&token);
    let (orders, fresh): (Vec<_>, Vec<_>) = (5_000..5_000 + rounds).map(shipment).unzip();
    emulator.add_orders(orders);
    let mut posted = Vec::new();
    let mut written = Vec::new();
    let mut storm_total = Vec::new();
    let mut storm_answers = Vec::new();
    let mut status_total = Vec::new();
    let mut status_answers = Vec::new();
    let shipment_streams: Vec<usize> = (0..streams).step_by(2).collect();
    // How long after `since` the last shipments stream got its first event.
    let every_stream_saw = |since: Instant| {
        let deadline = since + Duration::from_secs(10);
        let seen = seen.clone();
        let streams = shipment_streams.clone();
        async move {
            loop {
                let firsts: Vec<Option<Instant>> = streams
                    .iter()
                    .map(|s| {
                        seen[*s]
                            .lock()
                            .unwrap()
                            .iter()
                            .copied()
                            .find(|t| *t >= since)
                    })
                    .collect();
                if firsts.iter().all(Option::is_some) {
                    return firsts.into_iter().flatten().max().unwrap() - since;
                }
                assert!(
                    Instant::now() < deadline,
                    "a stream saw no event within 10 s"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    for new in fresh {
        let since = Instant::now();
        store.ingest(std::slice::from_ref(&new)).await.unwrap();
        posted.push(every_stream_saw(since).await);
        tokio::time::sleep(QUIET).await;

        let since = Instant::now();
        let report = worker.run_batch().await.unwrap();
        assert_eq!(report.attempted, 1);
        written.push(every_stream_saw(since).await);

        // Every open page re-reads its grid after the event (and, on a status event,
        // the connection status).
        for (path, totals, answers) in [
            (
                "/api/v1/shipments?limit=50&sort=-ship_date",
                &mut storm_total,
                &mut storm_answers,
            ),
            ("/api/v1/status", &mut status_total, &mut status_answers),
        ] {
            let started = Instant::now();
            let reads = (0..streams).map(|_| {
                let reader = reader.clone();
                let url = format!("{base}{path}");
                async move {
                    let asked = Instant::now();
                    let answer = reader.get(url).send().await.unwrap();
                    assert_eq!(answer.status(), 200);
                    answer.bytes().await.unwrap();
                    asked.elapsed()
                }
            });
            answers.extend(futures::future::join_all(reads).await);
            totals.push(started.elapsed());
            tokio::time::sleep(QUIET).await;
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for (what, times) in [
        ("shipment posted", &mut posted),
        ("write-back recorded", &mut written),
    ] {
        println!(
            "{what}: every shipments stream had its event after p50 {:.0} ms, worst {:.0} ms ({rounds} rounds)",
            ms(percentile(times, 0.5)),
            ms(percentile(times, 1.0))
        );
    }
    println!(
        "grid re-read by {streams} pages at once: all answered after p50 {:.0} ms, worst {:.0} ms; one answer p50 {:.0} ms, p99 {:.0} ms",
        ms(percentile(&mut storm_total, 0.5)),
        ms(percentile(&mut storm_total, 1.0)),
        ms(percentile(&mut storm_answers, 0.5)),
        ms(percentile(&mut storm_answers, 0.99))
    );
    println!(
        "status re-read by {streams} pages at once: all answered after p50 {:.0} ms, worst {:.0} ms; one answer p50 {:.0} ms, p99 {:.0} ms",
        ms(percentile(&mut status_total, 0.5)),
        ms(percentile(&mut status_total, 1.0)),
        ms(percentile(&mut status_answers, 0.5)),
        ms(percentile(&mut status_answers, 0.99))
    );
    println!(
        "server resident after the rounds: {} MB",
        resident_kb(pid) / 1024
    );
    drop(server);
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let streams = args.first().copied().unwrap_or(1_000).max(2);
    let rounds = args.get(1).copied().unwrap_or(10).max(1);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(streams, rounds));
}
