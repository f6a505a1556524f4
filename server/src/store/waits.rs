//! What shipments wait on instead of being due: a key per cause, shared by every
//! shipment it holds (`shipments.waiting_on`), and the sentence each shows. A waiting
//! shipment spends no attempt; it goes on when its cause is mended (an admin's
//! change, a paused API's probe getting through).
//!
//! The keys: `api:<account id>:writeback` (the account's write-back API paused by the
//! marketplace's trouble), `account:<account id>:disabled`, `account:<account
//! id>:unusable` (credentials or settings Shipback cannot use), `carrier:<marketplace>:
//! <station name>` (a carrier nobody mapped).

use super::db::{query, SqlBuilder, Tx};
use super::{now_millis, Store, StoreError};

/// The key of an account's paused write-back queue.
pub fn writeback_key(account_id: i64) -> String {
    format!("api:{account_id}:writeback")
}

/// The keys of what an account's shipments wait on that the account itself mends:
/// being enabled again, its credentials or settings corrected.
pub fn account_keys(account_id: i64) -> [String; 2] {
    [
        format!("account:{account_id}:disabled"),
        format!("account:{account_id}:unusable"),
    ]
}

/// Sends on every shipment waiting on `waiting_on`, due at `now`, within `tx`.
pub(super) async fn resume_in(tx: &mut Tx, waiting_on: &str, now: i64) -> Result<u64, StoreError> {
    Ok(query(
        "UPDATE shipments SET waiting_on = NULL, last_error = NULL, next_attempt_at = $1,
             updated_at = $2
         WHERE waiting_on = $3",
    )
    .bind(now)
    .bind(now)
    .bind(waiting_on)
    .execute(tx)
    .await?
    .rows_affected())
}

impl Store {
    /// Leaves `worker`'s claimed shipments waiting, each on its key with its reason for
    /// the grid: not attempted, no attempt spent, released for whoever takes it up
    /// again. A claim a correction superseded meanwhile is only given back, due at
    /// once. How many now wait.
    pub async fn wait_many(
        &self,
        worker: &str,
        waits: &[(i64, i64, String, String)],
    ) -> Result<usize, StoreError> {
        let mut tx = self.write_tx().await?;
        let now = now_millis();
        let mut waiting = 0;
        for (row_id, fence, key, reason) in waits {
            let waits_now = query(
                "UPDATE shipments SET waiting_on = $1, last_error = $2, next_attempt_at = NULL,
                     lease_owner = NULL, lease_until = NULL, updated_at = $3
                 WHERE id = $4 AND fence = $5",
            )
            .bind(key)
            .bind(reason)
            .bind(now)
            .bind(row_id)
            .bind(fence)
            .execute(&mut tx)
            .await?
            .rows_affected();
            if waits_now == 0 {
                super::claims::release_lease(&mut tx, *row_id, worker).await?;
            }
            waiting += waits_now as usize;
        }
        tx.commit().await?;
        Ok(waiting)
    }

    /// Sends on every shipment waiting on any of `keys`. The number sent on.
    pub async fn resume_waiting_on(&self, keys: &[String]) -> Result<u64, StoreError> {
        if keys.is_empty() {
            return Ok(0);
        }
        // Read first: nearly always nobody waits, and a read costs no write lock.
        let mut check = SqlBuilder::new("SELECT COUNT(*) FROM shipments WHERE waiting_on IN (");
        let mut list = check.separated(", ");
        for key in keys {
            list.push_bind(key.clone());
        }
        check.push(")");
        let waiting: i64 = check.build_query_scalar().fetch_one(&self.pool).await?;
        if waiting == 0 {
            return Ok(0);
        }
        let mut resumed = 0;
        for key in keys {
            resumed += self.resume_waiting(key).await?;
        }
        Ok(resumed)
    }

    /// Sends on every shipment waiting on `waiting_on`: due at once. The number sent on.
    pub async fn resume_waiting(&self, waiting_on: &str) -> Result<u64, StoreError> {
        let mut tx = self.write_tx().await?;
        let resumed = resume_in(&mut tx, waiting_on, now_millis()).await?;
        tx.commit().await?;
        Ok(resumed)
    }

    /// How many shipments wait, by what they wait on.
    pub async fn waiting_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        query(
            "SELECT waiting_on, COUNT(*) AS n FROM shipments
              WHERE waiting_on IS NOT NULL GROUP BY waiting_on",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("waiting_on")?, r.try_get::<i64, _>("n")? as u64)))
        .collect()
    }
}
