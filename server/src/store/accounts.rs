use super::{now_millis, Store, StoreError};
use crate::accounts::{Account, Credentials, MarketplaceKind, NewAccount};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

const ACCOUNT_COLUMNS: &str =
    "id, key, marketplace, display_name, company, enabled, marketplace_id, \
     region, api_base_url, auth_base_url, client_id, client_secret, refresh_token, writeback_api";

fn account_from_row(row: &SqliteRow) -> Result<Account, StoreError> {
    let marketplace: String = row.try_get("marketplace")?;
    Ok(Account {
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
            client_secret: row.try_get("client_secret")?,
            refresh_token: row.try_get("refresh_token")?,
        },
        writeback_api: row.try_get("writeback_api")?,
    })
}

impl Store {
    /// Registers an account, or updates the one with the same key.
    pub async fn upsert_account(&self, account: &NewAccount) -> Result<Account, StoreError> {
        let row = sqlx::query(&format!(
            "INSERT INTO accounts (key, marketplace, display_name, company, enabled, marketplace_id, region,
                                   api_base_url, auth_base_url, client_id, client_secret, refresh_token, writeback_api, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
        .bind(&account.credentials.client_secret)
        .bind(&account.credentials.refresh_token)
        .bind(&account.writeback_api)
        .bind(now_millis())
        .fetch_one(&self.pool)
        .await?;
        account_from_row(&row)
    }

    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY display_name, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(account_from_row).collect()
    }

    pub async fn account(&self, id: i64) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(account_from_row).transpose()
    }
}
