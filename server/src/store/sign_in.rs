//! Wrong passwords per name and per address, counted in the database so that every
//! instance behind the load balancer slows the same guesser down.

use super::db::{query, SqlBuilder};
use super::shipments::push_any_of;
use super::{Store, StoreError};

impl Store {
    /// The keys' failures not yet forgotten (last one after `since`): (key, count, last).
    pub async fn sign_in_failures(
        &self,
        keys: &[String],
        since: i64,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql =
            SqlBuilder::new("SELECT key, failures, last_at FROM sign_in_failures WHERE last_at > ");
        sql.push_bind(since);
        push_any_of(&mut sql, "key", keys);
        sql.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("key")?,
                    r.try_get("failures")?,
                    r.try_get("last_at")?,
                ))
            })
            .collect()
    }

    /// One more failure for each key at `now`; a count whose last failure is at or
    /// before `forget_before` starts again. Forgotten rows are deleted on the way.
    pub async fn add_sign_in_failure(
        &self,
        keys: &[String],
        now: i64,
        forget_before: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        query("DELETE FROM sign_in_failures WHERE last_at <= $1")
            .bind(forget_before)
            .execute(&mut tx)
            .await?;
        for key in keys {
            query(
                "INSERT INTO sign_in_failures (key, failures, last_at) VALUES ($1, 1, $2)
                 ON CONFLICT (key) DO UPDATE SET
                     failures = sign_in_failures.failures + 1, last_at = excluded.last_at",
            )
            .bind(key)
            .bind(now)
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets a key's failures (its password was right).
    pub async fn forget_sign_in_failures(&self, key: &str) -> Result<(), StoreError> {
        query("DELETE FROM sign_in_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
