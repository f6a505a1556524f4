//! Storage: everything Shipback keeps, in SQLite (the embedded default) or PostgreSQL
//! (several instances on one database), through sqlx.
//!
//! The rest of the server talks to [`Store`] only. Its SQL is written once for both
//! databases and runs through the seam in `db.rs`; what differs between them is in
//! `sqlite.rs` and `postgres.rs`, with each driver's migrations under
//! `server/migrations/<driver>`.

mod access_tokens;
mod accounts;
mod actions;
mod audit;
mod backup;
mod carriers;
mod claims;
mod copy;
mod counts;
mod cursor;
mod db;
mod deadlines;
mod export;
mod health;
mod orders;
mod pacing;
mod people;
mod postgres;
mod retention;
mod sessions;
mod shipments;
mod sign_in;
mod sqlite;
mod tokens;
mod waits;

pub use actions::ShipmentRefusal;
pub use claims::{ApiPause, AttemptRecord, DueQueue};
pub use health::{HealthSignature, HistoryIncrement, HistoryRow, StoredApiHealth};
pub use orders::{ImportedOrder, OrderCheck};
pub use retention::Prunable;
pub use sessions::Sessions;
pub use shipments::{ImportedAttempt, ImportedHistory};
pub use waits::{account_keys, writeback_key};

pub use backup::{BackupError, BackupSummary};
pub use copy::{CopyError, CopyReport};
pub use db::Dialect;

use chrono::{DateTime, TimeZone, Utc};
use db::{Pool, Tx};
use std::time::Duration;

/// The embedded default: a SQLite file under `./data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/shipback.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {url}: {source}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the SQLite database {path} is on a network file system, {mount}: SQLite's locks do \
         not hold across hosts. Keep it on a local disk, or point every instance at one \
         PostgreSQL (--database-url postgres://…, see docs/postgresql.md)"
    )]
    SharedAcrossHosts { path: String, mount: String },
    #[error(
        "the database holds a newer schema (migration {applied}) than this Shipback knows \
         (up to {known}): a newer Shipback wrote it; run that version, or a newer one"
    )]
    NewerSchema { applied: i64, known: i64 },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    /// The database is there but answers nothing now: locked by another writer past the
    /// wait, or no connection free. The same request may well succeed in a moment.
    #[error("the database is busy: {0}")]
    Busy(#[source] sqlx::Error),
    /// The database went away (restarting, connections cut, the network): what was
    /// being written was not, and is worth writing again once it is back.
    #[error("the database is unreachable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Sql(#[source] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A task the store ran its statement in stopped before it answered (the runtime is
    /// shutting down).
    #[error("a database task ended before it answered: {0}")]
    TaskEnded(#[from] tokio::task::JoinError),
    #[error("unknown accounts: {}", .0.join(", "))]
    UnknownAccounts(Vec<String>),
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    /// The action was refused for what the shipment is, not for a fault.
    #[error(transparent)]
    Refused(#[from] ShipmentRefusal),
}

impl From<sqlx::Error> for StoreError {
    /// Sorts the driver's error into what a caller acts on: each driver knows its own
    /// codes for "busy" and "gone", so that no caller reads a driver's codes or text.
    fn from(e: sqlx::Error) -> StoreError {
        let transient = match &e {
            sqlx::Error::PoolTimedOut => Some(Transient::Busy),
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) => Some(Transient::Unavailable),
            sqlx::Error::Database(db) => {
                sqlite::transient(db.as_ref()).or_else(|| postgres::transient(db.as_ref()))
            }
            _ => None,
        };
        match transient {
            Some(Transient::Busy) => StoreError::Busy(e),
            Some(Transient::Unavailable) => StoreError::Unavailable(e),
            None => StoreError::Sql(e),
        }
    }
}

/// A database error worth trying again, as a driver sorts its codes.
enum Transient {
    /// The database answers, but not now: a lock, a conflict, no connection free.
    Busy,
    /// The database is going away or not up yet.
    Unavailable,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// Seals and opens the marketplace credentials; without it they cannot be read
    /// nor written (see `crate::secrets`).
    keyring: Option<std::sync::Arc<crate::secrets::Keyring>>,
    /// An open shipment due within this many minutes is "due soon" (`--deadline-warning`).
    deadline_warning_minutes: u32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({:?})", self.dialect())
    }
}

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// The same database, with the keyring that seals and opens credentials.
    pub fn with_keyring(mut self, keyring: crate::secrets::Keyring) -> Store {
        self.keyring = Some(std::sync::Arc::new(keyring));
        self
    }

    /// The same database, judging "due soon" by this warning time.
    pub fn with_deadline_warning(mut self, minutes: u32) -> Store {
        self.deadline_warning_minutes = minutes;
        self
    }

    pub fn deadline_warning_minutes(&self) -> u32 {
        self.deadline_warning_minutes
    }

    /// The deadline filters' instant (now) and warning time.
    fn deadline_clock(&self) -> shipments::DeadlineClock {
        shipments::DeadlineClock {
            now: now_millis(),
            warning_ms: i64::from(self.deadline_warning_minutes) * 60_000,
        }
    }

    /// How this database's queries reach the shipments by their filters, as of now.
    fn filtering(&self, access: shipments::Access) -> shipments::Filtering {
        shipments::Filtering {
            dialect: self.dialect(),
            access,
            clock: self.deadline_clock(),
        }
    }

    /// Opens the database without migrating it: `sqlite://PATH` (the embedded
    /// default) or `postgres://…` (several instances on one database).
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let pool = if url.starts_with("sqlite:") {
            sqlite::connect(url).await?
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            postgres::connect(url).await?
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        Ok(Store {
            pool,
            keyring: None,
            deadline_warning_minutes: app::deadlines::DEFAULT_WARNING_MINUTES,
        })
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match &self.pool {
            Pool::Sqlite(_) => &sqlite::MIGRATOR,
            Pool::Postgres(_) => &postgres::MIGRATOR,
        }
    }

    /// The newest migration applied (`None`: a new database), and the newest this
    /// build knows.
    async fn schema_versions(&self) -> (Option<i64>, i64) {
        // No table yet: a new database.
        let applied: Option<i64> = db::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&self.pool)
            .await
            .unwrap_or(None);
        let known = self.migrator().iter().map(|m| m.version).max().unwrap_or(0);
        (applied, known)
    }

    /// Whether the database answers and carries every migration this build knows: what
    /// `GET /readyz` asks.
    pub async fn schema_is_current(&self) -> Result<bool, StoreError> {
        db::query_scalar::<i64>("SELECT CAST(1 AS BIGINT)")
            .fetch_one(&self.pool)
            .await?;
        let (applied, known) = self.schema_versions().await;
        Ok(applied == Some(known))
    }

    /// Applies the driver's pending migrations, after refusing a database a newer
    /// Shipback migrated.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = self.migrator();
        let (applied, known) = self.schema_versions().await;
        refuse_newer_schema(applied, known)?;
        match &self.pool {
            Pool::Sqlite(pool) => migrator.run(pool).await?,
            Pool::Postgres(pool) => migrator.run(pool).await?,
        }
        Ok(())
    }

    /// Which database this store runs on.
    pub fn dialect(&self) -> Dialect {
        self.pool.dialect()
    }

    /// Closes every connection (at shutdown, after the last write).
    pub async fn close(&self) {
        self.pool.close().await
    }

    /// A write transaction, one at a time. On SQLite it takes the write lock at once,
    /// so that it never fails half-way on a lock upgrade. On PostgreSQL it takes one
    /// advisory lock first: every shipment written moves rows of the grid's counters,
    /// and two transactions moving them in different orders deadlocked (ingest with
    /// two concurrent posters, measured). Readers never wait for it.
    async fn write_tx(&self) -> Result<Tx, StoreError> {
        self.begin_write(postgres::TAKE_WRITE_LOCK).await
    }

    /// A transaction that takes its rows by locking them and skipping those locked
    /// (`FOR UPDATE SKIP LOCKED`): a worker's claim. On PostgreSQL it does not queue for
    /// the advisory lock: a claim moves no counter (lease and fence are not counted) and
    /// waits for nobody's rows, so it cannot deadlock with a writer. It is not compiled
    /// either: the planner, which cannot know how few accounts have shipments due,
    /// prices a claim high enough for JIT, 25-40 ms of a 100 ms claim of 2,000 rows
    /// (measured), every time. SQLite has one writer, whatever is asked.
    async fn claim_tx(&self) -> Result<Tx, StoreError> {
        self.begin_write("SET LOCAL jit = off").await
    }

    /// A transaction that writes: on SQLite with the write lock taken at once, on
    /// PostgreSQL opened with `first`.
    async fn begin_write(&self, first: &'static str) -> Result<Tx, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(first).execute(&mut *tx).await?;
                Tx::Postgres(tx)
            }
        })
    }
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    postgres::redact(url)
}

/// Refuses a database a newer Shipback migrated: this binary would not know its
/// tables, and sqlx's own message ("previously applied but is missing") says less.
fn refuse_newer_schema(applied: Option<i64>, known: i64) -> Result<(), StoreError> {
    match applied {
        Some(applied) if applied > known => Err(StoreError::NewerSchema { applied, known }),
        _ => Ok(()),
    }
}

/// Tells open pages when what the shipments screen shows has changed, whoever changed
/// it: on SQLite by the change counter that triggers move (migration 11), on
/// PostgreSQL by the notifications its triggers send, which reach every instance.
pub enum ChangeWatcher {
    Sqlite(sqlite::ChangeWatcher),
    Postgres(postgres::ChangeWatcher),
}

/// What a [`ChangeWatcher`] watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// What the shipments screen shows.
    Shipments,
    /// The connection status: judgements, pauses, what waits on them.
    Status,
}

impl Store {
    pub async fn change_watcher(&self, topic: Topic) -> Result<ChangeWatcher, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => {
                ChangeWatcher::Sqlite(sqlite::ChangeWatcher::new(pool, topic).await?)
            }
            Pool::Postgres(pool) => {
                ChangeWatcher::Postgres(postgres::ChangeWatcher::new(pool, topic).await?)
            }
        })
    }
}

impl ChangeWatcher {
    /// Returns once something of its topic has changed since the last call (or since
    /// the watcher was made); SQLite is looked at every `poll`, PostgreSQL tells.
    pub async fn changed(&mut self, poll: Duration) -> Result<(), StoreError> {
        match self {
            ChangeWatcher::Sqlite(watcher) => watcher.changed(poll).await,
            ChangeWatcher::Postgres(watcher) => watcher.changed().await,
        }
    }
}

/// Unix milliseconds, as stored.
pub fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} out of range")))
}

pub fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    /// The module's own code, without its comments and its tests (they may set up
    /// whatever they like).
    fn sources_of(module: &str) -> Vec<String> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.join(format!("{module}.rs"))];
        let mut dirs = vec![src.join(module)];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path: PathBuf = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        files
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .map(|text| {
                let code = match text.find("#[cfg(test)]") {
                    Some(tests) => &text[..tests],
                    None => &text,
                };
                // A comment's link to a module is not a dependency on it.
                code.lines()
                    .filter(|line| !line.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect()
    }

    /// The crate's modules a module names (`crate::<module>`).
    fn modules_used_by(module: &str) -> BTreeSet<String> {
        sources_of(module)
            .iter()
            .flat_map(|text| {
                text.match_indices("crate::")
                    .map(|(at, _)| {
                        text[at + "crate::".len()..]
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect::<String>()
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|used| !used.is_empty() && used != module)
            .collect()
    }

    /// Issue 15: the store is the bottom layer. Nothing it uses, directly or through
    /// another module, may use the store back.
    #[test]
    fn the_store_is_the_bottom_layer() {
        let mut reached = BTreeSet::new();
        let mut to_visit: Vec<String> = modules_used_by("store").into_iter().collect();
        while let Some(module) = to_visit.pop() {
            if reached.insert(module.clone()) {
                to_visit.extend(modules_used_by(&module));
            }
        }
        assert!(
            !reached.contains("store"),
            "a module the store uses reaches the store back: {reached:?}"
        );
        // What the store stands on, named so that a new dependency is a decision.
        let allowed: BTreeSet<String> = ["accounts", "carriers", "records", "secrets"]
            .map(String::from)
            .into();
        assert!(reached.is_subset(&allowed), "the store reaches {reached:?}");
        assert!(
            reached.contains("records"),
            "the test read no source: {reached:?}"
        );
    }
}
