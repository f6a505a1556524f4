//! Turns at a marketplace's usage plan, shared by every process on the database.
//!
//! The generic cell rate algorithm: each key keeps the theoretical arrival time of its
//! next call. Taking a turn moves it one interval on, atomically, and tells the caller
//! how long to wait first; the burst is the tolerance by which a call may come early.
//! One statement per call, whichever process makes it.

use super::db::query_scalar;
use super::{Store, StoreError};
use std::time::Duration;

impl Store {
    /// Takes the next turn of `key` at `interval` per call with `burst` calls at once;
    /// returns how long to wait before calling.
    pub async fn take_turn(
        &self,
        key: &str,
        interval: Duration,
        burst: u32,
    ) -> Result<Duration, StoreError> {
        let now = chrono::Utc::now().timestamp_micros();
        let interval = interval.as_micros().min(i64::MAX as u128) as i64;
        let tolerance = interval.saturating_mul(i64::from(burst.max(1) - 1));
        // One statement, so no transaction. It runs in a task of its own: the caller is
        // one of a batch's calls, which the worker stops polling while it records
        // results, and a statement left half-way would hold a connection (and on
        // PostgreSQL the row) that the recording waits for.
        let store = self.clone();
        let key = key.to_string();
        let next: i64 = tokio::spawn(async move {
            query_scalar(
                "INSERT INTO api_pacing (key, tat) VALUES ($1, $2 + $3)
                 ON CONFLICT (key) DO UPDATE SET
                     tat = CASE WHEN api_pacing.tat > $2 THEN api_pacing.tat ELSE $2 END + $3
                 RETURNING tat",
            )
            .bind(key)
            .bind(now)
            .bind(interval)
            .fetch_one(&store.pool)
            .await
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("the pacing task ended: {e}")))??;
        let allowed_at = next - interval - tolerance;
        Ok(Duration::from_micros((allowed_at - now).max(0) as u64))
    }
}
