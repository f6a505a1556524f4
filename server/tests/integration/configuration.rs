//! Bad configuration is refused at start with a clear sentence: a PostgreSQL that does
//! not answer, a database a newer Shipback migrated. Nothing stored is touched.

use crate::common;

use common::database::{on_postgres, TestDatabase};
use shipback::store::{Store, StoreError};

/// `shipback ARGS`: its exit status and standard error.
fn shipback(args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_shipback"))
        .args(args)
        .env("SHIPBACK_LOG", "warn")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn an_unreachable_postgresql_is_named_at_start() {
    // Nothing listens on port 1.
    let url = "postgres://shipback:hunter2@127.0.0.1:1/shipback";
    let error = Store::open(url).await.expect_err("refused");
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
    let (ok, stderr) = shipback(&["migrate", "--database-url", url]);
    assert!(!ok);
    assert!(
        stderr.contains("cannot open the database at postgres://shipback:***@127.0.0.1:1/shipback"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hunter2"),
        "the password is not shown: {stderr}"
    );
}

#[tokio::test]
async fn a_database_a_newer_shipback_migrated_is_refused() {
    let database = TestDatabase::new().await;
    Store::open(&database.url).await.unwrap();
    let checksum = if on_postgres() {
        "'\\x00'::bytea"
    } else {
        "X'00'"
    };
    common::database::execute(
        &database.url,
        &format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (99991231000001, 'from a newer Shipback', TRUE, {checksum}, 0)"
        ),
    )
    .await;
    let error = Store::open(&database.url).await.expect_err("refused");
    assert!(
        matches!(
            error,
            StoreError::NewerSchema {
                applied: 99991231000001,
                ..
            }
        ),
        "{error:?}"
    );
    let (ok, stderr) = shipback(&["migrate", "--database-url", &database.url]);
    assert!(!ok);
    assert!(
        stderr.contains("newer schema (migration 99991231000001)"),
        "{stderr}"
    );
}

/// A SQLite installation moves to PostgreSQL with `shipback migrate-data`: the same
/// shipments in the same order with the same totals, the same accounts (credentials
/// open with the same key), people and tokens, and new rows after the copied ones.
#[tokio::test]
async fn migrate_data_copies_a_sqlite_installation_into_postgresql() {
    if !on_postgres() {
        eprintln!("skipped here: needs PostgreSQL; the PostgreSQL pass of scripts/test.sh runs it");
        return;
    }
    use app::query::ShipmentQuery;
    use shipback::secrets::{Keyring, SecretKey};

    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}/shipback.db", dir.path().display());
    let key = SecretKey::generate();
    let source = Store::open(&sqlite_url)
        .await
        .unwrap()
        .with_keyring(Keyring::new(key.clone()));
    shipback::generate::generate(&source, 2_500, 60, "http://127.0.0.1:9", 11)
        .await
        .unwrap();
    shipback::people::add_user(
        &source,
        "dana",
        "a long enough password",
        app::people::Role::Admin,
    )
    .await
    .unwrap();
    let token = shipback::tokens::create_token(
        &source,
        "station",
        "ingest,read".parse().unwrap(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();

    let target = TestDatabase::new().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_shipback"))
        .args(["migrate-data", "--from", &sqlite_url, "--to", &target.url])
        .env("SHIPBACK_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("shipments") && stdout.contains("2500 rows"),
        "{stdout}"
    );

    let copy = Store::open(&target.url)
        .await
        .unwrap()
        .with_keyring(Keyring::new(key));
    assert_eq!(
        copy.status_counts().await.unwrap(),
        source.status_counts().await.unwrap()
    );
    for query in [
        "",
        "sort=order_id",
        "status=failed&sort=-ship_date",
        "carrier=UPS&sort=tracking_number",
    ] {
        let pairs = query.split('&').filter_map(|pair| pair.split_once('='));
        let query = ShipmentQuery::from_pairs(pairs).unwrap();
        let (a, b) = (
            source.list_shipments(&query).await.unwrap(),
            copy.list_shipments(&query).await.unwrap(),
        );
        assert_eq!(a.total, b.total, "{query:?}");
        assert_eq!(a.items, b.items, "{query:?}");
        assert_eq!(a.next_cursor, b.next_cursor, "{query:?}");
    }
    let (a, b) = (
        source.accounts().await.unwrap(),
        copy.accounts().await.unwrap(),
    );
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert!(
        b.iter().all(|account| account.unusable.is_none()),
        "credentials open: {b:?}"
    );
    let bearer = format!("Bearer {token}");
    let found = shipback::tokens::authenticate(&copy, Some(&bearer), chrono::Utc::now()).await;
    assert_eq!(found.unwrap().name, "station");
    let dana = copy.user_by_name("dana").await.unwrap().unwrap();
    assert!(shipback::people::verify_password(
        "a long enough password",
        &dana.password_hash
    ));
    // New rows continue after the copied ones.
    shipback::people::add_user(
        &copy,
        "erin",
        "another long password",
        app::people::Role::Viewer,
    )
    .await
    .unwrap();
    assert!(copy.user_by_name("erin").await.unwrap().unwrap().id > dana.id);
    // Into an empty database only: a second copy is refused, nothing changes.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_shipback"))
        .args(["migrate-data", "--from", &sqlite_url, "--to", &target.url])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds data"));
    assert_eq!(
        copy.status_counts().await.unwrap(),
        source.status_counts().await.unwrap()
    );
}
