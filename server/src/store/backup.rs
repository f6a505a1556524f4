//! Consistent copies of a live SQLite database (`shipback backup`) and their return
//! (`shipback restore`). PostgreSQL has its own tools for this (`pg_dump`,
//! `pg_restore`; docs/operations.md#backups).
//!
//! The copy is SQLite's `VACUUM INTO`: one read transaction, so it sees one moment of
//! the database while the worker and the web server go on writing (in WAL mode a reader
//! holds no writer back), and it comes out compacted. It is written beside its final
//! name and renamed once checked, so a file under that name is always a whole backup.

use super::db::Pool;
use super::{sqlite, Store, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};
use std::path::{Path, PathBuf};
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "this database is PostgreSQL: back it up with pg_dump and restore it with \
         pg_restore (docs/operations.md#backups)"
    )]
    NotSqlite,
    #[error("{0} already exists: a backup never overwrites a file; name a new one")]
    OutExists(PathBuf),
    #[error(
        "{0} already exists: a restore never overwrites a database; move it aside, or \
         restore into a new path"
    )]
    DatabaseExists(PathBuf),
    #[error("{path} is not a Shipback backup: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a backup or a restore holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub file: PathBuf,
    pub bytes: u64,
    pub shipments: i64,
    pub attempts: i64,
    /// The newest migration in it.
    pub schema: i64,
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::File {
        path: path.to_path_buf(),
        source,
    }
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `out`, a file that must not
    /// exist yet, checks it, and says what it holds.
    pub async fn backup_to(&self, out: &Path) -> Result<BackupSummary, BackupError> {
        let Pool::Sqlite(pool) = &self.pool else {
            return Err(BackupError::NotSqlite);
        };
        if out.exists() {
            return Err(BackupError::OutExists(out.to_path_buf()));
        }
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(file_error(dir))?;
        }
        let partial = partial_name(out);
        // A partial copy left by a backup that was stopped half-way.
        let _ = std::fs::remove_file(&partial);
        sqlx::query("VACUUM INTO ?")
            .bind(partial.to_string_lossy().into_owned())
            .execute(pool)
            .await
            .map_err(StoreError::from)?;
        let summary = match inspect(&partial).await {
            Ok(summary) => summary,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        std::fs::rename(&partial, out).map_err(file_error(out))?;
        Ok(BackupSummary {
            file: out.to_path_buf(),
            ..summary
        })
    }
}

impl Store {
    /// Puts the backup `from` in place as the SQLite database `database_url` names, which
    /// must not exist yet, and opens it: a backup of an older Shipback is migrated.
    pub async fn restore(
        from: &Path,
        database_url: &str,
    ) -> Result<(Store, BackupSummary), BackupError> {
        if !database_url.starts_with("sqlite:") {
            return Err(BackupError::NotSqlite);
        }
        let target = PathBuf::from(sqlite::file_path(database_url));
        // The database, or the journal of one, already there.
        for existing in [target.clone(), suffixed(&target, "-wal")] {
            if existing.exists() {
                return Err(BackupError::DatabaseExists(existing));
            }
        }
        let summary = inspect(from).await?;
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(file_error(dir))?;
        }
        let partial = partial_name(&target);
        std::fs::copy(from, &partial).map_err(file_error(&partial))?;
        std::fs::rename(&partial, &target).map_err(file_error(&target))?;
        let store = Store::open(database_url).await?;
        Ok((
            store,
            BackupSummary {
                file: target,
                ..summary
            },
        ))
    }
}

/// Opens `file` read-only and checks that it is a whole SQLite database with Shipback's
/// tables: `PRAGMA integrity_check`, then counts.
async fn inspect(file: &Path) -> Result<BackupSummary, BackupError> {
    let not_a_backup = |reason: String| BackupError::NotABackup {
        path: file.to_path_buf(),
        reason,
    };
    let bytes = std::fs::metadata(file).map_err(file_error(file))?.len();
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))
        .map_err(|e| not_a_backup(e.to_string()))?
        .read_only(true);
    let mut connection = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| not_a_backup(e.to_string()))?;
    let checked: Result<BackupSummary, sqlx::Error> = async {
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut connection)
            .await?;
        if integrity != "ok" {
            return Err(sqlx::Error::Protocol(format!("damaged: {integrity}")));
        }
        let row = sqlx::query(
            "SELECT (SELECT MAX(version) FROM _sqlx_migrations) AS schema,
                    (SELECT COUNT(*) FROM shipments) AS shipments,
                    (SELECT COUNT(*) FROM writeback_attempts) AS attempts",
        )
        .fetch_one(&mut connection)
        .await?;
        Ok(BackupSummary {
            file: file.to_path_buf(),
            bytes,
            schema: row.try_get::<Option<i64>, _>("schema")?.unwrap_or(0),
            shipments: row.try_get("shipments")?,
            attempts: row.try_get("attempts")?,
        })
    }
    .await;
    let _ = connection.close().await;
    checked.map_err(|e| not_a_backup(e.to_string()))
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn partial_name(path: &Path) -> PathBuf {
    suffixed(path, ".partial")
}
