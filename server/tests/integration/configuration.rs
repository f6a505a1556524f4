//! Bad configuration is refused at start with a clear sentence: a PostgreSQL that does
//! not answer, a database a newer Shipback migrated. Nothing stored is touched.

use crate::common;

use common::database::{on_postgres, TestDatabase};
use common::{run_shipback, run_shipback_blocking};
use shipback::store::{Store, StoreError};

/// Every one-shot command takes `--database-url` and works on the database of this
/// pass (a SQLite file, or a PostgreSQL database of its own): what one wrote, the next
/// reads.
#[tokio::test]
async fn every_command_works_on_the_database_it_is_given() {
    let database = TestDatabase::new().await;
    let folder = database.dir.path();
    let (key, new_key) = (folder.join("old.key"), folder.join("new.key"));
    let (key, new_key) = (key.to_str().unwrap(), new_key.to_str().unwrap());
    let on_database = |args: &[&str], stdin: &str| {
        let mut all = args.to_vec();
        all.extend(["--database-url", &database.url, "--secret-key-file", key]);
        let (ok, stdout, stderr) = run_shipback_blocking(&all, &[], stdin);
        assert!(ok, "shipback {args:?}: {stderr}");
        stdout
    };
    for file in [key, new_key] {
        let (ok, _, stderr) = run_shipback(&["keys", "generate", "--out", file], &[], "").await;
        assert!(ok, "{stderr}");
    }
    on_database(&["migrate"], "");
    on_database(&["generate", "--shipments", "400", "--days", "3"], "");
    on_database(
        &["user", "add", "casey", "--role", "operator"],
        "a long passphrase\n",
    );
    assert!(on_database(&["user", "list"], "").contains("casey"));
    let token = on_database(&["token", "create", "station", "--scope", "ingest"], "");
    assert!(token.trim().starts_with("sbk_"), "{token}");
    assert!(on_database(&["token", "list"], "").contains("station"));
    let accounts = on_database(&["account", "list"], "");
    // Under a heading, an account a line, its key first.
    let first = accounts
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next());
    let first = first
        .unwrap_or_else(|| panic!("no account listed: {accounts}"))
        .to_string();
    on_database(&["account", "disable", &first], "");
    on_database(&["keys", "rotate", "--new-key-file", new_key], "");

    let store = Store::open(&database.url).await.unwrap();
    let failed_query = app::query::ShipmentQuery {
        statuses: vec![app::shipments::WritebackStatus::Failed],
        ..Default::default()
    };
    let failed = store.list_shipments(&failed_query).await.unwrap();
    let shipment = &failed
        .items
        .first()
        .expect("some of 400 failed")
        .shipment_id;
    let mut retry = vec!["shipments", "retry", shipment.as_str()];
    retry.extend([
        "--database-url",
        &database.url,
        "--secret-key-file",
        new_key,
    ]);
    let (ok, _, stderr) = run_shipback(&retry, &[], "").await;
    assert!(ok, "{stderr}");
    let still_failed = store.list_shipments(&failed_query).await.unwrap().total;
    assert_eq!(
        still_failed,
        failed.total - 1,
        "the retried one starts again"
    );
    let keyring = shipback::secrets::Keyring::new(
        shipback::secrets::load_key(Some(std::path::Path::new(new_key)), &database.url).unwrap(),
    );
    let accounts = store.with_keyring(keyring).accounts().await.unwrap();
    assert!(!accounts.is_empty());
    assert!(
        accounts.iter().all(|a| a.unusable.is_none()),
        "the new key opens every account: {accounts:?}"
    );
    assert!(accounts.iter().any(|a| a.key == first && !a.enabled));
}

/// A site time zone or warning time that cannot be read stops the start with a
/// sentence that says why, before anything is opened.
#[test]
fn a_bad_time_zone_or_warning_is_refused_at_start() {
    let (ok, _, stderr) = run_shipback_blocking(&["serve", "--time-zone", "Mars/Olympus"], &[], "");
    assert!(!ok);
    assert!(
        stderr.contains("'Mars/Olympus' is not a time zone of the IANA database"),
        "{stderr}"
    );
    let (ok, _, stderr) = run_shipback_blocking(&["worker", "--deadline-warning", "soon"], &[], "");
    assert!(!ok);
    assert!(stderr.contains("'soon' is not a duration"), "{stderr}");
}

#[tokio::test]
async fn an_unreachable_postgresql_is_named_at_start() {
    // Nothing listens on port 1.
    let url = "postgres://shipback:hunter2@127.0.0.1:1/shipback";
    let error = Store::open(url).await.expect_err("refused");
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
    let (ok, _, stderr) = run_shipback(&["migrate", "--database-url", url], &[], "").await;
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
    let (ok, _, stderr) =
        run_shipback(&["migrate", "--database-url", &database.url], &[], "").await;
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
    let migrate_data = ["migrate-data", "--from", &sqlite_url, "--to", &target.url];
    let (ok, stdout, stderr) = run_shipback(&migrate_data, &[], "").await;
    assert!(ok, "{stdout}{stderr}");
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
    let (ok, _, stderr) = run_shipback(&migrate_data, &[], "").await;
    assert!(!ok);
    assert!(stderr.contains("already holds data"));
    assert_eq!(
        copy.status_counts().await.unwrap(),
        source.status_counts().await.unwrap()
    );
}
