//! The audit log's rows.

use super::db::query;
use super::{from_millis, to_millis, Store, StoreError};
use app::audit::AuditEntry;

impl Store {
    /// Adds an entry; its `id` is ignored and given by the database.
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        query(
            "INSERT INTO audit_log (at, actor, role, action, target, detail, address)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(to_millis(entry.at))
        .bind(&entry.actor)
        .bind(&entry.role)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.detail)
        .bind(&entry.address)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest `limit` entries, newest first (`None`: all of them).
    pub async fn audit_entries(&self, limit: Option<u32>) -> Result<Vec<AuditEntry>, StoreError> {
        query(
            "SELECT id, at, actor, role, action, target, detail, address FROM audit_log
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit.map(i64::from).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(AuditEntry {
                id: row.try_get("id")?,
                at: from_millis(row.try_get("at")?)?,
                actor: row.try_get("actor")?,
                role: row.try_get("role")?,
                action: row.try_get("action")?,
                target: row.try_get("target")?,
                detail: row.try_get("detail")?,
                address: row.try_get("address")?,
            })
        })
        .collect()
    }
}
