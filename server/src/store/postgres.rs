//! The PostgreSQL driver: one database for several instances of Shipback on several
//! hosts (dashboards and workers).
//!
//! What one process kept to itself on SQLite is the database's here: claims take rows
//! with `FOR UPDATE SKIP LOCKED` (see `claims.rs`), open pages learn of changes through
//! `LISTEN/NOTIFY` (the triggers of the migrations notify), and write transactions lock
//! only the rows they write.

use super::db::Pool;
use super::{StoreError, Topic, Transient};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// Takes the advisory lock every write transaction takes (see `Store::write_tx`):
/// 1397248066 is "SHPB" (0x5348_5042).
pub(super) const TAKE_WRITE_LOCK: &str = "SELECT pg_advisory_xact_lock(1397248066)";

/// A PostgreSQL error worth trying again, by its SQLSTATE: busy for a serialization
/// failure, a deadlock broken, a lock not granted or too many connections; unavailable
/// when the server is going away or not up yet (an administrator's shutdown or
/// `pg_terminate_backend`, a server starting, a connection exception).
pub(super) fn transient(e: &dyn sqlx::error::DatabaseError) -> Option<Transient> {
    let code = e
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?
        .code();
    match code {
        "40001" | "40P01" | "55P03" | "53300" => Some(Transient::Busy),
        "57P01" | "57P02" | "57P03" => Some(Transient::Unavailable),
        code if code.starts_with("08") => Some(Transient::Unavailable),
        _ => None,
    }
}

pub(super) async fn connect(url: &str) -> Result<Pool, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(|source| StoreError::Open {
        url: redact(url),
        source,
    })?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        // A database that does not answer is reported at start, not waited for.
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Open {
            url: redact(url),
            source,
        })?;
    Ok(Pool::Postgres(pool))
}

/// A connection of the export's own, closed when the export ends, also when its reader
/// leaves mid-answer (a pooled one would first have to read the rest). Its one
/// statement lasts as long as the download: not a slow statement, so not logged as one.
pub(super) async fn export_connection(pool: &PgPool) -> Result<PgConnection, StoreError> {
    use sqlx::{ConnectOptions, Connection};
    let options = (*pool.connect_options())
        .clone()
        .disable_statement_logging();
    Ok(PgConnection::connect_with(&options).await?)
}

/// The URL without its password, for messages and logs.
pub(super) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// This driver's migrations (`server/migrations/postgres`).
pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

fn channel(topic: Topic) -> &'static str {
    match topic {
        Topic::Shipments => "shipback_shipments",
        Topic::Status => "shipback_status",
    }
}

/// Listens on the topic's channel: every instance hears every commit that notified.
pub struct ChangeWatcher {
    listener: PgListener,
}

impl ChangeWatcher {
    pub(super) async fn new(pool: &PgPool, topic: Topic) -> Result<Self, StoreError> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(channel(topic)).await?;
        Ok(ChangeWatcher { listener })
    }

    pub(super) async fn changed(&mut self) -> Result<(), StoreError> {
        // `None`: the connection was lost and is made again on the next call; what
        // was notified meanwhile is unknown, so the pages are told to look.
        let _ = self.listener.try_recv().await?;
        // The burst that came with it is one change for the pages.
        while self.listener.next_buffered().is_some() {}
        Ok(())
    }
}
