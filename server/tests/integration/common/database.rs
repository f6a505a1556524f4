//! The database a test runs on: a SQLite file of its own (the default), or, with
//! `SHIPBACK_TEST_DATABASE=postgres`, a PostgreSQL database of its own made on the
//! server at `SHIPBACK_TEST_POSTGRES_URL` (default: the local one) and dropped when the
//! test ends. The same tests run on both: `scripts/test.sh` runs the binary twice.

use std::sync::atomic::{AtomicU32, Ordering};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which driver this run of the tests is for.
pub fn on_postgres() -> bool {
    std::env::var("SHIPBACK_TEST_DATABASE").as_deref() == Ok("postgres")
}

pub fn postgres_server_url() -> String {
    std::env::var("SHIPBACK_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into())
}

pub struct TestDatabase {
    pub url: String,
    /// The SQLite file's folder; for PostgreSQL, a scratch folder (the site root).
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database to drop at the end.
    postgres: Option<String>,
}

impl TestDatabase {
    pub async fn new() -> TestDatabase {
        let dir = tempfile::tempdir().unwrap();
        if !on_postgres() {
            let url = format!("sqlite://{}/shipback.db", dir.path().display());
            return TestDatabase {
                url,
                dir,
                postgres: None,
            };
        }
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "shipback_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let server = postgres_server_url();
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {server} does not answer: {e}"));
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let mut url = url::Url::parse(&server).unwrap();
        url.set_path(&name);
        TestDatabase {
            url: url.to_string(),
            dir,
            postgres: Some(name),
        }
    }
}

impl TestDatabase {
    /// The store on this database, migrated, with a fresh key for the credentials.
    pub async fn open_store(&self) -> shipback::store::Store {
        shipback::store::Store::open(&self.url)
            .await
            .unwrap()
            .with_keyring(shipback::secrets::Keyring::new(
                shipback::secrets::SecretKey::generate(),
            ))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres.take() else {
            return;
        };
        let server = postgres_server_url();
        // Drop runs inside the test's runtime, which cannot be blocked on: the drop
        // gets a thread and a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .map(|_| ())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop a test database: {e}");
        }
    }
}

/// Runs one statement on the database as an operator at a SQL prompt would.
pub async fn execute(url: &str, sql: &str) {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// The first column of the first row of `sql`, as text (NULL: `None`).
pub async fn scalar_text(url: &str, sql: &str) -> Option<String> {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let value = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        value
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let value = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        value
    }
}

/// Everything a copy of the database would hold: the SQLite file and its write-ahead
/// log, byte for byte, or a `pg_dump` of the PostgreSQL database (binary values in
/// hex, see [`holds`]).
pub async fn stored_bytes(url: &str) -> Vec<u8> {
    if url.starts_with("postgres") {
        let dump = std::process::Command::new("pg_dump")
            .args(["--data-only", url])
            .output()
            .expect("pg_dump runs");
        assert!(
            dump.status.success(),
            "{}",
            String::from_utf8_lossy(&dump.stderr)
        );
        return dump.stdout;
    }
    execute(url, "PRAGMA wal_checkpoint(TRUNCATE)").await;
    let path = url.trim_start_matches("sqlite://");
    let mut bytes = std::fs::read(path).unwrap();
    bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    bytes
}

/// Whether `stored` (see [`stored_bytes`]) holds `needle`, as bytes or in hex.
pub fn holds(stored: &[u8], needle: &[u8]) -> bool {
    let hex: String = needle.iter().map(|b| format!("{b:02x}")).collect();
    let found = |n: &[u8]| !n.is_empty() && stored.windows(n.len()).any(|w| w == n);
    found(needle) || found(hex.as_bytes())
}
