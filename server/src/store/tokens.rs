//! The station API's bearer tokens, kept as hashes.

use super::db::{query, DbRow};
use super::{from_millis, to_millis, Store, StoreError};
use crate::records::tokens::{ApiToken, Scopes, TokenHash};
use chrono::{DateTime, Utc};

impl Store {
    /// Stores a new token under `name`. A revoked token's name can be used again; a
    /// live one's cannot.
    pub async fn insert_token(
        &self,
        name: &str,
        scopes: Scopes,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        query("DELETE FROM api_tokens WHERE name = $1 AND revoked_at IS NOT NULL")
            .bind(name)
            .execute(&mut tx)
            .await?;
        let inserted = query(
            "INSERT INTO api_tokens (name, scopes, token_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(scopes.to_string())
        .bind(hash.as_bytes())
        .bind(to_millis(now))
        .execute(&mut tx)
        .await?
        .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(inserted)
    }

    /// The live (not revoked) token with this hash.
    pub async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<ApiToken>, StoreError> {
        query(
            "SELECT name, scopes, created_at, last_used_at, revoked_at FROM api_tokens
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash.as_bytes())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| token_from_row(&row))
        .transpose()
    }

    pub async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        query(
            "SELECT name, scopes, created_at, last_used_at, revoked_at FROM api_tokens
             ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(token_from_row)
        .collect()
    }

    /// Revokes the live token called `name`; false if there is none.
    pub async fn revoke_token(&self, name: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let revoked =
            query("UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
                .bind(to_millis(now))
                .bind(name)
                .execute(&mut tx)
                .await?
                .rows_affected()
                > 0;
        tx.commit().await?;
        Ok(revoked)
    }

    pub async fn touch_token(&self, name: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        query("UPDATE api_tokens SET last_used_at = $1 WHERE name = $2")
            .bind(to_millis(now))
            .bind(name)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn token_from_row(row: &DbRow) -> Result<ApiToken, StoreError> {
    let scopes: String = row.try_get("scopes")?;
    Ok(ApiToken {
        name: row.try_get("name")?,
        scopes: scopes
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("token scopes '{scopes}': {e}")))?,
        created_at: from_millis(row.try_get("created_at")?)?,
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(from_millis)
            .transpose()?,
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(from_millis)
            .transpose()?,
    })
}
