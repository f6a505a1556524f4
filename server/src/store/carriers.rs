//! The admins' carrier mappings, and the carriers shipments wait on.

use super::db::query;
use super::{now_millis, Store, StoreError};
use crate::accounts::MarketplaceKind;
use crate::carriers::{normalise, CarrierMapping};

impl Store {
    pub async fn carrier_mappings(&self) -> Result<Vec<CarrierMapping>, StoreError> {
        query(
            "SELECT marketplace, station_name, code, name FROM carrier_mappings
              ORDER BY marketplace, station_key",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let marketplace: String = row.try_get("marketplace")?;
            Ok(CarrierMapping {
                marketplace: MarketplaceKind::parse(&marketplace).ok_or_else(|| {
                    StoreError::Corrupt(format!("carrier mapping for '{marketplace}'"))
                })?,
                station_name: row.try_get("station_name")?,
                code: row.try_get("code")?,
                name: row.try_get("name")?,
            })
        })
        .collect()
    }

    /// Adds or replaces mappings (checked by the caller), all or none.
    pub async fn save_carrier_mappings(
        &self,
        mappings: &[CarrierMapping],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for m in mappings {
            query(
                "INSERT INTO carrier_mappings (marketplace, station_key, station_name, code, name, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (marketplace, station_key) DO UPDATE SET
                     station_name = excluded.station_name, code = excluded.code,
                     name = excluded.name, updated_at = excluded.updated_at",
            )
            .bind(m.marketplace.as_str())
            .bind(normalise(&m.station_name))
            .bind(m.station_name.trim())
            .bind(&m.code)
            .bind(m.name.trim())
            .bind(now_millis())
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes a mapping; `false` when there was none.
    pub async fn delete_carrier_mapping(
        &self,
        marketplace: MarketplaceKind,
        station_name: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let deleted =
            query("DELETE FROM carrier_mappings WHERE marketplace = $1 AND station_key = $2")
                .bind(marketplace.as_str())
                .bind(normalise(station_name))
                .execute(&mut tx)
                .await?
                .rows_affected()
                > 0;
        tx.commit().await?;
        Ok(deleted)
    }

    /// The carrier names shipments wait on, with how many wait: what the Carriers
    /// screen asks an admin to map.
    pub async fn unmapped_carriers(
        &self,
    ) -> Result<Vec<(MarketplaceKind, String, u64)>, StoreError> {
        query(
            "SELECT a.marketplace, s.carrier, COUNT(*) AS waiting
               FROM shipments s JOIN accounts a ON a.id = s.account_id
              WHERE s.waiting_on LIKE 'carrier:%'
              GROUP BY a.marketplace, s.carrier
              ORDER BY waiting DESC, s.carrier",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let marketplace: String = row.try_get("marketplace")?;
            Ok((
                MarketplaceKind::parse(&marketplace)
                    .ok_or_else(|| StoreError::Corrupt(format!("marketplace '{marketplace}'")))?,
                row.try_get("carrier")?,
                row.try_get::<i64, _>("waiting")? as u64,
            ))
        })
        .collect()
    }
}
