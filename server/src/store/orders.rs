//! Orders imported from the marketplaces, the checks of written-back orders, and the
//! catalog data of the items shipped.

use super::db::{query, SqlBuilder, Tx};
use super::{from_millis, now_millis, to_millis, Store, StoreError};
use crate::records::orders::{CatalogItem, MarketplaceOrder, MarketplaceOrderItem};
use std::collections::HashMap;

/// What Shipback knows of an order from the marketplace: enough to refuse a shipment the
/// marketplace would refuse.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedOrder {
    pub status: String,
    pub purchase_date: Option<chrono::DateTime<chrono::Utc>>,
    /// Quantity ordered by order item id.
    pub quantities: HashMap<String, u32>,
}

/// An order whose status is to be read back after a write-back.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderCheck {
    pub order_id: String,
    /// Checks already made without seeing the order shipped.
    pub attempts: i64,
}

impl Store {
    /// Stores what the marketplace said about these orders (and their lines, when it
    /// listed them).
    pub async fn save_orders(
        &self,
        account_id: i64,
        orders: &[MarketplaceOrder],
    ) -> Result<(), StoreError> {
        if orders.is_empty() {
            return Ok(());
        }
        let now = now_millis();
        let mut tx = self.write_tx().await?;
        for order in orders {
            let packages = serde_json::to_string(&order.packages)
                .map_err(|e| StoreError::Corrupt(format!("packages of {}: {e}", order.order_id)))?;
            query(
                "INSERT INTO marketplace_orders (account_id, order_id, status, shipped, purchase_date,
                     last_updated, checked_at, ship_by, ship_by_earliest, packages)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (account_id, order_id) DO UPDATE SET
                     status = excluded.status, shipped = excluded.shipped,
                     purchase_date = excluded.purchase_date, last_updated = excluded.last_updated,
                     checked_at = excluded.checked_at,
                     ship_by = COALESCE(excluded.ship_by, marketplace_orders.ship_by),
                     ship_by_earliest = COALESCE(excluded.ship_by_earliest, marketplace_orders.ship_by_earliest),
                     packages = excluded.packages",
            )
            .bind(account_id)
            .bind(&order.order_id)
            .bind(&order.status)
            .bind(order.shipped)
            .bind(order.purchase_date.map(to_millis))
            .bind(to_millis(order.last_updated))
            .bind(now)
            .bind(order.ship_by.map(|w| to_millis(w.latest)))
            .bind(order.ship_by.and_then(|w| w.earliest).map(to_millis))
            .bind(packages)
            .execute(&mut tx)
            .await?;
            if let Some(window) = order.ship_by {
                // The order's shipments carry its deadline, for the grid's sort and filters.
                let latest = to_millis(window.latest);
                query(
                    "UPDATE shipments SET ship_by = $1
                      WHERE account_id = $2 AND order_id = $3 AND ship_by <> $1",
                )
                .bind(latest)
                .bind(account_id)
                .bind(&order.order_id)
                .execute(&mut tx)
                .await?;
            }
            if let Some(items) = &order.items {
                save_items(&mut tx, account_id, &order.order_id, items).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn save_order_items(
        &self,
        account_id: i64,
        order_id: &str,
        items: &[MarketplaceOrderItem],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        save_items(&mut tx, account_id, order_id, items).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The orders as imported, of those asked for that were.
    pub async fn imported_orders(
        &self,
        wanted: &[(i64, String)],
    ) -> Result<HashMap<(i64, String), ImportedOrder>, StoreError> {
        let mut found: HashMap<(i64, String), ImportedOrder> = HashMap::new();
        for chunk in wanted.chunks(400) {
            let mut sql = SqlBuilder::new(
                "SELECT o.account_id, o.order_id, o.status, o.purchase_date,
                        i.order_item_id, i.quantity_ordered
                   FROM marketplace_orders o
                   LEFT JOIN marketplace_order_items i
                     ON i.account_id = o.account_id AND i.order_id = o.order_id
                  WHERE (o.account_id, o.order_id) IN (",
            );
            let mut list = sql.separated(", ");
            for (account_id, order_id) in chunk {
                list.push("(");
                list.push_bind_unseparated(*account_id);
                list.push_unseparated(", ");
                list.push_bind_unseparated(order_id.clone());
                list.push_unseparated(")");
            }
            sql.push(")");
            for row in sql.build().fetch_all(&self.pool).await? {
                let key: (i64, String) = (row.try_get("account_id")?, row.try_get("order_id")?);
                let order = match found.entry(key) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(ImportedOrder {
                        status: row.try_get("status")?,
                        purchase_date: row
                            .try_get::<Option<i64>, _>("purchase_date")?
                            .map(from_millis)
                            .transpose()?,
                        quantities: HashMap::new(),
                    }),
                };
                if let Some(line) = row.try_get::<Option<String>, _>("order_item_id")? {
                    let ordered: i64 = row.try_get("quantity_ordered")?;
                    order.quantities.insert(line, ordered as u32);
                }
            }
        }
        Ok(found)
    }

    /// The imported lines of an order, by SKU: what a shipment sent with SKUs only is
    /// written back with.
    pub async fn order_item_ids_by_sku(
        &self,
        account_id: i64,
        order_id: &str,
    ) -> Result<HashMap<String, String>, StoreError> {
        let rows = query(
            "SELECT sku, order_item_id FROM marketplace_order_items
              WHERE account_id = $1 AND order_id = $2 AND sku IS NOT NULL",
        )
        .bind(account_id)
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("sku")?, r.try_get("order_item_id")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// The packages Shipback wrote back for these orders and the marketplace accepted:
    /// for each Success shipment, (order id, package reference, tracking number).
    pub async fn sent_packages(
        &self,
        account_id: i64,
        order_ids: &[String],
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        if order_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = SqlBuilder::new(
            "SELECT order_id, id, tracking_number FROM shipments
              WHERE status = 'success' AND account_id = ",
        );
        sql.push_bind(account_id);
        sql.push(" AND order_id IN (");
        let mut list = sql.separated(", ");
        for id in order_ids {
            list.push_bind(id.clone());
        }
        sql.push(")");
        sql.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("order_id")?,
                    r.try_get::<i64, _>("id")?.to_string(),
                    r.try_get("tracking_number")?,
                ))
            })
            .collect()
    }

    /// Where the account's order import stands (`None`: it never ran).
    pub async fn import_cursor(
        &self,
        account_id: i64,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        let row = query("SELECT complete_until FROM order_import_cursors WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| from_millis(r.try_get("complete_until")?))
            .transpose()
    }

    pub async fn set_import_cursor(
        &self,
        account_id: i64,
        complete_until: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO order_import_cursors (account_id, complete_until, last_run_at) VALUES ($1, $2, $3)
             ON CONFLICT (account_id) DO UPDATE SET complete_until = excluded.complete_until,
                                                    last_run_at = excluded.last_run_at",
        )
        .bind(account_id)
        .bind(to_millis(complete_until))
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Orders of the account due for a status check.
    pub async fn due_order_checks(
        &self,
        account_id: i64,
        now: i64,
        limit: u32,
    ) -> Result<Vec<OrderCheck>, StoreError> {
        let rows = query(
            "SELECT order_id, attempts FROM order_checks
              WHERE account_id = $1 AND due_at <= $2 ORDER BY due_at LIMIT $3",
        )
        .bind(account_id)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OrderCheck {
                    order_id: r.try_get("order_id")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Ends the checks of these orders.
    pub async fn finish_order_checks(
        &self,
        account_id: i64,
        order_ids: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for order_id in order_ids {
            query("DELETE FROM order_checks WHERE account_id = $1 AND order_id = $2")
                .bind(account_id)
                .bind(order_id)
                .execute(&mut tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Checks these orders again at `due_at`.
    pub async fn postpone_order_checks(
        &self,
        account_id: i64,
        order_ids: &[String],
        due_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for order_id in order_ids {
            query(
                "UPDATE order_checks SET due_at = $1, attempts = attempts + 1
                  WHERE account_id = $2 AND order_id = $3",
            )
            .bind(due_at)
            .bind(account_id)
            .bind(order_id)
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Catalog numbers of the account's items with no catalog data, or data fetched
    /// before `stale_before`.
    pub async fn catalog_items_to_refresh(
        &self,
        account_id: i64,
        stale_before: i64,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let rows = query(
            "SELECT DISTINCT i.item_number FROM marketplace_order_items i
               LEFT JOIN catalog_items c
                 ON c.account_id = i.account_id AND c.item_number = i.item_number
              WHERE i.account_id = $1 AND i.item_number IS NOT NULL
                AND (c.item_number IS NULL OR c.fetched_at < $2)
              LIMIT $3",
        )
        .bind(account_id)
        .bind(stale_before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("item_number").map_err(StoreError::from))
            .collect()
    }

    /// Stores catalog data; `None` records that the catalog does not know the item, so
    /// that it is not asked again before the next refresh.
    pub async fn save_catalog_item(
        &self,
        account_id: i64,
        item_number: &str,
        item: Option<&CatalogItem>,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO catalog_items (account_id, item_number, title, weight_value, weight_unit, image_url, found, fetched_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (account_id, item_number) DO UPDATE SET
                 title = excluded.title, weight_value = excluded.weight_value,
                 weight_unit = excluded.weight_unit, image_url = excluded.image_url,
                 found = excluded.found, fetched_at = excluded.fetched_at",
        )
        .bind(account_id)
        .bind(item_number)
        .bind(item.and_then(|i| i.title.as_deref()))
        .bind(item.and_then(|i| i.weight.as_ref()).map(|w| w.value))
        .bind(item.and_then(|i| i.weight.as_ref()).map(|w| w.unit.as_str()))
        .bind(item.and_then(|i| i.image_url.as_deref()))
        .bind(item.is_some())
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

async fn save_items(
    tx: &mut Tx,
    account_id: i64,
    order_id: &str,
    items: &[MarketplaceOrderItem],
) -> Result<(), StoreError> {
    for item in items {
        query(
            "INSERT INTO marketplace_order_items (account_id, order_id, order_item_id, sku, item_number,
                 title, quantity_ordered, quantity_shipped)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (account_id, order_id, order_item_id) DO UPDATE SET
                 sku = excluded.sku, item_number = excluded.item_number, title = excluded.title,
                 quantity_ordered = excluded.quantity_ordered,
                 quantity_shipped = excluded.quantity_shipped",
        )
        .bind(account_id)
        .bind(order_id)
        .bind(&item.order_item_id)
        .bind(&item.sku)
        .bind(&item.item_number)
        .bind(&item.title)
        .bind(item.quantity_ordered)
        .bind(item.quantity_shipped)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
