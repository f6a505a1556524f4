//! The marketplaces' OAuth access tokens, kept sealed in the database so that every
//! worker uses the one token of an account instead of each exchanging its own.
//!
//! Both statements run in tasks of their own: their callers are calls of a batch,
//! which the worker stops polling while it records results (see `pacing.rs`).

use super::db::query;
use super::{Store, StoreError};
use crate::secrets::Secret;

fn context(key: &str) -> String {
    format!("access-token/{key}")
}

impl Store {
    /// The account's shared token and when it expires (Unix milliseconds), if any.
    pub async fn shared_access_token(
        &self,
        key: &str,
    ) -> Result<Option<(Secret, i64)>, StoreError> {
        let store = self.clone();
        let wanted = key.to_string();
        let row = tokio::spawn(async move {
            query("SELECT token, expires_at FROM marketplace_access_tokens WHERE key = $1")
                .bind(wanted)
                .fetch_optional(&store.pool)
                .await
        })
        .await??;
        let Some(row) = row else {
            return Ok(None);
        };
        let sealed: String = row.try_get("token")?;
        let token = self.keyring()?.open(&sealed, &context(key))?;
        Ok(Some((token, row.try_get("expires_at")?)))
    }

    /// Shares a fresh token; an older one (expiring sooner) never replaces a newer.
    pub async fn share_access_token(
        &self,
        key: &str,
        token: &Secret,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let sealed = self.keyring()?.seal(token, &context(key));
        let store = self.clone();
        let key = key.to_string();
        tokio::spawn(async move {
            query(
                "INSERT INTO marketplace_access_tokens (key, token, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET token = excluded.token,
                     expires_at = excluded.expires_at
                  WHERE marketplace_access_tokens.expires_at < excluded.expires_at",
            )
            .bind(key)
            .bind(sealed)
            .bind(expires_at)
            .execute(&store.pool)
            .await
        })
        .await??;
        Ok(())
    }
}
