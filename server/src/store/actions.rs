//! What people do to shipments from the dashboard or the API: retry a failed one now,
//! or record that it was confirmed by hand on the marketplace.

use super::db::{query, query_scalar, Tx};
use super::{from_millis, to_millis, Store, StoreError};
use app::shipments::{ManualConfirmation, WritebackStatus};
use chrono::{DateTime, Utc};

impl Store {
    /// Queues each Failed shipment for a new round at once: its attempt count starts
    /// again, the attempts of earlier rounds stay in its history. Other shipments are
    /// left as they are, with the reason: one result per id, in order.
    pub async fn retry_now(
        &self,
        shipment_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<(), ShipmentRefusal>>, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut results = Vec::with_capacity(shipment_ids.len());
        for shipment_id in shipment_ids {
            let retried = query(
                "UPDATE shipments SET status = 'pending', error_count = 0,
                     revision = revision + 1, next_attempt_at = $1, last_error = NULL,
                     lease_owner = NULL, lease_until = NULL, fence = fence + 1, updated_at = $2
                 WHERE shipment_id = $3 AND status = 'failed'",
            )
            .bind(to_millis(now))
            .bind(to_millis(now))
            .bind(shipment_id)
            .execute(&mut tx)
            .await?
            .rows_affected()
                > 0;
            results.push(if retried {
                Ok(())
            } else {
                Err(refusal(&mut tx, shipment_id, "retried").await?)
            });
        }
        tx.commit().await?;
        Ok(results)
    }

    /// Records that a person confirmed a Failed shipment on the marketplace by hand: it
    /// becomes Confirmed manually and leaves the worker's queue. A shipment that is not
    /// Failed is refused with [`StoreError::Refused`].
    pub async fn confirm_manually(
        &self,
        shipment_id: &str,
        confirmation: &ManualConfirmation,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let at = to_millis(confirmation.confirmed_at);
        let confirmed = query(
            "UPDATE shipments SET status = 'confirmed_manually', next_attempt_at = NULL,
                 lease_owner = NULL, lease_until = NULL, fence = fence + 1, updated_at = $1,
                 confirmed_at = COALESCE(confirmed_at, $1)
             WHERE shipment_id = $2 AND status = 'failed'
             RETURNING id, revision",
        )
        .bind(at)
        .bind(shipment_id)
        .fetch_optional(&mut tx)
        .await?;
        match confirmed {
            Some(row) => {
                query(
                    "INSERT INTO manual_confirmations (shipment_row, revision, confirmed_by, note, confirmed_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(row.try_get::<i64, _>("id")?)
                .bind(row.try_get::<i64, _>("revision")?)
                .bind(&confirmation.confirmed_by)
                .bind(&confirmation.note)
                .bind(at)
                .execute(&mut tx)
                .await?;
            }
            None => {
                let refusal = refusal(&mut tx, shipment_id, "confirmed manually").await?;
                return Err(StoreError::Refused(refusal));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The latest manual confirmation of a shipment, if any.
    pub async fn manual_confirmation(
        &self,
        shipment_row: i64,
    ) -> Result<Option<ManualConfirmation>, StoreError> {
        let row = query(
            "SELECT confirmed_by, note, confirmed_at FROM manual_confirmations
             WHERE shipment_row = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(shipment_row)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(ManualConfirmation {
                confirmed_by: r.try_get("confirmed_by")?,
                note: r.try_get("note")?,
                confirmed_at: from_millis(r.try_get("confirmed_at")?)?,
            })
        })
        .transpose()
    }
}

/// Why an action on a shipment was not taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShipmentRefusal {
    #[error("no shipment '{0}'")]
    NotFound(String),
    #[error("only a Failed shipment can be {action}; '{shipment_id}' is {}", .status.label())]
    NotFailed {
        shipment_id: String,
        status: WritebackStatus,
        /// "retried", "confirmed manually".
        action: &'static str,
    },
}

/// Why an action that needs a Failed shipment was not taken.
async fn refusal(
    tx: &mut Tx,
    shipment_id: &str,
    action: &'static str,
) -> Result<ShipmentRefusal, StoreError> {
    let status: Option<String> =
        query_scalar("SELECT status FROM shipments WHERE shipment_id = $1")
            .bind(shipment_id)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(match status.as_deref().and_then(WritebackStatus::parse) {
        None => ShipmentRefusal::NotFound(shipment_id.to_string()),
        Some(status) => ShipmentRefusal::NotFailed {
            shipment_id: shipment_id.to_string(),
            status,
            action,
        },
    })
}
