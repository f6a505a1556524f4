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
    /// returns how long to wait before calling. With `latest`, the turn is taken only
    /// if it comes within that time (`None` otherwise): a call that could not start in
    /// time must not spend the plan's turn.
    pub async fn take_turn(
        &self,
        key: &str,
        interval: Duration,
        burst: u32,
        latest: Option<Duration>,
    ) -> Result<Option<Duration>, StoreError> {
        let now = chrono::Utc::now().timestamp_micros();
        let interval = interval.as_micros().min(i64::MAX as u128) as i64;
        let tolerance = interval.saturating_mul(i64::from(burst.max(1) - 1));
        // One statement, so no transaction. It runs in a task of its own: the caller is
        // one of a batch's calls, which the worker stops polling while it records
        // results, and a statement left half-way would hold a connection (and on
        // PostgreSQL the row) that the recording waits for.
        let store = self.clone();
        let key = key.to_string();
        // The turn's time is the later of the next arrival and now, less the burst's
        // tolerance; it is taken only if that is within `latest`.
        let latest = latest.map_or(i64::MAX, |l| {
            now.saturating_add(l.as_micros().min(i64::MAX as u128) as i64)
        });
        let next: Option<i64> = tokio::spawn(async move {
            query_scalar(
                "INSERT INTO api_pacing (key, tat) VALUES ($1, $2 + $3)
                 ON CONFLICT (key) DO UPDATE SET
                     tat = CASE WHEN api_pacing.tat > $2 THEN api_pacing.tat ELSE $2 END + $3
                  WHERE api_pacing.tat - $4 <= $5
                 RETURNING tat",
            )
            .bind(key)
            .bind(now)
            .bind(interval)
            .bind(tolerance)
            .bind(latest)
            .fetch_optional(&store.pool)
            .await
        })
        .await??;
        Ok(next.map(|next| {
            let allowed_at = next - interval - tolerance;
            Duration::from_micros((allowed_at - now).max(0) as u64)
        }))
    }
}
