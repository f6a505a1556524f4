//! The grid and its export at a million shipments: through the HTTP API of a running
//! `shipback serve`, side by side with the same queries run by the database's own shell
//! (`sqlite3`, or `psql` for PostgreSQL) on the same data.
//!
//!     cargo bench -p shipback --bench grid [-- SHIPMENTS [DATABASE_FILE]]
//!     SHIPBACK_TEST_DATABASE=postgres cargo bench -p shipback --bench grid [-- SHIPMENTS]
//!
//! The database is made once with `shipback generate` (1,000,000 shipments over 180
//! days) and kept for the next run: a file in the temporary folder, or the database
//! `shipback_grid_SHIPMENTS` on the server at `SHIPBACK_TEST_POSTGRES_URL` (default:
//! the local one). Not a test: it prints a table that docs/benchmarks.md records. Needs
//! `sqlite3` or `psql` on PATH.
//!
//! - A page: the first page and a deep one (the page after the middle of the matches)
//!   of 50, each asked 100 times after 5 warm-ups, on one kept-alive connection;
//!   median and 99th percentile, with the total count as the grid gets it. Beside it,
//!   the shell's mean time for the same page query, and for `COUNT(*)` with the filters.
//! - The export: the whole CSV downloaded and thrown away; beside it `sqlite3 -csv`, or
//!   `psql -c "\copy (…) to stdout csv"`, writing the same columns in the same order to
//!   /dev/null; three rounds, the two in turn (the shell first in the middle one),
//!   compared by their medians. The server's
//!   memory growth is its peak resident size during an export (reset through
//!   /proc/PID/clear_refs) less its resident size before, the largest of the three.

#[path = "../tests/integration/common/database.rs"]
#[allow(dead_code)]
mod database;

use serde_json::Value;
use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_shipback");

/// A grid view: its URL query, and for the shell the filter and order in the SQL the
/// server runs (a unary `+` keeps SQLite walking the sort index, as the server does).
struct View {
    label: &'static str,
    query: &'static str,
    filter: &'static str,
    sort_column: &'static str,
    descending: bool,
}

const VIEWS: [View; 9] = [
    View {
        label: "no filter, newest first (the default)",
        query: "",
        filter: "1 = 1",
        sort_column: "s.ship_date",
        descending: true,
    },
    View {
        label: "Failed",
        query: "status=failed",
        filter: "s.status = 'failed'",
        sort_column: "s.ship_date",
        descending: true,
    },
    View {
        label: "Failed, by order id",
        query: "status=failed&sort=order_id",
        filter: "+s.status = 'failed'",
        sort_column: "s.order_id",
        descending: false,
    },
    View {
        label: "Retrying + Failed, by last attempt",
        query: "status=retrying&status=failed&sort=-last_attempt_at",
        filter: "+s.status IN ('retrying', 'failed')",
        sort_column: "s.last_attempt_at",
        descending: true,
    },
    View {
        label: "Success + Pending, by tracking number desc",
        query: "status=success&status=pending&sort=-tracking_number",
        filter: "+s.status IN ('success', 'pending')",
        sort_column: "s.tracking_number",
        descending: true,
    },
    View {
        label: "by carrier",
        query: "sort=carrier",
        filter: "1 = 1",
        sort_column: "s.carrier",
        descending: false,
    },
    View {
        label: "one account, Failed",
        query: "account=acme-us&status=failed",
        filter: "+s.account_key = 'acme-us' AND s.status = 'failed'",
        sort_column: "s.ship_date",
        descending: true,
    },
    View {
        label: "eBay, carrier UPS, by quantity",
        query: "marketplace=ebay&carrier=UPS&sort=-quantity",
        filter: "+s.account_key IN (SELECT key FROM accounts WHERE marketplace = 'ebay') \
                 AND +s.carrier = 'UPS'",
        sort_column: "s.quantity",
        descending: true,
    },
    View {
        label: "ship date in one month",
        query: "from=MONTH_START&to=MONTH_END",
        filter: "s.ship_date >= MONTH_START_MS AND s.ship_date < MONTH_END_MS",
        sort_column: "s.ship_date",
        descending: true,
    },
];

/// The stored columns the grid and the CSV show (the CSV's Deadline is worked out from
/// status, ship by and confirmed): the shell reads and writes what the server does.
const EXPORT_COLUMNS: &str = "s.shipment_id, s.order_id, s.account_key, a.display_name, \
    a.marketplace, s.carrier, s.service, s.tracking_number, s.quantity, s.ship_date, s.status, \
    s.error_count, s.last_attempt_at, s.next_attempt_at, s.last_error, s.updated_at, \
    s.ship_by, s.confirmed_at";

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The kept database the bench reads, and the shell that reads it beside the server.
enum Bench {
    Sqlite(PathBuf),
    Postgres { url: String, name: String },
}

impl Bench {
    fn new(shipments: u64, file: Option<&String>) -> Bench {
        if !database::on_postgres() {
            return Bench::Sqlite(file.map(PathBuf::from).unwrap_or_else(|| {
                std::env::temp_dir().join(format!("shipback-grid-{shipments}.db"))
            }));
        }
        let name = format!("shipback_grid_{shipments}");
        let mut url = url::Url::parse(&database::postgres_server_url()).unwrap();
        url.set_path(&name);
        Bench::Postgres {
            url: url.to_string(),
            name,
        }
    }

    fn url(&self) -> String {
        match self {
            Bench::Sqlite(file) => format!("sqlite://{}", file.display()),
            Bench::Postgres { url, .. } => url.clone(),
        }
    }

    fn key_path(&self) -> PathBuf {
        match self {
            Bench::Sqlite(file) => file.with_extension("key"),
            Bench::Postgres { name, .. } => std::env::temp_dir().join(format!("{name}.key")),
        }
    }

    /// Whether the data of an earlier run is there; on PostgreSQL, the database is
    /// made empty when it is not.
    fn has_data(&self) -> bool {
        match self {
            Bench::Sqlite(file) => file.exists(),
            Bench::Postgres { url, name } => {
                let count = Command::new("psql")
                    .args(["-tAq", url, "-c", "SELECT count(*) FROM shipments"])
                    .stderr(Stdio::null())
                    .output()
                    .expect("psql on PATH");
                let rows: u64 = String::from_utf8_lossy(&count.stdout)
                    .trim()
                    .parse()
                    .unwrap_or(0);
                if rows == 0 {
                    let server = database::postgres_server_url();
                    for sql in [
                        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                        format!("CREATE DATABASE {name}"),
                    ] {
                        let status = Command::new("psql")
                            .args(["-q", &server, "-c", &sql])
                            .status()
                            .unwrap();
                        assert!(status.success(), "psql: {sql}");
                    }
                }
                rows > 0
            }
        }
    }

    /// The server's filter as the shell is given it: SQLite's unary `+` (keep walking
    /// the sort index) is not PostgreSQL's.
    fn filter(&self, view: &View) -> String {
        match self {
            Bench::Sqlite(_) => view.filter.to_string(),
            Bench::Postgres { .. } => view.filter.replace('+', ""),
        }
    }

    /// The mean time of `sql` in the shell: a script that runs it `runs` times, less
    /// the same script running `SELECT 1`, over the number of runs.
    fn time_query(&self, sql: &str, runs: usize) -> Duration {
        let run = |statement: &str| {
            let (mut command, quiet) = match self {
                Bench::Sqlite(file) => {
                    let mut command = Command::new("sqlite3");
                    command.arg(file);
                    (command, ".output /dev/null")
                }
                Bench::Postgres { url, .. } => {
                    let mut command = Command::new("psql");
                    command.args(["-q", "-v", "ON_ERROR_STOP=1", url]);
                    (command, "\\o /dev/null")
                }
            };
            let script = format!("{quiet}\n{}", format!("{statement};\n").repeat(runs));
            let started = Instant::now();
            let mut child = command
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .expect("the database's shell on PATH");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(script.as_bytes())
                .unwrap();
            assert!(
                child.wait().unwrap().success(),
                "the shell failed on {statement}"
            );
            started.elapsed()
        };
        let with = run(sql);
        let without = run("SELECT 1");
        with.saturating_sub(without) / runs as u32
    }

    /// The shell writing the rows of `sql` as CSV, with a header, to /dev/null.
    fn export(&self, sql: &str) -> Duration {
        let mut command = match self {
            Bench::Sqlite(file) => {
                let mut command = Command::new("sqlite3");
                command.args(["-csv", "-header"]).arg(file).arg(sql);
                command
            }
            Bench::Postgres { url, .. } => {
                let mut command = Command::new("psql");
                command.args([
                    url.as_str(),
                    "-c",
                    &format!("\\copy ({sql}) to stdout csv header"),
                ]);
                command
            }
        };
        let started = Instant::now();
        let status = command.stdout(Stdio::null()).status().unwrap();
        assert!(status.success(), "the shell's export failed");
        started.elapsed()
    }

    fn shell(&self) -> &'static str {
        match self {
            Bench::Sqlite(_) => "sqlite3",
            Bench::Postgres { .. } => "psql",
        }
    }
}

/// The key that seals the generated accounts' credentials, made once.
fn key_file(bench: &Bench) -> PathBuf {
    let path = bench.key_path();
    if !path.exists() {
        let status = Command::new(BIN)
            .args(["keys", "generate", "--out"])
            .arg(&path)
            .stdout(Stdio::null())
            .status()
            .expect("run shipback keys generate");
        assert!(status.success(), "shipback keys generate failed");
    }
    path
}

fn generate(bench: &Bench, shipments: u64) {
    println!("Generating {shipments} shipments into {} …", bench.url());
    let status = Command::new(BIN)
        .args([
            "generate",
            "--shipments",
            &shipments.to_string(),
            "--days",
            "180",
        ])
        .arg("--database-url")
        .arg(bench.url())
        .arg("--secret-key-file")
        .arg(key_file(bench))
        .env("SHIPBACK_LOG", "warn")
        .status()
        .expect("run shipback generate");
    assert!(status.success(), "shipback generate failed");
    if let Bench::Postgres { url, .. } = bench {
        // What an operator does after a bulk load: without it, until autovacuum comes
        // round, the planner has no statistics and every index entry costs a visit to
        // the table (measured: 220 ms for a first page instead of 2 ms).
        let status = Command::new("psql")
            .args(["-q", url, "-c", "VACUUM ANALYZE"])
            .status()
            .expect("psql on PATH");
        assert!(status.success(), "VACUUM ANALYZE failed");
    }
}

/// The API wants a `read` token: a fresh one for this run, made by the CLI.
fn client_with_read_token(bench: &Bench) -> reqwest::Client {
    let url = bench.url();
    // A token left by an earlier run is revoked first; "no such token" is fine.
    let _ = Command::new(BIN)
        .args(["token", "revoke", "grid-bench", "--database-url", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let created = Command::new(BIN)
        .args([
            "token",
            "create",
            "grid-bench",
            "--scope",
            "read",
            "--database-url",
            &url,
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("run shipback token create");
    assert!(created.status.success(), "shipback token create failed");
    let token = String::from_utf8(created.stdout)
        .unwrap()
        .trim()
        .to_string();
    shipback::tokens::client_with_token(&token)
}

async fn start_server(bench: &Bench, http: &reqwest::Client) -> Server {
    let port = free_port();
    let child = Command::new(BIN)
        .args([
            "serve",
            "--no-worker",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--database-url")
        .arg(bench.url())
        .arg("--secret-key-file")
        .arg(key_file(bench))
        .env("SHIPBACK_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start shipback serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    // A database made by an older build is migrated first (new indexes: minutes).
    let deadline = Instant::now() + Duration::from_secs(600);
    while Instant::now() < deadline {
        let probe = http.get(format!("{}/api/v1/shipments?limit=1", server.base));
        if probe.send().await.is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("shipback serve did not answer within ten minutes");
}

async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    let response = http.get(url).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Median and 99th percentile of 100 requests, after 5 warm-ups.
async fn time_requests(http: &reqwest::Client, url: &str) -> (Duration, Duration) {
    for _ in 0..5 {
        get_json(http, url).await;
    }
    let mut times = Vec::with_capacity(100);
    for _ in 0..100 {
        let started = Instant::now();
        let response = http.get(url).send().await.unwrap();
        let body = response.bytes().await.unwrap();
        times.push(started.elapsed());
        assert!(!body.is_empty());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn resident_kb(pid: u32, field: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The view's `MONTH_*` placeholders, for a month well inside the generated spread.
fn with_month(text: &str) -> String {
    let end = chrono::Utc::now().date_naive() - chrono::Days::new(60);
    let start = end - chrono::Days::new(30);
    let start_ms = start
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    let end_ms = end
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    text.replace("MONTH_START_MS", &start_ms.to_string())
        .replace("MONTH_END_MS", &end_ms.to_string())
        .replace("MONTH_START", &format!("{start}T00:00:00Z"))
        .replace("MONTH_END", &format!("{end}T00:00:00Z"))
}

fn page_sql(bench: &Bench, view: &View, after_shipment: Option<&str>) -> String {
    let dir = if view.descending { "DESC" } else { "ASC" };
    let op = if view.descending { "<" } else { ">" };
    let keyset = after_shipment
        .map(|id| {
            format!(
                " AND ({col}, s.id) {op} (SELECT {bare}, id FROM shipments WHERE shipment_id = '{id}')",
                col = view.sort_column,
                bare = view.sort_column.trim_start_matches("s."),
            )
        })
        .unwrap_or_default();
    with_month(&format!(
        "SELECT {EXPORT_COLUMNS} FROM shipments s JOIN accounts a ON a.id = s.account_id \
         WHERE {}{keyset} ORDER BY {} {dir}, s.id {dir} LIMIT 50",
        bench.filter(view),
        view.sort_column
    ))
}

/// The cursor of the page after the middle of the view's matches (at most 100,000 in),
/// and the last shipment before it.
async fn deep_cursor(
    http: &reqwest::Client,
    base: &str,
    query: &str,
    total: u64,
) -> (String, String) {
    let target = (total / 2).min(100_000);
    let mut cursor: Option<String> = None;
    let mut seen = 0;
    let mut last_id = String::new();
    while seen < target.max(1000) {
        let mut url = format!("{base}/api/v1/shipments?{query}&limit=1000");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page = get_json(http, &url).await;
        let items = page["items"].as_array().unwrap();
        seen += items.len() as u64;
        last_id = items.last().unwrap()["shipment_id"]
            .as_str()
            .unwrap()
            .to_string();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    (
        cursor.expect("the view has more than one page of 1,000"),
        last_id,
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let shipments: u64 = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let bench = Bench::new(shipments, args.get(1));
    if !bench.has_data() {
        generate(&bench, shipments);
    }
    let http = client_with_read_token(&bench);
    let server = start_server(&bench, &http).await;
    let base = server.base.clone();
    let all = get_json(&http, &format!("{base}/api/v1/shipments?limit=1")).await;
    println!("{} shipments in {}\n", all["total"], bench.url());

    let shell = bench.shell();
    println!("| view | matches | API first page (median / p99) | API deep page (median / p99) | {shell} page | {shell} deep page | {shell} COUNT(*) |");
    println!("|---|---|---|---|---|---|---|");
    for view in &VIEWS {
        let query = with_month(view.query);
        let separator = if query.is_empty() { "" } else { "&" };
        let first_url = format!("{base}/api/v1/shipments?{query}{separator}limit=50");
        let total = get_json(&http, &first_url).await["total"].as_u64().unwrap();
        let (first_median, first_p99) = time_requests(&http, &first_url).await;
        let (cursor, last_id) =
            deep_cursor(&http, &base, &format!("{query}{separator}"), total).await;
        let deep_url = format!("{first_url}&cursor={cursor}");
        let (deep_median, deep_p99) = time_requests(&http, &deep_url).await;
        let shell_first = bench.time_query(&page_sql(&bench, view, None), 50);
        let shell_deep = bench.time_query(&page_sql(&bench, view, Some(&last_id)), 50);
        // The shell's best count: no `+`, so it may seek by any filter.
        let count_sql = with_month(&format!(
            "SELECT COUNT(*) FROM shipments s WHERE {}",
            view.filter.replace('+', "")
        ));
        let shell_count = bench.time_query(&count_sql, 10);
        println!(
            "| {} | {total} | {} / {} | {} / {} | {} | {} | {} |",
            view.label,
            ms(first_median),
            ms(first_p99),
            ms(deep_median),
            ms(deep_p99),
            ms(shell_first),
            ms(shell_deep),
            ms(shell_count),
        );
    }

    // Three rounds, the API and the shell in turn: one run of either moves by a
    // third from one run to the next on a 2-core machine, the shell's as much as ours.
    println!(
        "\n| export | rows | API, 3 runs | {shell}, 3 runs | API / {shell}, medians | server memory growth (largest) |"
    );
    println!("|---|---|---|---|---|---|");
    let pid = server.child.id();
    for view in [&VIEWS[0], &VIEWS[1]] {
        let dir = if view.descending { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {EXPORT_COLUMNS} FROM shipments s JOIN accounts a ON a.id = s.account_id \
             WHERE {} ORDER BY {} {dir}, s.id {dir}",
            bench.filter(view),
            view.sort_column
        );
        let (mut api, mut shells, mut growth, mut rows) = (Vec::new(), Vec::new(), 0, None);
        for round in 0..3 {
            // The shell first in the middle round: neither side always runs second.
            if round == 1 {
                shells.push(bench.export(&with_month(&sql)));
            }
            let before_kb = resident_kb(pid, "VmRSS:");
            // Resets the peak resident size, so VmHWM is the peak of this export alone.
            fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
            let started = Instant::now();
            let mut response = http
                .get(format!("{base}/api/v1/shipments/export.csv?{}", view.query))
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success());
            let mut lines = 0u64;
            while let Some(chunk) = response.chunk().await.unwrap() {
                lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            }
            api.push(started.elapsed());
            growth = growth.max(resident_kb(pid, "VmHWM:").saturating_sub(before_kb));
            let listed = lines.saturating_sub(1);
            assert_eq!(*rows.get_or_insert(listed), listed, "the exports differ");
            if round != 1 {
                shells.push(bench.export(&with_month(&sql)));
            }
        }
        let rows = rows.unwrap_or_default();
        let runs = |times: &[Duration]| {
            let text: Vec<String> = times
                .iter()
                .map(|t| format!("{:.2}", t.as_secs_f64()))
                .collect();
            format!("{} s", text.join(" / "))
        };
        let median = |times: &mut Vec<Duration>| {
            times.sort();
            times[times.len() / 2]
        };
        let ratio =
            median(&mut api.clone()).as_secs_f64() / median(&mut shells.clone()).as_secs_f64();
        println!(
            "| {} | {} | {} | {} | {:.2}× | {:.1} MB |",
            view.label,
            rows,
            runs(&api),
            runs(&shells),
            ratio,
            growth as f64 / 1024.0,
        );
    }
}
