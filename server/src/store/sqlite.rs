//! The SQLite driver: the embedded default, a file and no server.
//!
//! One process writes at a time (`BEGIN IMMEDIATE`, see `Store::write_tx`); WAL lets
//! the dashboard read meanwhile. Several processes may share the file on one host
//! (a `serve` and a `worker`), never across hosts: file locks do not hold there.

use super::db::Pool;
use super::{StoreError, Topic, Transient};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::Connection;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes: another writer
/// held the lock past the busy timeout.
pub(super) fn transient(e: &dyn sqlx::error::DatabaseError) -> Option<Transient> {
    e.try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .and_then(sqlx::error::DatabaseError::code)
        .and_then(|code| code.parse::<i32>().ok())
        .filter(|code| matches!(code & 0xff, 5 | 6))
        .map(|_| Transient::Busy)
}

/// The file a `sqlite://PATH?options` URL names.
pub(super) fn file_path(url: &str) -> &str {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    path.split('?').next().unwrap_or(path)
}

pub(super) async fn connect(url: &str) -> Result<Pool, StoreError> {
    let path = file_path(url);
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    refuse_network_filesystem(path)?;
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
    Ok(Pool::Sqlite(pool))
}

/// A SQLite file on a network file system (NFS, SMB, …) is what processes on several
/// hosts would share; its locks do not hold there and the database would be damaged.
/// Refused at start, with what to use instead.
fn refuse_network_filesystem(path: &str) -> Result<(), StoreError> {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") else {
        return Ok(());
    };
    let dir = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(dir) = dir.canonicalize() else {
        return Ok(());
    };
    let mount = mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _device = fields.next()?;
            let point = fields.next()?;
            let kind = fields.next()?;
            Some((point.to_string(), kind.to_string()))
        })
        .filter(|(point, _)| dir.starts_with(point))
        .max_by_key(|(point, _)| point.len());
    match mount {
        Some((point, kind)) if is_network_filesystem(&kind) => Err(StoreError::SharedAcrossHosts {
            path: path.to_string(),
            mount: format!("{point} ({kind})"),
        }),
        _ => Ok(()),
    }
}

fn is_network_filesystem(kind: &str) -> bool {
    matches!(
        kind,
        "nfs"
            | "nfs4"
            | "cifs"
            | "smb3"
            | "smbfs"
            | "glusterfs"
            | "ceph"
            | "fuse.sshfs"
            | "lustre"
            | "gpfs"
            | "afs"
    )
}

/// This driver's migrations (`server/migrations/sqlite`).
pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A connection of the export's own, closed when it ends. A million rows pass through
/// SQLite's page cache and memory map: on the pool's connections (64 MB of cache and
/// 256 MB of map each, several of them in turn) the server grew by 1.4 GB during an
/// export; with a small cache and no map it stays flat.
pub(super) async fn export_connection(pool: &SqlitePool) -> Result<SqliteConnection, StoreError> {
    let options = (*pool.connect_options())
        .clone()
        .pragma("cache_size", "-8192")
        .pragma("mmap_size", "0");
    Ok(SqliteConnection::connect_with(&options).await?)
}

/// Looks at SQLite's `PRAGMA data_version` every poll, and at the shipments change
/// counter only once another connection has committed, so that an idle database costs
/// one pragma per look.
pub struct ChangeWatcher {
    connection: SqliteConnection,
    topic: Topic,
    data_version: i64,
    shipments: i64,
}

impl ChangeWatcher {
    pub(super) async fn new(pool: &SqlitePool, topic: Topic) -> Result<Self, StoreError> {
        let mut connection = pool.acquire().await?.detach();
        let data_version = data_version(&mut connection).await?;
        let shipments = shipments_counter(&mut connection).await?;
        Ok(ChangeWatcher {
            connection,
            topic,
            data_version,
            shipments,
        })
    }

    pub(super) async fn changed(&mut self, poll: Duration) -> Result<(), StoreError> {
        loop {
            tokio::time::sleep(poll).await;
            let version = data_version(&mut self.connection).await?;
            if version == self.data_version {
                continue;
            }
            self.data_version = version;
            if self.topic == Topic::Status {
                return Ok(());
            }
            let shipments = shipments_counter(&mut self.connection).await?;
            if shipments != self.shipments {
                self.shipments = shipments;
                return Ok(());
            }
        }
    }
}

async fn data_version(connection: &mut SqliteConnection) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(connection)
        .await?)
}

async fn shipments_counter(connection: &mut SqliteConnection) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT n FROM change_counters WHERE topic = 'shipments'")
            .fetch_one(connection)
            .await?,
    )
}
