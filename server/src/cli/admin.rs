//! The one-shot subcommands: people, station tokens, the credentials' key, accounts,
//! an operator's actions on shipments, and synthetic data. Each change goes through the
//! same actions as the dashboard's and the API's (`crate::actions`), audited under the
//! command line's name.

use super::args::{DatabaseArgs, EmulatorArgs, KeyNeed, RetentionArgs};
use super::{AccountCommand, CliError, KeysCommand, ShipmentsCommand, TokenCommand, UserCommand};
use crate::actions::Actions;
use crate::audit::{self, Action, Actor};
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::Notify;

/// The actions, over `store`. No worker runs in this process: the workers find what is
/// queued at their next poll.
fn actions(store: Store) -> Actions {
    Actions::new(store, Arc::new(Notify::new()))
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "-".to_string())
}

/// `shipback backup`: the copy, then what it holds.
pub async fn backup(db: &DatabaseArgs, out: &std::path::Path) -> Result<(), CliError> {
    let store = Store::connect(&db.database_url).await?;
    let summary = store.backup_to(out).await;
    store.close().await;
    let summary = summary?;
    println!(
        "backed up {} to {}: {} shipments, {} attempts, schema {}, {} bytes",
        crate::store::redact_url(&db.database_url),
        summary.file.display(),
        summary.shipments,
        summary.attempts,
        summary.schema,
        summary.bytes
    );
    println!("the credentials' key is not in the backup: keep it apart, with care");
    Ok(())
}

/// `shipback prune`: one retention pass, now.
pub async fn prune(db: &DatabaseArgs, retention: &RetentionArgs) -> Result<(), CliError> {
    let store = Store::open(&db.database_url).await?;
    let report =
        crate::retention::prune(&store, retention.policy(), crate::store::now_millis()).await;
    store.close().await;
    let report = report?;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!(
        "deleted {} shipments (with their attempts) and {} audit entries in {} batches; \
         batch time p50 {:.1} ms, p99 {:.1} ms, longest {:.1} ms",
        report.shipments,
        report.audit_entries,
        report.batches.len(),
        ms(report.batch_percentile(0.5)),
        ms(report.batch_percentile(0.99)),
        ms(report.longest_batch())
    );
    Ok(())
}

/// `shipback restore`: the backup in place, migrated, and what it holds.
pub async fn restore(db: &DatabaseArgs, from: &std::path::Path) -> Result<(), CliError> {
    let (store, summary) = Store::restore(from, &db.database_url).await?;
    store.close().await;
    println!(
        "restored {} as {}: {} shipments, {} attempts, schema {}",
        from.display(),
        summary.file.display(),
        summary.shipments,
        summary.attempts,
        summary.schema
    );
    let key_found = db.secret_key_file.is_some()
        || std::env::var_os("SHIPBACK_SECRET_KEY").is_some()
        || crate::secrets::key_beside_database(&db.database_url).is_some_and(|k| k.exists());
    if !key_found {
        println!(
            "its credentials are sealed with the key of the installation it came from: put              that key beside it as secret.key, or give it with --secret-key-file"
        );
    }
    Ok(())
}

pub async fn keys(action: KeysCommand) -> Result<(), CliError> {
    use crate::secrets::{load_key, Keyring, SecretKey};
    match action {
        KeysCommand::Generate { out } => {
            let key = SecretKey::generate();
            key.write_new_file(&out)?;
            println!("key {} written to {}", key.id(), out.display());
        }
        KeysCommand::Rotate { new_key_file, db } => {
            let old = load_key(db.secret_key_file.as_deref(), &db.database_url)?;
            let new = SecretKey::read_file(&new_key_file)?;
            let store = Store::open(&db.database_url)
                .await?
                .with_keyring(Keyring::new(new.clone()).with_previous(old.clone()));
            let resealed = store.reseal_credentials().await?;
            let detail = format!("from key {} to key {}", old.id(), new.id());
            audit::record(
                &store,
                &Actor::CommandLine,
                Action::KeysRotate,
                "credentials",
                &detail,
            )
            .await;
            println!("{resealed} accounts resealed {detail}; give the servers the new key now");
        }
    }
    Ok(())
}

/// The password: asked twice at a terminal, else the first line of stdin; never a flag,
/// which would end up in the shell's history.
fn read_password(name: &str) -> Result<String, CliError> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {name}: "))
            .map_err(|e| CliError::Password(e.to_string()))?;
        let again = rpassword::prompt_password("The same again: ")
            .map_err(|e| CliError::Password(e.to_string()))?;
        if first != again {
            return Err(CliError::Password("the two passwords differ".into()));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| CliError::Password(e.to_string()))?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

pub async fn user(action: UserCommand) -> Result<(), CliError> {
    match action {
        UserCommand::Add { name, role, db } => {
            let role = app::people::Role::parse(&role).ok_or_else(|| {
                CliError::Config(format!(
                    "unknown role '{role}': use viewer, operator or admin"
                ))
            })?;
            let password = read_password(&name)?;
            let store = db.open(KeyNeed::Optional).await?;
            let added = actions(store)
                .save_person(&Actor::CommandLine, &name, &password, role)
                .await?;
            let what = if added { "added" } else { "updated" };
            println!("{name} ({}) {what}", role.as_str());
        }
        UserCommand::List { db } => {
            let store = db.open(KeyNeed::Optional).await?;
            println!("{:<32} {:<10} created", "name", "role");
            for user in store.users().await? {
                println!(
                    "{:<32} {:<10} {}",
                    user.name,
                    user.role.as_str(),
                    user.created_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
    }
    Ok(())
}

pub async fn token(action: TokenCommand) -> Result<(), CliError> {
    match action {
        TokenCommand::Create { name, scope, db } => {
            let scopes = scope.parse()?;
            let store = db.open(KeyNeed::Optional).await?;
            let token = actions(store)
                .create_token(&Actor::CommandLine, &name, scopes)
                .await?;
            // The token alone on stdout, so that scripts can capture it.
            println!("{token}");
            eprintln!("token '{name}' ({scopes}) created; it will not be shown again");
        }
        TokenCommand::List { db } => {
            let store = db.open(KeyNeed::Optional).await?;
            println!(
                "{:<24} {:<22} {:<20} {:<20} revoked",
                "name", "scopes", "created", "last used"
            );
            for t in store.tokens().await? {
                println!(
                    "{:<24} {:<22} {:<20} {:<20} {}",
                    t.name,
                    t.scopes.to_string(),
                    when(Some(t.created_at)),
                    when(t.last_used_at),
                    when(t.revoked_at)
                );
            }
        }
        TokenCommand::Revoke { name, db } => {
            let store = db.open(KeyNeed::Optional).await?;
            actions(store)
                .revoke_token(&Actor::CommandLine, &name)
                .await?;
            println!("token '{name}' revoked");
        }
    }
    Ok(())
}

pub async fn account(action: AccountCommand) -> Result<(), CliError> {
    match action {
        AccountCommand::List { db } => {
            let store = db.open(KeyNeed::Optional).await?;
            println!(
                "{:<20} {:<8} {:<28} {:<9} api",
                "key", "market", "name", "enabled"
            );
            for a in store.accounts().await? {
                println!(
                    "{:<20} {:<8} {:<28} {:<9} {}",
                    a.key,
                    a.marketplace.as_str(),
                    a.display_name,
                    if a.enabled { "yes" } else { "no" },
                    a.api_base_url
                );
            }
        }
        AccountCommand::Enable { key, db } => set_enabled(&db, &key, true).await?,
        AccountCommand::Disable { key, db } => set_enabled(&db, &key, false).await?,
    }
    Ok(())
}

async fn set_enabled(db: &DatabaseArgs, key: &str, enabled: bool) -> Result<(), CliError> {
    let store = db.open(KeyNeed::Optional).await?;
    actions(store)
        .set_account_enabled(&Actor::CommandLine, key, enabled)
        .await?;
    let state = if enabled { "enabled" } else { "disabled" };
    println!("account '{key}' {state}");
    Ok(())
}

pub async fn shipments(action: ShipmentsCommand) -> Result<(), CliError> {
    match action {
        ShipmentsCommand::Retry { shipment_ids, db } => {
            let store = db.open(KeyNeed::Optional).await?;
            let results = actions(store)
                .retry_now(&Actor::CommandLine, &shipment_ids)
                .await?;
            let mut refused = 0;
            for result in results {
                match result.message {
                    None => println!("{}: queued for a new round", result.shipment_id),
                    Some(why) => {
                        refused += 1;
                        eprintln!("{}: {why}", result.shipment_id);
                    }
                }
            }
            if refused > 0 {
                return Err(CliError::NotAllRetried(refused));
            }
        }
        ShipmentsCommand::Confirm {
            shipment_id,
            confirmed_by,
            note,
            db,
        } => {
            let store = db.open(KeyNeed::Optional).await?;
            actions(store)
                .confirm_manually(&Actor::CommandLine, &shipment_id, &confirmed_by, &note)
                .await?;
            println!("{shipment_id}: confirmed manually by {confirmed_by}");
        }
    }
    Ok(())
}

pub async fn generate(
    db: DatabaseArgs,
    shipments: u64,
    days: i64,
    seed: u64,
    emulator: EmulatorArgs,
) -> Result<(), CliError> {
    let store = db.open(KeyNeed::Required).await?;
    let started = std::time::Instant::now();
    let emulator_url = format!("http://{}", emulator.emulator_bind);
    let total = crate::generate::generate(&store, shipments, days, &emulator_url, seed).await?;
    println!(
        "added {shipments} shipments in {:.1} s; {total} in {}",
        started.elapsed().as_secs_f64(),
        db.database_url
    );
    Ok(())
}
