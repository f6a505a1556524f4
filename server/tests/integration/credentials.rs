//! Marketplace credentials at rest: sealed in the database, unreadable without the key,
//! resealed when the key is rotated, and sealed at once when found in the clear.

use crate::common;

use common::harness;
use shipback::accounts::AccountProblem;
use shipback::secrets::{Keyring, SecretKey};
use shipback::store::Store;

use common::database::{execute, stored_bytes as database_bytes};

fn contains(haystack: &[u8], needle: &str) -> bool {
    common::database::holds(haystack, needle.as_bytes())
}

#[tokio::test]
async fn credentials_are_sealed_in_the_database_and_need_the_key() {
    let h = harness().await;
    let account = h.account(common::ACCOUNT).await;
    assert_eq!(account.credentials.client_secret.expose(), "secret");
    let refresh = account.credentials.refresh_token.expose().to_string();
    assert!(
        !format!("{account:?}").contains(&refresh),
        "Debug shows no secret"
    );

    let bytes = database_bytes(&h.database_url).await;
    assert!(
        !contains(&bytes, &refresh),
        "the refresh token is not in the file"
    );
    assert!(contains(&bytes, "enc:v1:"), "sealed values are");

    // Without the key the accounts' credentials cannot be read: each account says so
    // (its shipments wait, its status is Red), and nothing else breaks.
    let keyless = Store::connect(&h.database_url).await.unwrap();
    let accounts = keyless.accounts().await.unwrap();
    assert_eq!(accounts.len(), 1);
    let problem = accounts[0].unusable.clone().unwrap();
    assert!(
        matches!(problem, AccountProblem::Credentials(_)),
        "{problem:?}"
    );
    assert!(
        problem
            .to_string()
            .starts_with("Shipback cannot read this account's credentials"),
        "{problem}"
    );
    assert!(accounts[0].credentials.refresh_token.expose().is_empty());
    // With another key: the same, and the reason says why.
    let stranger = Store::connect(&h.database_url)
        .await
        .unwrap()
        .with_keyring(Keyring::new(SecretKey::generate()));
    let accounts = stranger.accounts().await.unwrap();
    let why = accounts[0].unusable.as_ref().unwrap().to_string();
    assert!(why.contains("not in the keyring"), "{why}");
}

#[tokio::test]
async fn rotating_the_key_reseals_every_account_and_the_old_key_stops_working() {
    let h = harness().await;
    common::add_account(&h.store, "second", &h.emulator_url).await;
    let old = h.secret_key.clone();
    let new = SecretKey::generate();
    let rotating = Store::connect(&h.database_url)
        .await
        .unwrap()
        .with_keyring(Keyring::new(new.clone()).with_previous(old.clone()));
    assert_eq!(rotating.reseal_credentials().await.unwrap(), 2);
    assert_eq!(
        rotating.reseal_credentials().await.unwrap(),
        0,
        "nothing left to do"
    );

    let with_new = Store::connect(&h.database_url)
        .await
        .unwrap()
        .with_keyring(Keyring::new(new));
    let accounts = with_new.accounts().await.unwrap();
    assert_eq!(accounts.len(), 2);
    assert!(accounts
        .iter()
        .all(|a| a.credentials.client_secret.expose() == "secret"));
    let with_old = Store::connect(&h.database_url)
        .await
        .unwrap()
        .with_keyring(Keyring::new(old));
    assert!(with_old
        .accounts()
        .await
        .unwrap()
        .iter()
        .all(|a| a.unusable.is_some()));
}

#[tokio::test]
async fn credentials_found_in_the_clear_are_sealed() {
    let h = harness().await;
    // As a database written before credentials were sealed would hold them.
    execute(
        &h.database_url,
        "UPDATE accounts SET client_secret = 'plain-secret', refresh_token = 'Atzr|plain'",
    )
    .await;
    assert_eq!(h.store.reseal_credentials().await.unwrap(), 1);
    let account = h.account(common::ACCOUNT).await;
    assert_eq!(account.credentials.refresh_token.expose(), "Atzr|plain");
    let bytes = database_bytes(&h.database_url).await;
    assert!(!contains(&bytes, "Atzr|plain"));
}
