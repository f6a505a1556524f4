use super::db::{query, DbRow};
use super::{now_millis, Store, StoreError};
use crate::accounts::{Account, AccountProblem, Credentials, MarketplaceKind, NewAccount};
use crate::secrets::{Keyring, Secret, SecretError};

const ACCOUNT_COLUMNS: &str =
    "id, key, marketplace, display_name, company, enabled, marketplace_id, \
     region, api_base_url, auth_base_url, client_id, client_secret, refresh_token, writeback_api";

fn account_from_row(store: &Store, row: &DbRow) -> Result<Account, StoreError> {
    let marketplace: String = row.try_get("marketplace")?;
    let key: String = row.try_get("key")?;
    // Credentials that cannot be opened (another key, a damaged value) leave this one
    // account unusable, never the others: it is returned with the reason.
    let secret = |field: &str| -> Result<Secret, String> {
        let stored: String = row.try_get(field).map_err(|e| e.to_string())?;
        if stored.is_empty() {
            return Err(format!("its {} is missing", field.replace('_', " ")));
        }
        store
            .open_secret(&stored, &key, field)
            .map_err(|e| format!("its {}: {e}", field.replace('_', " ")))
    };
    let (client_secret, refresh_token, unreadable) =
        match (secret("client_secret"), secret("refresh_token")) {
            (Ok(client_secret), Ok(refresh_token)) => (client_secret, refresh_token, None),
            (Err(why), _) | (_, Err(why)) => (Secret::new(""), Secret::new(""), Some(why)),
        };
    let mut account = Account {
        id: row.try_get("id")?,
        key: row.try_get("key")?,
        marketplace: MarketplaceKind::parse(&marketplace)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown marketplace '{marketplace}'")))?,
        display_name: row.try_get("display_name")?,
        company: row.try_get("company")?,
        enabled: row.try_get("enabled")?,
        marketplace_id: row.try_get("marketplace_id")?,
        region: row.try_get("region")?,
        api_base_url: row.try_get("api_base_url")?,
        auth_base_url: row.try_get("auth_base_url")?,
        credentials: Credentials {
            client_id: row.try_get("client_id")?,
            client_secret,
            refresh_token,
        },
        writeback_api: row.try_get("writeback_api")?,
        unusable: None,
    };
    account.unusable = match unreadable {
        Some(why) => Some(AccountProblem::Credentials(why)),
        None => account.settings_problem().map(AccountProblem::Settings),
    };
    Ok(account)
}

impl Store {
    pub(super) fn keyring(&self) -> Result<&Keyring, StoreError> {
        self.keyring
            .as_deref()
            .ok_or(StoreError::Secret(SecretError::NoKey))
    }

    fn seal_secret(
        &self,
        secret: &Secret,
        account: &str,
        field: &str,
    ) -> Result<String, StoreError> {
        Ok(self.keyring()?.seal(secret, &format!("{account}/{field}")))
    }

    fn open_secret(&self, stored: &str, account: &str, field: &str) -> Result<Secret, StoreError> {
        Ok(self
            .keyring()?
            .open(stored, &format!("{account}/{field}"))?)
    }

    /// Seals every credential that is still in the clear (written before credentials
    /// were sealed) or sealed with an older key of the keyring. Returns how many
    /// accounts were resealed.
    pub async fn reseal_credentials(&self) -> Result<usize, StoreError> {
        let keyring = self.keyring()?;
        let mut tx = self.write_tx().await?;
        let rows = query("SELECT id, key, client_secret, refresh_token FROM accounts")
            .fetch_all(&mut tx)
            .await?;
        let mut resealed = 0;
        for row in rows {
            let key: String = row.try_get("key")?;
            let mut fields = Vec::new();
            for field in ["client_secret", "refresh_token"] {
                let stored: String = row.try_get(field)?;
                if !keyring.needs_reseal(&stored) {
                    fields.push(stored);
                    continue;
                }
                let context = format!("{key}/{field}");
                let secret = if Keyring::is_sealed(&stored) {
                    match keyring.open(&stored, &context) {
                        Ok(secret) => secret,
                        // Left as it is: the account waits with its reason (see
                        // `account_from_row`); the others are resealed.
                        Err(e) => {
                            tracing::error!(account = %key, field, error = %e, "cannot open a credential to reseal it");
                            fields.push(stored);
                            continue;
                        }
                    }
                } else {
                    Secret::new(stored)
                };
                fields.push(keyring.seal(&secret, &context));
            }
            let changed = query(
                "UPDATE accounts SET client_secret = $1, refresh_token = $2
                 WHERE id = $3 AND (client_secret != $4 OR refresh_token != $5)",
            )
            .bind(&fields[0])
            .bind(&fields[1])
            .bind(row.try_get::<i64, _>("id")?)
            .bind(&fields[0])
            .bind(&fields[1])
            .execute(&mut tx)
            .await?
            .rows_affected();
            resealed += changed as usize;
        }
        tx.commit().await?;
        Ok(resealed)
    }

    /// Registers an account, or updates the one with the same key.
    pub async fn upsert_account(&self, account: &NewAccount) -> Result<Account, StoreError> {
        let row = query(format!(
            "INSERT INTO accounts (key, marketplace, display_name, company, enabled, marketplace_id, region,
                                   api_base_url, auth_base_url, client_id, client_secret, refresh_token, writeback_api, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (key) DO UPDATE SET
                 marketplace = excluded.marketplace, display_name = excluded.display_name,
                 company = excluded.company, enabled = excluded.enabled,
                 marketplace_id = excluded.marketplace_id, region = excluded.region,
                 api_base_url = excluded.api_base_url, auth_base_url = excluded.auth_base_url,
                 client_id = excluded.client_id, client_secret = excluded.client_secret,
                 refresh_token = excluded.refresh_token, writeback_api = excluded.writeback_api
             RETURNING {ACCOUNT_COLUMNS}"
        ))
        .bind(&account.key)
        .bind(account.marketplace.as_str())
        .bind(&account.display_name)
        .bind(&account.company)
        .bind(account.enabled)
        .bind(&account.marketplace_id)
        .bind(&account.region)
        .bind(&account.api_base_url)
        .bind(&account.auth_base_url)
        .bind(&account.credentials.client_id)
        .bind(self.seal_secret(&account.credentials.client_secret, &account.key, "client_secret")?)
        .bind(self.seal_secret(&account.credentials.refresh_token, &account.key, "refresh_token")?)
        .bind(&account.writeback_api)
        .bind(now_millis())
        .fetch_one(&self.pool)
        .await?;
        account_from_row(self, &row)
    }

    pub async fn account_by_key(&self, key: &str) -> Result<Option<Account>, StoreError> {
        query(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE key = $1"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| account_from_row(self, &row))
        .transpose()
    }

    /// False if there is no such account.
    pub async fn set_account_enabled(&self, key: &str, enabled: bool) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let changed = query("UPDATE accounts SET enabled = $1 WHERE key = $2")
            .bind(enabled)
            .bind(key)
            .execute(&mut tx)
            .await?
            .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(changed)
    }

    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = query(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY display_name, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| account_from_row(self, row)).collect()
    }

    pub async fn account(&self, id: i64) -> Result<Option<Account>, StoreError> {
        let row = query(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(|row| account_from_row(self, row))
            .transpose()
    }
}
