//! Deleting what is kept no longer (docs/operations.md#retention): finished shipments
//! (with their attempts and manual confirmations, by the foreign keys' cascade) and,
//! when an admin asks, old audit entries. One small batch per write transaction, so
//! that the worker's claims and results never wait long behind it; the grid's counters
//! follow every deleted shipment through their triggers.

use super::db::query;
use super::{Dialect, Store, StoreError};

/// What a batch deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prunable {
    /// Success, Confirmed manually and Failed shipments not changed since the cutoff,
    /// and not claimed by a worker.
    FinishedShipments,
    AuditEntries,
}

impl Store {
    /// Deletes at most `limit` rows of `what` older than `cutoff` (milliseconds since
    /// the epoch), oldest first, in one write transaction. Returns how many went.
    pub async fn prune_batch(
        &self,
        what: Prunable,
        cutoff: i64,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let sql = match (what, self.dialect()) {
            // SQLite's planner prefers the status index, and then reads every finished
            // shipment and sorts them at each batch (measured: 9 shipments a second at
            // 200,000); the partial index is named so that it walks the oldest only.
            (Prunable::FinishedShipments, Dialect::Sqlite) => {
                "DELETE FROM shipments WHERE id IN (
                     SELECT id FROM shipments INDEXED BY shipments_finished_updated
                      WHERE status IN ('success', 'confirmed_manually', 'failed')
                        AND updated_at < $1 AND lease_owner IS NULL
                      ORDER BY updated_at, id
                      LIMIT $2)"
            }
            (Prunable::FinishedShipments, Dialect::Postgres) => {
                "DELETE FROM shipments WHERE id IN (
                     SELECT id FROM shipments
                      WHERE status IN ('success', 'confirmed_manually', 'failed')
                        AND updated_at < $1 AND lease_owner IS NULL
                      ORDER BY updated_at, id
                      LIMIT $2)"
            }
            (Prunable::AuditEntries, _) => {
                "DELETE FROM audit_log WHERE id IN (
                     SELECT id FROM audit_log WHERE at < $1 ORDER BY id LIMIT $2)"
            }
        };
        let mut tx = self.write_tx().await?;
        let done = query(sql)
            .bind(cutoff)
            .bind(i64::from(limit))
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
