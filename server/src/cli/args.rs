//! The command line's arguments, each group with the settings it makes. Every flag has
//! an environment-variable twin, named in `--help`.

use super::CliError;
use crate::health::webhook::WebhookConfig;
use crate::health::{HealthConfig, HealthThresholds};
use crate::marketplaces::ClientConfig;
use crate::order_sync::OrderSyncConfig;
use crate::people::http::SessionConfig;
use crate::runtime::{WebSettings, WorkerSettings};
use crate::store::{Store, DEFAULT_DATABASE_URL};
use crate::worker::{RetryPolicy, WorkerConfig};
use clap::Args;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://PATH (the file and its folder are created if missing), or
    /// postgres://USER@HOST/DATABASE for several instances on one database
    /// (docs/postgresql.md).
    #[arg(long, env = "SHIPBACK_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// File holding the key that seals marketplace credentials (base64 of 32 bytes).
    /// Without it: SHIPBACK_SECRET_KEY, else `secret.key` beside a SQLite database file
    /// (PostgreSQL has no file to keep it beside: give it here or in the environment).
    #[arg(long, env = "SHIPBACK_SECRET_KEY_FILE")]
    pub secret_key_file: Option<std::path::PathBuf>,
}

/// Whether a command needs the credentials' key.
#[derive(Clone, Copy, PartialEq)]
pub enum KeyNeed {
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
    pub async fn open(&self, need: KeyNeed) -> Result<Store, CliError> {
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
pub struct WebArgs {
    /// A dashboard session ends after this long without a request (e.g. 30m, 8h).
    #[arg(long, env = "SHIPBACK_SESSION_IDLE", default_value = "8h", value_parser = parse_duration)]
    pub session_idle: Duration,
    /// Mark the session cookie Secure: set this when the dashboard is reached over HTTPS.
    #[arg(long, env = "SHIPBACK_SECURE_COOKIE")]
    pub secure_cookie: bool,
    /// Address the dashboard and the station API listen on.
    #[arg(long, env = "SHIPBACK_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,
    /// Folder holding the compiled site (wasm, JS, CSS), as built by cargo-leptos.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// The warehouse's time zone (IANA name, e.g. America/Chicago): the dashboard shows
    /// times in it to everyone who has not chosen their own in the user menu.
    #[arg(long, env = "SHIPBACK_TIME_ZONE", default_value = "UTC", value_parser = crate::time_zones::parse)]
    pub time_zone: chrono_tz::Tz,
}

impl WebArgs {
    pub fn settings(&self, health: &HealthConfig, deadlines: &DeadlineArgs) -> WebSettings {
        WebSettings {
            site_time: crate::time_zones::SiteTime {
                zone: self.time_zone,
                deadline_warning_minutes: deadlines.warning_minutes(),
            },
            bind: self.bind,
            site_root: self.site_root.clone(),
            sessions: SessionConfig {
                idle: self.session_idle,
                secure_cookie: self.secure_cookie,
            },
            health_idle_after: health.thresholds.idle_after,
        }
    }
}

/// Prometheus metrics (docs/metrics.md).
#[derive(Args, Debug)]
pub struct MetricsArgs {
    /// Serve GET /metrics (Prometheus) on this address, and only there: keep it on a
    /// private network. Without it no metric is kept.
    #[arg(long, env = "SHIPBACK_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
}

impl MetricsArgs {
    /// Starts the metrics listener, if asked for; an API idle for `idle_after` is None.
    pub async fn start(
        &self,
        store: &Store,
        idle_after: Duration,
        shutdown: crate::shutdown::Shutdown,
    ) -> Result<(), CliError> {
        let Some(bind) = self.metrics_bind else {
            return Ok(());
        };
        let addr = crate::runtime::start_metrics(store, bind, idle_after, shutdown).await?;
        tracing::info!("metrics on http://{addr}/metrics");
        Ok(())
    }
}

/// What is deleted, and when (docs/operations.md#retention).
#[derive(Args, Debug)]
pub struct RetentionArgs {
    /// Finished shipments (Success, Confirmed manually, Failed) unchanged for this long
    /// are deleted with their attempts (e.g. 400d, 90d).
    #[arg(long, env = "SHIPBACK_KEEP_SHIPMENTS", default_value = "400d", value_parser = parse_duration)]
    pub keep_shipments: Duration,
    /// Audit entries older than this are deleted; without it the audit log is kept.
    #[arg(long, env = "SHIPBACK_KEEP_AUDIT", value_parser = parse_duration)]
    pub keep_audit: Option<Duration>,
}

impl RetentionArgs {
    pub fn policy(&self) -> crate::retention::RetentionPolicy {
        crate::retention::RetentionPolicy {
            keep_shipments: self.keep_shipments,
            keep_audit: self.keep_audit,
        }
    }
}

/// When a shipment not yet confirmed is "due soon" (docs/deadlines.md).
#[derive(Args, Debug)]
pub struct DeadlineArgs {
    /// An unconfirmed shipment due within this long is due soon: shown in colour,
    /// counted on the status panel, announced by the deadline_at_risk webhook (e.g. 24h, 90m).
    #[arg(long, env = "SHIPBACK_DEADLINE_WARNING", default_value = "24h", value_parser = parse_duration)]
    pub deadline_warning: Duration,
    /// How often the worker looks for shipments that became due soon or late, for the
    /// webhook.
    #[arg(long, env = "SHIPBACK_DEADLINE_CHECK_EVERY", default_value = "60s", value_parser = parse_duration)]
    pub deadline_check_every: Duration,
}

impl DeadlineArgs {
    pub fn warning_minutes(&self) -> u32 {
        (self.deadline_warning.as_secs() / 60).clamp(1, u64::from(u32::MAX)) as u32
    }
}

#[derive(Args, Debug)]
pub struct EmulatorArgs {
    /// Address the marketplace emulator listens on.
    #[arg(long, env = "SHIPBACK_EMULATOR_BIND", default_value = "127.0.0.1:3001")]
    pub emulator_bind: SocketAddr,
}

/// Worker tuning; each command has its own defaults (the demo retries in seconds).
#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// The waits after each failed attempt of a round, e.g. 1m,10m,1h,4h (the default:
    /// five attempts over about five hours); the last one repeats.
    #[arg(long, env = "SHIPBACK_RETRY_SCHEDULE", value_parser = crate::worker::policy::parse_schedule)]
    pub retry_schedule: Option<Vec<Duration>>,
    /// Instead of a schedule: wait this long after a first failure, doubled after each
    /// further one up to --retry-max-delay (e.g. 60s, 500ms).
    #[arg(long, env = "SHIPBACK_RETRY_BASE_DELAY", value_parser = parse_duration, conflicts_with = "retry_schedule")]
    pub retry_base_delay: Option<Duration>,
    /// With --retry-base-delay: the longest wait between two attempts.
    #[arg(long, env = "SHIPBACK_RETRY_MAX_DELAY", value_parser = parse_duration, conflicts_with = "retry_schedule")]
    pub retry_max_delay: Option<Duration>,
    /// How long a worker's claim lasts; a crashed worker's shipments are taken over after it.
    #[arg(long, env = "SHIPBACK_LEASE", value_parser = parse_duration)]
    pub lease: Option<Duration>,
    /// Upper bound of one write-back attempt; must be well under the lease.
    #[arg(long, env = "SHIPBACK_ATTEMPT_TIMEOUT", value_parser = parse_duration)]
    pub attempt_timeout: Option<Duration>,
    /// Shipments claimed per batch.
    #[arg(long, env = "SHIPBACK_BATCH_SIZE")]
    pub batch_size: Option<u32>,
    /// At most this many shipments of one account per batch.
    #[arg(long, env = "SHIPBACK_PER_ACCOUNT")]
    pub per_account: Option<u32>,
    /// Marketplace calls in flight at once.
    #[arg(long, env = "SHIPBACK_CONCURRENCY")]
    pub concurrency: Option<usize>,
    /// How often an idle worker looks for due shipments.
    #[arg(long, env = "SHIPBACK_IDLE_POLL", value_parser = parse_duration)]
    pub idle_poll: Option<Duration>,
    /// How often a paused API (down, throttling, refusing credentials) is probed with
    /// one of the shipments waiting on it; the first success sends them all on.
    #[arg(long, env = "SHIPBACK_PROBE_EVERY", value_parser = parse_duration)]
    pub probe_every: Option<Duration>,
    /// Do not pace calls to the marketplaces' documented rate limits (benchmarks against
    /// an emulator whose limits are off).
    #[arg(long, env = "SHIPBACK_NO_RATE_LIMITS")]
    pub no_rate_limits: bool,
    /// This worker's name in claims and the attempt history.
    #[arg(long, env = "SHIPBACK_WORKER_NAME")]
    pub worker_name: Option<String>,
    /// How often each account's orders are imported from the marketplace.
    #[arg(long, env = "SHIPBACK_IMPORT_EVERY", value_parser = parse_duration)]
    pub import_every: Option<Duration>,
    /// Do not import orders, read written-back orders back or fetch catalog data here.
    #[arg(long, env = "SHIPBACK_NO_SYNC")]
    pub no_sync: bool,
    /// On SIGTERM or Ctrl-C: how long calls already on the wire may take to end and be
    /// recorded (shipments not yet sent are given back at once), and open requests to
    /// finish, before the process exits (default 30s).
    #[arg(long, env = "SHIPBACK_SHUTDOWN_GRACE", value_parser = parse_duration)]
    pub shutdown_grace: Option<Duration>,
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// How often the worker deletes what is kept no longer (--keep-shipments,
    /// --keep-audit).
    #[arg(long, env = "SHIPBACK_PRUNE_EVERY", default_value = "1h", value_parser = parse_duration)]
    pub prune_every: Duration,
}

impl WorkerArgs {
    /// The worker part's settings: these flags over `defaults` (the demo retries in
    /// seconds, `serve` and `worker` in minutes).
    pub fn settings(
        &self,
        defaults: WorkerConfig,
        sync_defaults: OrderSyncConfig,
        health: HealthConfig,
        deadlines: &DeadlineArgs,
    ) -> Result<WorkerSettings, CliError> {
        Ok(WorkerSettings {
            worker: self.config(defaults)?,
            clients: self.client_config(),
            sync: self.sync_config(sync_defaults),
            health,
            deadline_check_every: deadlines.deadline_check_every,
            retention: Some((self.retention.policy(), self.prune_every)),
        })
    }

    pub fn sync_config(&self, defaults: OrderSyncConfig) -> Option<OrderSyncConfig> {
        (!self.no_sync).then(|| OrderSyncConfig {
            import_every: self.import_every.unwrap_or(defaults.import_every),
            ..defaults
        })
    }

    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            rate_limits: !self.no_rate_limits,
            ..ClientConfig::default()
        }
    }

    pub fn config(&self, defaults: WorkerConfig) -> Result<WorkerConfig, CliError> {
        let config = WorkerConfig {
            name: self.worker_name.clone().unwrap_or(defaults.name),
            batch_size: self.batch_size.unwrap_or(defaults.batch_size).max(1),
            per_account: self.per_account.unwrap_or(defaults.per_account).max(1),
            concurrency: self.concurrency.unwrap_or(defaults.concurrency).max(1),
            lease: self.lease.unwrap_or(defaults.lease),
            attempt_timeout: self.attempt_timeout.unwrap_or(defaults.attempt_timeout),
            idle_poll: self.idle_poll.unwrap_or(defaults.idle_poll),
            probe_every: self.probe_every.unwrap_or(defaults.probe_every),
            shutdown_grace: self.shutdown_grace.unwrap_or(defaults.shutdown_grace),
            retry: RetryPolicy {
                delays: match (
                    &self.retry_schedule,
                    self.retry_base_delay,
                    self.retry_max_delay,
                ) {
                    (Some(schedule), _, _) => schedule.clone(),
                    (None, None, None) => defaults.retry.delays.clone(),
                    (None, base, max) => RetryPolicy::doubling(
                        base.unwrap_or(defaults.retry.backoff(1)),
                        max.unwrap_or(Duration::from_secs(3600)),
                        defaults.retry.max_attempts,
                    ),
                },
                ..defaults.retry
            },
        };
        config.check().map_err(CliError::Config)?;
        Ok(config)
    }
}

/// The connection status's thresholds and webhook (docs/connection-status.md); each
/// left out takes the default of [`HealthThresholds`].
#[derive(Args, Debug)]
pub struct HealthArgs {
    /// Calls older than this are not judged.
    #[arg(long, env = "SHIPBACK_HEALTH_WINDOW", value_parser = parse_duration)]
    pub health_window: Option<Duration>,
    /// At most this many of an API's latest calls are judged.
    #[arg(long, env = "SHIPBACK_HEALTH_WINDOW_CALLS")]
    pub health_window_calls: Option<usize>,
    /// An API with no call for this long is None (unknown).
    #[arg(long, env = "SHIPBACK_HEALTH_IDLE_AFTER", value_parser = parse_duration)]
    pub health_idle_after: Option<Duration>,
    /// Error rates are judged over at least this many calls.
    #[arg(long, env = "SHIPBACK_HEALTH_MIN_CALLS")]
    pub health_min_calls: Option<u32>,
    /// Share of failed calls (0 to 1) from which an API is Yellow.
    #[arg(long, env = "SHIPBACK_HEALTH_YELLOW_ERROR_RATE")]
    pub health_yellow_error_rate: Option<f64>,
    /// Share of failed calls (0 to 1) from which an API is Red.
    #[arg(long, env = "SHIPBACK_HEALTH_RED_ERROR_RATE")]
    pub health_red_error_rate: Option<f64>,
    /// This many failed calls in a row turn an API Red at once.
    #[arg(long, env = "SHIPBACK_HEALTH_RED_CONSECUTIVE_FAILURES")]
    pub health_red_consecutive_failures: Option<u32>,
    /// This many calls refused for rate in the window turn an API Yellow.
    #[arg(long, env = "SHIPBACK_HEALTH_YELLOW_THROTTLED")]
    pub health_yellow_throttled: Option<u32>,
    /// A call slower than this is slow.
    #[arg(long, env = "SHIPBACK_HEALTH_SLOW_CALL", value_parser = parse_duration)]
    pub health_slow_call: Option<Duration>,
    /// Share of slow calls (0 to 1) from which an API is Yellow.
    #[arg(long, env = "SHIPBACK_HEALTH_YELLOW_SLOW_RATE")]
    pub health_yellow_slow_rate: Option<f64>,
    /// URL that receives a JSON message when an API turns Red and when it recovers.
    #[arg(long, env = "SHIPBACK_STATUS_WEBHOOK")]
    pub status_webhook: Option<String>,
    /// Wait before the webhook's first retry, doubled before each further one (5 retries).
    #[arg(long, env = "SHIPBACK_STATUS_WEBHOOK_RETRY", value_parser = parse_duration)]
    pub status_webhook_retry: Option<Duration>,
}

impl HealthArgs {
    pub fn config(&self) -> Result<HealthConfig, CliError> {
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
        thresholds.check().map_err(CliError::Config)?;
        let webhook = match &self.status_webhook {
            None => None,
            Some(url) => {
                let mut webhook = WebhookConfig::parse(url).map_err(CliError::Config)?;
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

/// Reads `500ms`, `2s`, `5m`, `1h`, `400d`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration; examples: 500ms, 2s, 5m, 1h, 90d"))?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        "d" => number * 86_400.0,
        other => return Err(format!("unknown unit '{other}'; use ms, s, m, h or d")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("'{text}': {e}"))
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
        assert_eq!(
            parse_duration("400d"),
            Ok(Duration::from_secs(400 * 86_400))
        );
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }
}
