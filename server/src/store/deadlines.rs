//! Shipments not yet confirmed whose deadline is near or past: the status panel's
//! counts and the deadline webhook's claims. Both read the partial index of unconfirmed
//! shipments by `ship_by` (migration `deadlines`), never the confirmed ones.

use super::db::query;
use super::shipments::{DeadlineClock, NO_DEADLINE};
use super::{from_millis, Store, StoreError};
use crate::records::deadlines::{DeadlineAlert, DeadlineThreshold};
use app::deadlines::DeadlineCounts;
use std::collections::HashMap;

impl Store {
    /// Per account row id: what is still to be confirmed, due within the warning time
    /// and late, as of now. Accounts with neither are left out.
    pub async fn deadline_counts(&self) -> Result<HashMap<i64, DeadlineCounts>, StoreError> {
        let clock = self.deadline_clock();
        let rows = query(
            "SELECT account_id,
                    CAST(SUM(CASE WHEN ship_by <= $1 THEN 1 ELSE 0 END) AS BIGINT) AS late,
                    CAST(SUM(CASE WHEN ship_by > $1 THEN 1 ELSE 0 END) AS BIGINT) AS due_soon
               FROM shipments
              WHERE confirmed_at IS NULL AND ship_by <= $2
              GROUP BY account_id",
        )
        .bind(clock.now)
        .bind(clock.now.saturating_add(clock.warning_ms))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                // Cast back to integers: PostgreSQL sums integers as numerics.
                let late: i64 = r.try_get("late")?;
                let due_soon: i64 = r.try_get("due_soon")?;
                Ok((
                    r.try_get("account_id")?,
                    DeadlineCounts {
                        due_soon: due_soon.max(0) as u64,
                        late: late.max(0) as u64,
                    },
                ))
            })
            .collect()
    }

    /// Claims, for the webhook, the unconfirmed shipments that crossed a threshold
    /// (due within the warning time, or late) since they were last announced: at most
    /// `limit`, each marked in the same statement, so that of several workers exactly
    /// one announces each shipment and threshold.
    pub async fn take_deadline_alerts(&self, limit: i64) -> Result<Vec<DeadlineAlert>, StoreError> {
        let DeadlineClock { now, warning_ms } = self.deadline_clock();
        let mut tx = self.write_tx().await?;
        let rows = query(
            "UPDATE shipments
                SET deadline_alerted = CASE WHEN ship_by <= $1 THEN 2 ELSE 1 END
              WHERE id IN (
                    SELECT id FROM shipments
                     WHERE confirmed_at IS NULL AND ship_by <= $2 AND ship_by <> $3
                       AND deadline_alerted < CASE WHEN ship_by <= $1 THEN 2 ELSE 1 END
                     ORDER BY ship_by LIMIT $4)
                AND confirmed_at IS NULL
                AND deadline_alerted < CASE WHEN ship_by <= $1 THEN 2 ELSE 1 END
              RETURNING shipment_id, account_id, order_id, status, ship_by, deadline_alerted",
        )
        .bind(now)
        .bind(now.saturating_add(warning_ms))
        .bind(NO_DEADLINE)
        .bind(limit)
        .fetch_all(&mut tx)
        .await?;
        let alerts = rows
            .iter()
            .map(|r| {
                let level: i64 = r.try_get::<i64, _>("deadline_alerted")?;
                Ok(DeadlineAlert {
                    shipment_id: r.try_get("shipment_id")?,
                    account_id: r.try_get("account_id")?,
                    order_id: r.try_get("order_id")?,
                    status: super::shipments::status_from(&r.try_get::<String, _>("status")?)?,
                    ship_by: from_millis(r.try_get("ship_by")?)?,
                    threshold: if level >= 2 {
                        DeadlineThreshold::Late
                    } else {
                        DeadlineThreshold::DueSoon
                    },
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        tx.commit().await?;
        Ok(alerts)
    }
}
