//! Storage: everything Shipback keeps, in SQLite through sqlx.
//!
//! The rest of the server talks to [`Store`] only, so that a PostgreSQL store can be
//! added beside this one without touching the worker, the API or the dashboard.

mod accounts;
mod actions;
mod audit;
mod carriers;
mod claims;
mod counts;
mod cursor;
mod export;
mod health;
mod orders;
mod people;
mod sessions;
mod shipments;
mod tokens;
mod waits;

pub use actions::ShipmentRefusal;
pub use claims::{ApiPause, AttemptRecord, ClaimedShipment};
pub use health::{HealthSignature, HistoryIncrement, HistoryRow, StoredApiHealth};
pub use orders::{ImportedOrder, OrderCheck};
pub use sessions::Sessions;
pub use shipments::{ImportedAttempt, ImportedHistory};
pub use waits::{account_keys, writeback_key};

use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::str::FromStr;
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
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL '{0}': use sqlite://PATH")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
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

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Seals and opens the marketplace credentials; without it they cannot be read
    /// nor written (see `crate::secrets`).
    keyring: Option<std::sync::Arc<crate::secrets::Keyring>>,
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

    /// Opens the database without migrating it.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|source| StoreError::Open {
                url: url.to_string(),
                source,
            })?
            .create_if_missing(true)
            // WAL lets the dashboard read while the worker writes.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Writers queue for the lock instead of failing while another one commits.
            .busy_timeout(Duration::from_secs(10))
            // SQLite's default page cache is 2 MB: far too small to keep the grid's
            // indexes hot at a million shipments, so every insert would go to the OS.
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory")
            .pragma("mmap_size", "268435456")
            // Checkpoint every ~40 MB of WAL rather than every 4 MB: fewer, larger
            // copies into the database file while batches stream in.
            .pragma("wal_autocheckpoint", "10000");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                url: url.to_string(),
                source,
            })?;
        Ok(Store {
            pool,
            keyring: None,
        })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations").run(&self.pool).await?;
        Ok(())
    }

    /// A write transaction that takes SQLite's write lock at once, so that it never
    /// fails half-way on a lock upgrade.
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// Tells whether anything the shipments screen shows has changed since it last looked:
/// the `shipments` change counter, which triggers move (migration 11). It reads the
/// counter only after SQLite's `PRAGMA data_version` says another connection committed,
/// so that an idle database costs one pragma per look.
pub struct ChangeWatcher {
    connection: sqlx::SqliteConnection,
    data_version: i64,
    shipments: i64,
}

impl Store {
    pub async fn change_watcher(&self) -> Result<ChangeWatcher, StoreError> {
        let mut connection = self.pool.acquire().await?.detach();
        let data_version = data_version(&mut connection).await?;
        let shipments = shipments_counter(&mut connection).await?;
        Ok(ChangeWatcher {
            connection,
            data_version,
            shipments,
        })
    }
}

impl ChangeWatcher {
    /// `true` when a commit since the last call (or since the watcher was made) changed
    /// what the shipments screen shows.
    pub async fn changed(&mut self) -> Result<bool, StoreError> {
        let version = data_version(&mut self.connection).await?;
        if version == self.data_version {
            return Ok(false);
        }
        self.data_version = version;
        let shipments = shipments_counter(&mut self.connection).await?;
        let changed = shipments != self.shipments;
        self.shipments = shipments;
        Ok(changed)
    }
}

async fn data_version(connection: &mut sqlx::SqliteConnection) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(connection)
        .await?)
}

async fn shipments_counter(connection: &mut sqlx::SqliteConnection) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT n FROM change_counters WHERE topic = 'shipments'")
            .fetch_one(connection)
            .await?,
    )
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
