//! The `shipback` command: `serve`, `worker`, `emulator`, `demo` and `migrate`.

use crate::emulator::Emulator;
use crate::health::feed::StatusFeed;
use crate::health::monitored::Monitored;
use crate::health::webhook::WebhookConfig;
use crate::health::{HealthConfig, HealthMonitor, HealthThresholds};
use crate::marketplaces::{ClientConfig, Marketplaces};
use crate::shipments::http::ApiState;
use crate::shipments::live::ShipmentsFeed;
use crate::store::{Store, StoreError, DEFAULT_DATABASE_URL};
use crate::sync::{MarketplaceSync, SyncConfig};
use crate::web::{self, SiteConfig};
use crate::worker::{default_worker_name, RetryPolicy, Worker, WorkerConfig};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Parser, Debug)]
#[command(
    name = "shipback",
    version,
    about = "Writes shipments back to Amazon and other marketplaces, and shows how it goes.",
    long_about = "Shipback takes shipments from the shipping station (HTTP API), writes their \
                  tracking back to each marketplace account with a durable worker, and shows \
                  the write-back status in a live dashboard.\n\nEvery flag can also be given \
                  as the environment variable named beside it."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Dashboard, station API and write-back worker, in one process.
    Serve {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        web: WebArgs,
        #[command(flatten)]
        worker: WorkerArgs,
        #[command(flatten)]
        health: HealthArgs,
        /// Do not run a worker in this process (run `shipback worker` elsewhere).
        #[arg(long, env = "SHIPBACK_NO_WORKER")]
        no_worker: bool,
    },
    /// The write-back worker alone; run several against one database if you like.
    Worker {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        worker: WorkerArgs,
        #[command(flatten)]
        health: HealthArgs,
    },
    /// The marketplace emulator alone (Amazon's wire format, for tests and demos).
    Emulator {
        #[command(flatten)]
        emulator: EmulatorArgs,
    },
    /// Everything in one process, with demo accounts, shipments and faults: the emulator,
    /// the worker (with retries in seconds, not minutes), the API and the dashboard.
    Demo {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        web: WebArgs,
        #[command(flatten)]
        emulator: EmulatorArgs,
        #[command(flatten)]
        worker: WorkerArgs,
        #[command(flatten)]
        health: HealthArgs,
        /// Do not post a new demo shipment every few seconds.
        #[arg(long, env = "SHIPBACK_NO_TRICKLE")]
        no_trickle: bool,
        /// Do not run the worker (nor the sync) in this process: run `shipback worker`
        /// against the same database instead.
        #[arg(long, env = "SHIPBACK_NO_WORKER")]
        no_worker: bool,
    },
    /// Fills the database with synthetic shipments (accounts, carriers, outcomes and
    /// attempt histories, ship dates spread over months), for benchmarks and load tests.
    Generate {
        #[command(flatten)]
        db: DatabaseArgs,
        /// How many shipments to add.
        #[arg(long, default_value_t = 100_000)]
        shipments: u64,
        /// Ship dates are spread over this many days before today.
        #[arg(long, default_value_t = 180)]
        days: i64,
        /// Seed of the random choices: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        emulator: EmulatorArgs,
    },
    /// Applies pending database migrations and exits.
    Migrate {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// The key that seals marketplace credentials: make one, or move to a new one.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// People who sign in to the dashboard.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Bearer tokens for the station API: created here (shown once, stored hashed),
    /// listed and revoked.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Writes a new random key to a new file that only its owner can read.
    Generate {
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Reseals every account's credentials with the key in NEW_KEY_FILE. The current key
    /// comes from the usual place (--secret-key-file, SHIPBACK_SECRET_KEY, or beside the
    /// database). Afterwards, give the servers the new key.
    Rotate {
        #[arg(long)]
        new_key_file: std::path::PathBuf,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Adds a person, or resets their password and role. The password is asked for at
    /// the terminal (twice, not shown), or read from the first line of stdin when stdin
    /// is not a terminal; never from a flag, which would end up in the shell's history.
    Add {
        name: String,
        /// viewer (sees, exports), operator (also retries and confirms), admin.
        #[arg(long, default_value = "viewer")]
        role: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Lists everyone who can sign in, with their role.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Creates a token and prints it; this is the only time it is shown.
    Create {
        /// A name for whoever uses it, e.g. `station-1` or `grafana`.
        name: String,
        /// What it may do, comma-separated: ingest (post shipments), read (shipments,
        /// export, status), operate (retry, confirm).
        #[arg(long)]
        scope: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Lists every token: name, scopes, when it was created, last used and revoked.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Revokes a token: requests that carry it are refused from now on.
    Revoke {
        name: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Args, Debug)]
struct DatabaseArgs {
    /// Database URL: sqlite://PATH (the file and its folder are created if missing).
    #[arg(long, env = "SHIPBACK_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    /// File holding the key that seals marketplace credentials (base64 of 32 bytes).
    /// Without it: SHIPBACK_SECRET_KEY, else `secret.key` beside the database file.
    #[arg(long, env = "SHIPBACK_SECRET_KEY_FILE")]
    secret_key_file: Option<std::path::PathBuf>,
}

/// Whether a command needs the credentials' key.
#[derive(Clone, Copy, PartialEq)]
enum KeyNeed {
    /// It reads or writes marketplace credentials: no key, no start.
    Required,
    /// The demo: a key is made beside the database if there is none.
    MakeIfMissing,
    /// It touches no credentials; a key found is used to seal any left in the clear.
    Optional,
}

impl DatabaseArgs {
    /// Opens (and migrates) the database, with the credentials' keyring when there is
    /// a key; credentials still in the clear are sealed at once.
    async fn open(&self, need: KeyNeed) -> Result<Store, CliError> {
        use crate::secrets::{key_beside_database, load_key, Keyring, SecretError, SecretKey};
        let store = Store::open(&self.database_url).await?;
        let key = match load_key(self.secret_key_file.as_deref(), &self.database_url) {
            Ok(key) => key,
            Err(SecretError::NoKey) if need == KeyNeed::MakeIfMissing => {
                let path = key_beside_database(&self.database_url).ok_or(SecretError::NoKey)?;
                let key = SecretKey::generate();
                key.write_new_file(&path)?;
                eprintln!("made a new key for the credentials: {}", path.display());
                key
            }
            Err(SecretError::NoKey) if need == KeyNeed::Optional => return Ok(store),
            Err(e) => return Err(e.into()),
        };
        let store = store.with_keyring(Keyring::new(key));
        let sealed = store.reseal_credentials().await?;
        if sealed > 0 {
            tracing::info!(
                accounts = sealed,
                "sealed credentials that were in the clear"
            );
        }
        Ok(store)
    }
}

#[derive(Args, Debug)]
struct WebArgs {
    /// A dashboard session ends after this long without a request (e.g. 30m, 8h).
    #[arg(long, env = "SHIPBACK_SESSION_IDLE", default_value = "8h", value_parser = parse_duration)]
    session_idle: Duration,
    /// Mark the session cookie Secure: set this when the dashboard is reached over HTTPS.
    #[arg(long, env = "SHIPBACK_SECURE_COOKIE")]
    secure_cookie: bool,
    /// Address the dashboard and the station API listen on.
    #[arg(long, env = "SHIPBACK_BIND", default_value = "127.0.0.1:3000")]
    bind: SocketAddr,
    /// Folder holding the compiled site (wasm, JS, CSS), as built by cargo-leptos.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    site_root: String,
}

#[derive(Args, Debug)]
struct EmulatorArgs {
    /// Address the marketplace emulator listens on.
    #[arg(long, env = "SHIPBACK_EMULATOR_BIND", default_value = "127.0.0.1:3001")]
    emulator_bind: SocketAddr,
}

/// Worker tuning; each command has its own defaults (the demo retries in seconds).
#[derive(Args, Debug)]
struct WorkerArgs {
    /// Wait after a first failed attempt, doubled after each further one (e.g. 60s, 500ms).
    #[arg(long, env = "SHIPBACK_RETRY_BASE_DELAY", value_parser = parse_duration)]
    retry_base_delay: Option<Duration>,
    /// Longest wait between two attempts.
    #[arg(long, env = "SHIPBACK_RETRY_MAX_DELAY", value_parser = parse_duration)]
    retry_max_delay: Option<Duration>,
    /// How long a worker's claim lasts; a crashed worker's shipments are taken over after it.
    #[arg(long, env = "SHIPBACK_LEASE", value_parser = parse_duration)]
    lease: Option<Duration>,
    /// Upper bound of one write-back attempt; must be well under the lease.
    #[arg(long, env = "SHIPBACK_ATTEMPT_TIMEOUT", value_parser = parse_duration)]
    attempt_timeout: Option<Duration>,
    /// Shipments claimed per batch.
    #[arg(long, env = "SHIPBACK_BATCH_SIZE")]
    batch_size: Option<u32>,
    /// At most this many shipments of one account per batch.
    #[arg(long, env = "SHIPBACK_PER_ACCOUNT")]
    per_account: Option<u32>,
    /// Marketplace calls in flight at once.
    #[arg(long, env = "SHIPBACK_CONCURRENCY")]
    concurrency: Option<usize>,
    /// How often an idle worker looks for due shipments.
    #[arg(long, env = "SHIPBACK_IDLE_POLL", value_parser = parse_duration)]
    idle_poll: Option<Duration>,
    /// Do not pace calls to the marketplaces' documented rate limits (benchmarks against
    /// an emulator whose limits are off).
    #[arg(long, env = "SHIPBACK_NO_RATE_LIMITS")]
    no_rate_limits: bool,
    /// This worker's name in claims and the attempt history.
    #[arg(long, env = "SHIPBACK_WORKER_NAME")]
    worker_name: Option<String>,
    /// How often each account's orders are imported from the marketplace.
    #[arg(long, env = "SHIPBACK_IMPORT_EVERY", value_parser = parse_duration)]
    import_every: Option<Duration>,
    /// Do not import orders, read written-back orders back or fetch catalog data here.
    #[arg(long, env = "SHIPBACK_NO_SYNC")]
    no_sync: bool,
}

impl WorkerArgs {
    fn sync_config(&self, defaults: SyncConfig) -> Option<SyncConfig> {
        (!self.no_sync).then(|| SyncConfig {
            import_every: self.import_every.unwrap_or(defaults.import_every),
            ..defaults
        })
    }

    fn client_config(&self) -> ClientConfig {
        ClientConfig {
            rate_limits: !self.no_rate_limits,
            ..ClientConfig::default()
        }
    }

    fn config(&self, defaults: WorkerConfig) -> Result<WorkerConfig, CliError> {
        let config = WorkerConfig {
            name: self.worker_name.clone().unwrap_or(defaults.name),
            batch_size: self.batch_size.unwrap_or(defaults.batch_size).max(1),
            per_account: self.per_account.unwrap_or(defaults.per_account).max(1),
            concurrency: self.concurrency.unwrap_or(defaults.concurrency).max(1),
            lease: self.lease.unwrap_or(defaults.lease),
            attempt_timeout: self.attempt_timeout.unwrap_or(defaults.attempt_timeout),
            idle_poll: self.idle_poll.unwrap_or(defaults.idle_poll),
            retry: RetryPolicy {
                base_delay: self.retry_base_delay.unwrap_or(defaults.retry.base_delay),
                max_delay: self.retry_max_delay.unwrap_or(defaults.retry.max_delay),
                ..defaults.retry
            },
        };
        if config.attempt_timeout + Duration::from_secs(1) >= config.lease {
            return Err(CliError::Config(format!(
                "the lease ({:?}) must be longer than the attempt timeout ({:?}) plus a second",
                config.lease, config.attempt_timeout
            )));
        }
        Ok(config)
    }
}

/// The connection status's thresholds and webhook (README, "Connection status"); each
/// left out takes the default of [`HealthThresholds`].
#[derive(Args, Debug)]
struct HealthArgs {
    /// Calls older than this are not judged.
    #[arg(long, env = "SHIPBACK_HEALTH_WINDOW", value_parser = parse_duration)]
    health_window: Option<Duration>,
    /// At most this many of an API's latest calls are judged.
    #[arg(long, env = "SHIPBACK_HEALTH_WINDOW_CALLS")]
    health_window_calls: Option<usize>,
    /// An API with no call for this long is None (unknown).
    #[arg(long, env = "SHIPBACK_HEALTH_IDLE_AFTER", value_parser = parse_duration)]
    health_idle_after: Option<Duration>,
    /// Error rates are judged over at least this many calls.
    #[arg(long, env = "SHIPBACK_HEALTH_MIN_CALLS")]
    health_min_calls: Option<u32>,
    /// Share of failed calls (0 to 1) from which an API is Yellow.
    #[arg(long, env = "SHIPBACK_HEALTH_YELLOW_ERROR_RATE")]
    health_yellow_error_rate: Option<f64>,
    /// Share of failed calls (0 to 1) from which an API is Red.
    #[arg(long, env = "SHIPBACK_HEALTH_RED_ERROR_RATE")]
    health_red_error_rate: Option<f64>,
    /// This many failed calls in a row turn an API Red at once.
    #[arg(long, env = "SHIPBACK_HEALTH_RED_CONSECUTIVE_FAILURES")]
    health_red_consecutive_failures: Option<u32>,
    /// This many calls refused for rate in the window turn an API Yellow.
    #[arg(long, env = "SHIPBACK_HEALTH_YELLOW_THROTTLED")]
    health_yellow_throttled: Option<u32>,
    /// A call slower than this is slow.
    #[arg(long, env = "SHIPBACK_HEALTH_SLOW_CALL", value_parser = parse_duration)]
    health_slow_call: Option<Duration>,
    /// Share of slow calls (0 to 1) from which an API is Yellow.
    #[arg(long, env = "SHIPBACK_HEALTH_YELLOW_SLOW_RATE")]
    health_yellow_slow_rate: Option<f64>,
    /// URL that receives a JSON message when an API turns Red and when it recovers.
    #[arg(long, env = "SHIPBACK_STATUS_WEBHOOK")]
    status_webhook: Option<String>,
    /// Wait before the webhook's first retry, doubled before each further one (5 retries).
    #[arg(long, env = "SHIPBACK_STATUS_WEBHOOK_RETRY", value_parser = parse_duration)]
    status_webhook_retry: Option<Duration>,
}

impl HealthArgs {
    fn config(&self) -> Result<HealthConfig, CliError> {
        let d = HealthThresholds::default();
        let thresholds = HealthThresholds {
            window: self.health_window.unwrap_or(d.window),
            window_calls: self.health_window_calls.unwrap_or(d.window_calls).max(1),
            idle_after: self.health_idle_after.unwrap_or(d.idle_after),
            min_calls: self.health_min_calls.unwrap_or(d.min_calls).max(1),
            yellow_error_rate: self.health_yellow_error_rate.unwrap_or(d.yellow_error_rate),
            red_error_rate: self.health_red_error_rate.unwrap_or(d.red_error_rate),
            red_consecutive_failures: self
                .health_red_consecutive_failures
                .unwrap_or(d.red_consecutive_failures)
                .max(1),
            yellow_throttled: self
                .health_yellow_throttled
                .unwrap_or(d.yellow_throttled)
                .max(1),
            slow_call: self.health_slow_call.unwrap_or(d.slow_call),
            yellow_slow_rate: self.health_yellow_slow_rate.unwrap_or(d.yellow_slow_rate),
        };
        for (name, rate) in [
            ("--health-yellow-error-rate", thresholds.yellow_error_rate),
            ("--health-red-error-rate", thresholds.red_error_rate),
            ("--health-yellow-slow-rate", thresholds.yellow_slow_rate),
        ] {
            if !(rate > 0.0 && rate <= 1.0) {
                return Err(CliError::Config(format!(
                    "{name} is a share of calls: more than 0, at most 1 (got {rate})"
                )));
            }
        }
        if thresholds.yellow_error_rate >= thresholds.red_error_rate {
            return Err(CliError::Config(
                "--health-yellow-error-rate must be lower than --health-red-error-rate".into(),
            ));
        }
        if thresholds.idle_after.is_zero() || thresholds.window.is_zero() {
            return Err(CliError::Config(
                "--health-window and --health-idle-after must be longer than zero".into(),
            ));
        }
        let webhook = match &self.status_webhook {
            None => None,
            Some(url) => {
                let parsed = reqwest::Url::parse(url).map_err(|e| {
                    CliError::Config(format!("--status-webhook '{url}' is not a URL: {e}"))
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(CliError::Config(format!(
                        "--status-webhook '{url}' must be an http or https URL"
                    )));
                }
                let mut webhook = WebhookConfig::new(url.clone());
                if let Some(retry) = self.status_webhook_retry {
                    webhook.first_retry = retry;
                }
                Some(webhook)
            }
        };
        Ok(HealthConfig {
            thresholds,
            webhook,
            ..HealthConfig::default()
        })
    }
}

/// Worker settings for the demo: failures are retried within seconds so that a visitor
/// sees shipments go from Retrying to Success or Failed.
fn demo_worker_defaults() -> WorkerConfig {
    WorkerConfig {
        name: default_worker_name(),
        batch_size: 20,
        per_account: 10,
        concurrency: 8,
        lease: Duration::from_secs(60),
        attempt_timeout: Duration::from_secs(20),
        idle_poll: Duration::from_millis(250),
        retry: RetryPolicy {
            base_delay: Duration::from_secs(3),
            max_delay: Duration::from_secs(30),
            ..RetryPolicy::default()
        },
    }
}

/// How often the dashboard looks for a changed connection status to push to open pages.
const STATUS_FEED_POLL: Duration = Duration::from_millis(250);
/// How often it looks for changed shipments, and the least time between two pushes.
const SHIPMENTS_FEED_POLL: Duration = Duration::from_millis(200);
const SHIPMENTS_FEED_GAP: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Token(#[from] crate::tokens::TokenError),
    #[error("there is no live token named '{0}'")]
    NoSuchToken(String),
    #[error(transparent)]
    People(#[from] crate::people::PeopleError),
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    #[error("cannot read the password: {0}")]
    Password(String),
}

/// Reads `500ms`, `2s`, `5m`, `1h`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration; examples: 500ms, 2s, 5m, 1h"))?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        other => return Err(format!("unknown unit '{other}'; use ms, s, m or h")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("'{text}': {e}"))
}

pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHIPBACK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,leptos=warn"));
    // Logs go to stderr, so that stdout carries only what a command prints for the user.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

async fn listen(addr: SocketAddr) -> Result<tokio::net::TcpListener, CliError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| CliError::Bind { addr, source })
}

async fn serve_emulator(emulator: &Emulator, addr: SocketAddr) -> Result<SocketAddr, CliError> {
    emulator
        .serve(addr)
        .await
        .map_err(|source| CliError::Bind { addr, source })
}

/// The write-back worker and, unless turned off, the marketplace sync; they share the
/// clients, so that both keep within one set of per-account rate limits. The health
/// monitor sees every call the clients make.
async fn spawn_worker(
    store: &Store,
    client: &ClientConfig,
    config: WorkerConfig,
    sync: Option<SyncConfig>,
    health: HealthConfig,
    wake: Arc<Notify>,
) -> Result<tokio::task::JoinHandle<()>, CliError> {
    let monitor = HealthMonitor::load(store, health).await?;
    let marketplaces =
        Marketplaces::new(client).map(|adapter| Monitored::wrap(adapter, monitor.clone()));
    let monitor = tokio::spawn(monitor.run(store.clone(), shutdown_signal()));
    let sync = sync.map(|config| {
        let sync = MarketplaceSync::new(store.clone(), marketplaces.clone(), config);
        tokio::spawn(sync.run(shutdown_signal()))
    });
    let worker = Worker::new(store.clone(), marketplaces, config, wake);
    Ok(tokio::spawn(async move {
        worker.run(shutdown_signal()).await;
        if let Some(sync) = sync {
            let _ = sync.await;
        }
        let _ = monitor.await;
    }))
}

async fn serve_web(
    store: &Store,
    web: &WebArgs,
    health: &HealthConfig,
    wake: Arc<Notify>,
) -> Result<(), CliError> {
    let site = SiteConfig {
        site_root: web.site_root.clone(),
        bind: web.bind,
    };
    web::check_site(&site).map_err(CliError::Config)?;
    let status = StatusFeed::spawn(
        store.clone(),
        health.thresholds.idle_after,
        STATUS_FEED_POLL,
    );
    let shipments = ShipmentsFeed::spawn(store, SHIPMENTS_FEED_POLL, SHIPMENTS_FEED_GAP).await?;
    let router = web::router(
        &site,
        ApiState {
            store: store.clone(),
            wake,
        },
        status.clone(),
        shipments.clone(),
        &crate::people::http::SessionConfig {
            idle: web.session_idle,
            secure_cookie: web.secure_cookie,
        },
    );
    let listener = listen(web.bind).await?;
    tracing::info!("dashboard and API on http://{}", web.bind);
    // Expired sessions are deleted hourly; they are refused at once regardless.
    tokio::spawn(
        tower_sessions::ExpiredDeletion::continuously_delete_expired(
            store.session_store(),
            Duration::from_secs(3600),
        ),
    );
    // The peer's address, for slowing down repeated wrong passwords per address.
    let router = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Open pages hold event streams; end them, or shutdown would wait for them.
            status.close();
            shipments.close();
        })
        .await
        .map_err(CliError::Serve)
}

async fn run_keys_command(action: KeysCommand) -> Result<(), CliError> {
    use crate::secrets::{load_key, Keyring, SecretKey};
    match action {
        KeysCommand::Generate { out } => {
            let key = SecretKey::generate();
            key.write_new_file(&out)?;
            println!("key {} written to {}", key.id(), out.display());
        }
        KeysCommand::Rotate { new_key_file, db } => {
            let old = load_key(db.secret_key_file.as_deref(), &db.database_url)?;
            let new = SecretKey::read_file(&new_key_file)?;
            let store = Store::open(&db.database_url)
                .await?
                .with_keyring(Keyring::new(new.clone()).with_previous(old.clone()));
            let resealed = store.reseal_credentials().await?;
            let detail = format!("from key {} to key {}", old.id(), new.id());
            crate::audit::record(
                &store,
                crate::audit::COMMAND_LINE,
                "",
                "keys_rotate",
                "credentials",
                &detail,
                "local",
            )
            .await;
            println!("{resealed} accounts resealed {detail}; give the servers the new key now");
        }
    }
    Ok(())
}

async fn run_user_command(action: UserCommand) -> Result<(), CliError> {
    use std::io::IsTerminal;
    match action {
        UserCommand::Add { name, role, db } => {
            let role = app::people::Role::parse(&role).ok_or_else(|| {
                CliError::Config(format!(
                    "unknown role '{role}': use viewer, operator or admin"
                ))
            })?;
            let password = if std::io::stdin().is_terminal() {
                let first = rpassword::prompt_password(format!("Password for {name}: "))
                    .map_err(|e| CliError::Password(e.to_string()))?;
                let again = rpassword::prompt_password("The same again: ")
                    .map_err(|e| CliError::Password(e.to_string()))?;
                if first != again {
                    return Err(CliError::Password("the two passwords differ".into()));
                }
                first
            } else {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| CliError::Password(e.to_string()))?;
                line.trim_end_matches(['\r', '\n']).to_string()
            };
            let store = db.open(KeyNeed::Optional).await?;
            let added = crate::people::add_user(&store, &name, &password, role).await?;
            let what = if added { "added" } else { "updated" };
            let detail = format!("{what} as {}", role.as_str());
            crate::audit::record(
                &store,
                crate::audit::COMMAND_LINE,
                "",
                "user_add",
                &name,
                &detail,
                "local",
            )
            .await;
            println!("{name} ({}) {what}", role.as_str());
        }
        UserCommand::List { db } => {
            let store = db.open(KeyNeed::Optional).await?;
            println!("{:<32} {:<10} created", "name", "role");
            for user in store.users().await? {
                println!(
                    "{:<32} {:<10} {}",
                    user.name,
                    user.role.as_str(),
                    user.created_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
    }
    Ok(())
}

async fn run_token_command(action: TokenCommand) -> Result<(), CliError> {
    match action {
        TokenCommand::Create { name, scope, db } => {
            let scopes = scope.parse()?;
            let store = db.open(KeyNeed::Optional).await?;
            let token =
                crate::tokens::create_token(&store, &name, scopes, chrono::Utc::now()).await?;
            // The token alone on stdout, so that scripts can capture it.
            println!("{token}");
            eprintln!("token '{name}' ({scopes}) created; it will not be shown again");
        }
        TokenCommand::List { db } => {
            let store = db.open(KeyNeed::Optional).await?;
            let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_else(|| "-".to_string())
            };
            println!(
                "{:<24} {:<22} {:<20} {:<20} revoked",
                "name", "scopes", "created", "last used"
            );
            for t in store.tokens().await? {
                println!(
                    "{:<24} {:<22} {:<20} {:<20} {}",
                    t.name,
                    t.scopes.to_string(),
                    when(Some(t.created_at)),
                    when(t.last_used_at),
                    when(t.revoked_at)
                );
            }
        }
        TokenCommand::Revoke { name, db } => {
            let store = db.open(KeyNeed::Optional).await?;
            if !store.revoke_token(&name, chrono::Utc::now()).await? {
                return Err(CliError::NoSuchToken(name));
            }
            crate::audit::record(
                &store,
                crate::audit::COMMAND_LINE,
                "",
                "token_revoke",
                &name,
                "",
                "local",
            )
            .await;
            println!("token '{name}' revoked");
        }
    }
    Ok(())
}

impl Cli {
    pub async fn run(self) -> Result<(), CliError> {
        match self.command {
            Command::Migrate { db } => {
                db.open(KeyNeed::Optional).await?;
                println!("database at {} is up to date", db.database_url);
                Ok(())
            }
            Command::Token { action } => run_token_command(action).await,
            Command::User { action } => run_user_command(action).await,
            Command::Keys { action } => run_keys_command(action).await,
            Command::Generate {
                db,
                shipments,
                days,
                seed,
                emulator,
            } => {
                let store = db.open(KeyNeed::Required).await?;
                let started = std::time::Instant::now();
                let emulator_url = format!("http://{}", emulator.emulator_bind);
                let total =
                    crate::generate::generate(&store, shipments, days, &emulator_url, seed).await?;
                println!(
                    "added {shipments} shipments in {:.1} s; {total} in {}",
                    started.elapsed().as_secs_f64(),
                    db.database_url
                );
                Ok(())
            }
            Command::Serve {
                db,
                web,
                worker,
                health,
                no_worker,
            } => {
                let store = db.open(KeyNeed::Required).await?;
                let wake = Arc::new(Notify::new());
                let config = worker.config(WorkerConfig::default())?;
                let client = worker.client_config();
                let sync = worker.sync_config(SyncConfig::default());
                let health = health.config()?;
                let worker = if no_worker {
                    None
                } else {
                    Some(
                        spawn_worker(&store, &client, config, sync, health.clone(), wake.clone())
                            .await?,
                    )
                };
                serve_web(&store, &web, &health, wake).await?;
                if let Some(worker) = worker {
                    let _ = worker.await;
                }
                Ok(())
            }
            Command::Worker { db, worker, health } => {
                let store = db.open(KeyNeed::Required).await?;
                let config = worker.config(WorkerConfig::default())?;
                let sync = worker.sync_config(SyncConfig::default());
                let handle = spawn_worker(
                    &store,
                    &worker.client_config(),
                    config,
                    sync,
                    health.config()?,
                    Arc::new(Notify::new()),
                )
                .await?;
                let _ = handle.await;
                Ok(())
            }
            Command::Emulator { emulator } => {
                let addr = serve_emulator(&Emulator::default(), emulator.emulator_bind).await?;
                println!("marketplace emulator on http://{addr}");
                shutdown_signal().await;
                Ok(())
            }
            Command::Demo {
                db,
                web,
                emulator,
                worker,
                health,
                no_trickle,
                no_worker,
            } => {
                let store = db.open(KeyNeed::MakeIfMissing).await?;
                let marketplace = Emulator::default();
                let emulator_addr = serve_emulator(&marketplace, emulator.emulator_bind).await?;
                let emulator_url = format!("http://{emulator_addr}");
                let seeded = crate::demo::seed(&store, &marketplace, &emulator_url).await?;
                let tokens = crate::demo::tokens(&store).await?;
                let people = crate::demo::people(&store).await?;
                let wake = Arc::new(Notify::new());
                let config = worker.config(demo_worker_defaults())?;
                let sync = worker.sync_config(crate::demo::sync_defaults());
                let health = health.config()?;
                let worker = if no_worker {
                    None
                } else {
                    Some(
                        spawn_worker(
                            &store,
                            &worker.client_config(),
                            config,
                            sync,
                            health.clone(),
                            wake.clone(),
                        )
                        .await?,
                    )
                };
                if !no_trickle {
                    tokio::spawn(crate::demo::trickle(
                        marketplace.clone(),
                        format!("http://{}", web.bind),
                        tokens.station.clone(),
                        seeded,
                        Duration::from_secs(5),
                    ));
                }
                println!();
                println!("  Shipback demo is running.");
                println!("  Dashboard:           http://{}/", web.bind);
                println!(
                    "  Station API:         http://{}/api/v1/shipments",
                    web.bind
                );
                println!("  Marketplace emulator: {emulator_url} (faults: {emulator_url}/_emulator/faults)");
                println!("  Database:            {}", db.database_url);
                for (name, role, password) in &people {
                    println!("  Sign in as {name:<15} ({role:<8}) password: {password}");
                }
                println!("  Station token (ingest):            {}", tokens.station);
                println!("  Monitoring token (read):           {}", tokens.monitor);
                println!("  Operator script token (operate):   {}", tokens.operator);
                println!("  Stop with Ctrl-C.");
                println!();
                serve_web(&store, &web, &health, wake).await?;
                if let Some(worker) = worker {
                    let _ = worker.await;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn help_explains_every_command() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let help = Cli::command().render_long_help().to_string();
        for command in ["serve", "worker", "emulator", "demo", "generate", "migrate"] {
            assert!(help.contains(command), "{command} missing from --help");
        }
    }
}
