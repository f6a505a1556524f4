//! The `shipback` command: what it parses (the types here and in [`args`]) and which
//! code runs each subcommand: [`crate::runtime`] starts the long-running parts,
//! [`admin`] holds the one-shot ones, [`crate::demo`] the demo.

pub mod admin;
pub mod args;

use crate::demo::DemoSettings;
use crate::emulator::Emulator;
use crate::order_sync::OrderSyncConfig;
use crate::runtime::{self, RuntimeError, Shutdown};
use crate::store::{Store, StoreError};
use crate::worker::WorkerConfig;
use args::{
    DatabaseArgs, DeadlineArgs, EmulatorArgs, HealthArgs, KeyNeed, MetricsArgs, WebArgs, WorkerArgs,
};
use clap::{Parser, Subcommand};
use std::sync::Arc;
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
    /// How log lines are written to stderr: `text` for people, `json` (one object per
    /// line, with the request's or the attempt's fields) for a log collector.
    #[arg(long, global = true, env = "SHIPBACK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
        #[command(flatten)]
        deadlines: DeadlineArgs,
        #[command(flatten)]
        metrics: MetricsArgs,
        /// Do not run a worker in this process (run `shipback worker` elsewhere).
        #[arg(long, env = "SHIPBACK_NO_WORKER")]
        no_worker: bool,
    },
    /// The write-back worker alone; run several against one database if you like.
    Worker {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Serve GET /healthz and GET /readyz (the database, and whether this worker
        /// still claims work) on this address, for a process supervisor.
        #[arg(long, env = "SHIPBACK_HEALTH_BIND")]
        health_bind: Option<std::net::SocketAddr>,
        #[command(flatten)]
        worker: WorkerArgs,
        #[command(flatten)]
        health: HealthArgs,
        #[command(flatten)]
        deadlines: DeadlineArgs,
        #[command(flatten)]
        metrics: MetricsArgs,
    },
    /// The marketplace emulator alone (Amazon's and eBay's wire formats, for tests and
    /// demos).
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
        #[command(flatten)]
        deadlines: DeadlineArgs,
        #[command(flatten)]
        metrics: MetricsArgs,
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
    /// Copies everything a database holds (a SQLite installation, say) into a new,
    /// empty PostgreSQL database, in one transaction. The credentials stay sealed: give
    /// the instances on PostgreSQL the same key.
    MigrateData {
        /// The database to copy: sqlite://PATH or postgres://….
        #[arg(long)]
        from: String,
        /// The empty PostgreSQL database to copy into: postgres://….
        #[arg(long)]
        to: String,
    },
    /// Writes a consistent copy of a SQLite database to a new file while Shipback runs
    /// (the worker and the dashboard go on). PostgreSQL: use pg_dump
    /// (docs/operations.md#backups). The credentials' key is not in the copy: keep it
    /// apart.
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long)]
        out: std::path::PathBuf,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Puts a backup in place as the database --database-url names, which must not
    /// exist yet, checks it and migrates it to this version. Start Shipback on it
    /// afterwards, with the key of the installation it came from.
    Restore {
        /// The backup file, as `shipback backup` wrote it.
        #[arg(long)]
        from: std::path::PathBuf,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Deletes now what is kept no longer (the worker does it every --prune-every):
    /// finished shipments older than --keep-shipments with their attempts, and audit
    /// entries older than --keep-audit. Prints what went and how long each batch held
    /// the database.
    Prune {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        retention: args::RetentionArgs,
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
    /// Marketplace accounts: list them, enable or disable one.
    Account {
        #[command(subcommand)]
        action: AccountCommand,
    },
    /// What an operator does to shipments from the dashboard: Retry now, Confirmed
    /// manually.
    Shipments {
        #[command(subcommand)]
        action: ShipmentsCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Lists every account: key, marketplace, name, enabled, API address.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Enables an account: its shipments are written back again.
    Enable {
        key: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Disables an account: it is not written back to, and leaves the connection status.
    Disable {
        key: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum ShipmentsCommand {
    /// Retry now: Failed shipments start a new round of attempts at once.
    Retry {
        #[arg(required = true)]
        shipment_ids: Vec<String>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Confirmed manually: a Failed shipment was confirmed by hand in Seller Central or
    /// My eBay.
    Confirm {
        shipment_id: String,
        /// Who confirmed it on the marketplace.
        #[arg(long = "by")]
        confirmed_by: String,
        /// What was done, for whoever reads the shipment later.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
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
pub enum UserCommand {
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
pub enum TokenCommand {
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

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("migrate-data: {0}")]
    Copy(#[from] crate::store::CopyError),
    #[error(transparent)]
    Backup(#[from] crate::store::BackupError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Action(#[from] crate::actions::ActionError),
    #[error(transparent)]
    Token(#[from] crate::tokens::TokenError),
    #[error(transparent)]
    People(#[from] crate::people::PeopleError),
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    #[error("cannot read the password: {0}")]
    Password(String),
    /// Some of the shipments named were refused; each was printed with its reason.
    #[error("{0} of the shipments were not retried")]
    NotAllRetried(usize),
}

impl Cli {
    pub async fn run(self) -> Result<(), CliError> {
        match self.command {
            Command::Migrate { db } => {
                db.open(KeyNeed::Optional).await?;
                println!(
                    "database at {} is up to date",
                    crate::store::redact_url(&db.database_url)
                );
                Ok(())
            }
            Command::MigrateData { from, to } => {
                let source = Store::open(&from).await?;
                let target = Store::open(&to).await?;
                let report = source.copy_into(&target).await?;
                for (table, rows) in &report {
                    println!("{table:<24} {rows:>10} rows");
                }
                println!(
                    "copied {} into {}",
                    crate::store::redact_url(&from),
                    crate::store::redact_url(&to)
                );
                Ok(())
            }
            Command::Backup { out, db } => admin::backup(&db, &out).await,
            Command::Prune { db, retention } => admin::prune(&db, &retention).await,
            Command::Restore { from, db } => admin::restore(&db, &from).await,
            Command::Token { action } => admin::token(action).await,
            Command::User { action } => admin::user(action).await,
            Command::Keys { action } => admin::keys(action).await,
            Command::Account { action } => admin::account(action).await,
            Command::Shipments { action } => admin::shipments(action).await,
            Command::Generate {
                db,
                shipments,
                days,
                seed,
                emulator,
            } => admin::generate(db, shipments, days, seed, emulator).await,
            Command::Serve {
                db,
                web,
                worker,
                health,
                deadlines,
                metrics,
                no_worker,
            } => {
                let store = db
                    .open(KeyNeed::Required)
                    .await?
                    .with_deadline_warning(deadlines.warning_minutes());
                let health = health.config()?;
                let worker = (!no_worker)
                    .then(|| {
                        worker.settings(
                            WorkerConfig::default(),
                            OrderSyncConfig::default(),
                            health.clone(),
                            &deadlines,
                        )
                    })
                    .transpose()?;
                serve(&store, web.settings(&health, &deadlines), worker, &metrics).await
            }
            Command::Worker {
                db,
                health_bind,
                worker,
                health,
                deadlines,
                metrics,
            } => {
                let store = db
                    .open(KeyNeed::Required)
                    .await?
                    .with_deadline_warning(deadlines.warning_minutes());
                let settings = worker.settings(
                    WorkerConfig::default(),
                    OrderSyncConfig::default(),
                    health.config()?,
                    &deadlines,
                )?;
                let wake = Arc::new(Notify::new());
                let shutdown = Shutdown::on_signal();
                metrics
                    .start(
                        &store,
                        settings.health.thresholds.idle_after,
                        shutdown.clone(),
                    )
                    .await?;
                let worker =
                    runtime::start_worker(&store, settings, wake, shutdown.clone()).await?;
                if let Some(bind) = health_bind {
                    let addr =
                        runtime::start_probes(&store, bind, worker.heartbeat, shutdown).await?;
                    tracing::info!("health probes on http://{addr}");
                }
                let _ = worker.task.await;
                store.close().await;
                Ok(())
            }
            Command::Emulator { emulator } => {
                let addr =
                    runtime::start_emulator(&Emulator::default(), emulator.emulator_bind).await?;
                println!("marketplace emulator on http://{addr}");
                Shutdown::on_signal().wait().await;
                Ok(())
            }
            Command::Demo {
                db,
                web,
                emulator,
                worker,
                health,
                deadlines,
                metrics,
                no_trickle,
                no_worker,
            } => {
                let store = db
                    .open(KeyNeed::MakeIfMissing)
                    .await?
                    .with_deadline_warning(deadlines.warning_minutes());
                let health = health.config()?;
                let worker = (!no_worker)
                    .then(|| {
                        worker.settings(
                            crate::demo::worker_defaults(),
                            crate::demo::sync_defaults(),
                            health.clone(),
                            &deadlines,
                        )
                    })
                    .transpose()?;
                let settings = DemoSettings {
                    emulator_bind: emulator.emulator_bind,
                    database_url: db.database_url.clone(),
                    trickle: !no_trickle,
                };
                let web = web.settings(&health, &deadlines);
                crate::demo::prepare(&store, &settings, &web).await?;
                serve(&store, web, worker, &metrics).await
            }
        }
    }
}

/// The web server and, unless it runs elsewhere, the worker, until Ctrl-C or SIGTERM.
async fn serve(
    store: &crate::store::Store,
    web: runtime::WebSettings,
    worker: Option<runtime::WorkerSettings>,
    metrics: &MetricsArgs,
) -> Result<(), CliError> {
    let shutdown = Shutdown::on_signal();
    metrics
        .start(store, web.health_idle_after, shutdown.clone())
        .await?;
    let wake = Arc::new(Notify::new());
    let grace = worker
        .as_ref()
        .map_or(WorkerConfig::default().shutdown_grace, |w| {
            w.worker.shutdown_grace
        });
    let worker = match worker {
        Some(settings) => {
            Some(runtime::start_worker(store, settings, wake.clone(), shutdown.clone()).await?)
        }
        None => None,
    };
    let heartbeat = worker.as_ref().map(|w| w.heartbeat.clone());
    let web = runtime::start_web(store, &web, wake, heartbeat, shutdown.clone()).await?;
    tracing::info!("dashboard and API on {}", web.url());
    let mut web_task = web.task;
    let served = tokio::select! {
        served = &mut web_task => Some(served),
        // Requests still open when the grace is over (a long export) are cut.
        _ = async { shutdown.wait().await; tokio::time::sleep(grace).await } => None,
    };
    let served = match served {
        Some(served) => {
            served.map_err(|e| CliError::Config(format!("the web server stopped: {e}")))?
        }
        None => {
            tracing::warn!(
                ?grace,
                "requests still open at the end of the shutdown grace are cut"
            );
            web_task.abort();
            Ok(())
        }
    };
    if let Some(worker) = worker {
        let _ = worker.task.await;
    }
    store.close().await;
    Ok(served?)
}

/// Logs go to stderr, so that stdout carries only what a command prints for the user.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHIPBACK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,leptos=warn"));
    // Colours only for a person at a terminal, not in a journal or a file.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        // The event's fields at the top level, beside the request's span (its id).
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_explains_every_command() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let help = Cli::command().render_long_help().to_string();
        for command in [
            "serve",
            "worker",
            "emulator",
            "demo",
            "generate",
            "migrate",
            "backup",
            "restore",
            "prune",
            "keys",
            "user",
            "token",
            "account",
            "shipments",
        ] {
            assert!(help.contains(command), "{command} missing from --help");
        }
    }
}
