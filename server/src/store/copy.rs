//! `shipback migrate-data`: everything one database holds, copied into a new
//! PostgreSQL database, in one transaction: all of it lands, or nothing does.
//!
//! Both sides are migrated to this binary's schema first, so their tables match. Rows
//! keep their ids (a shipment's id is Amazon's package reference and must not change);
//! the identity sequences then continue after the largest. The grid's counters are not
//! copied: the target's triggers count the shipments as they arrive.

use super::db::{query, query_scalar, Arg, DbRow, Pool, SqlBuilder};
use super::{Store, StoreError};

/// Every table with data, parents before children, with the column that orders it.
const TABLES: &[(&str, &str)] = &[
    ("accounts", "id"),
    ("users", "id"),
    ("api_tokens", "id"),
    ("sessions", "id_hash"),
    ("audit_log", "id"),
    ("carrier_mappings", "marketplace, station_key"),
    ("shipments", "id"),
    ("writeback_attempts", "id"),
    ("manual_confirmations", "id"),
    ("marketplace_orders", "account_id, order_id"),
    (
        "marketplace_order_items",
        "account_id, order_id, order_item_id",
    ),
    ("catalog_items", "account_id, item_number"),
    ("order_checks", "account_id, order_id"),
    ("order_import_cursors", "account_id"),
    ("api_health", "account_id, api"),
    ("api_health_history", "account_id, api, bucket_start"),
    ("api_pauses", "key"),
    ("api_pacing", "key"),
];

/// Rows per INSERT: well under PostgreSQL's 65,535 parameters at 24 columns.
const BATCH: i64 = 1_000;

/// What a column holds, as the target (PostgreSQL) declares it.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Int,
    Real,
    Text,
    Bool,
    Bytes,
}

/// Rows copied, per table.
pub type CopyReport = Vec<(&'static str, u64)>;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the target must be a PostgreSQL database (postgres://…)")]
    TargetNotPostgres,
    #[error("the target already holds data ({table}: {rows} rows); copy into an empty database")]
    TargetNotEmpty { table: &'static str, rows: i64 },
    #[error("{table}.{column} is of a type the copy does not know: {kind}")]
    UnknownType {
        table: &'static str,
        column: String,
        kind: String,
    },
    #[error("{table}: {copied} rows copied but {expected} in the source")]
    Mismatch {
        table: &'static str,
        copied: i64,
        expected: i64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CopyError {
    fn from(e: sqlx::Error) -> Self {
        CopyError::Store(e.into())
    }
}

impl Store {
    /// Copies every row of this store into `target`, an empty PostgreSQL database.
    pub async fn copy_into(&self, target: &Store) -> Result<CopyReport, CopyError> {
        if !matches!(target.pool, Pool::Postgres(_)) {
            return Err(CopyError::TargetNotPostgres);
        }
        for (table, _) in TABLES {
            let rows: i64 = query_scalar(format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&target.pool)
                .await?;
            if rows > 0 {
                return Err(CopyError::TargetNotEmpty { table, rows });
            }
        }
        let mut tx = target.write_tx().await?;
        let mut report = Vec::new();
        for &(table, order) in TABLES {
            let columns = target_columns(target, table).await?;
            let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
            let list = names.join(", ");
            let mut copied = 0i64;
            let mut last_id = i64::MIN;
            loop {
                // By id where there is one (a million shipments), by offset in the rest.
                let page = if order == "id" {
                    format!(
                        "SELECT {list} FROM {table} WHERE id > {last_id} ORDER BY id LIMIT {BATCH}"
                    )
                } else {
                    format!(
                        "SELECT {list} FROM {table} ORDER BY {order} LIMIT {BATCH} OFFSET {copied}"
                    )
                };
                let rows = query(page).fetch_all(&self.pool).await?;
                if rows.is_empty() {
                    break;
                }
                if order == "id" {
                    last_id = rows[rows.len() - 1].try_get("id")?;
                }
                let mut insert = SqlBuilder::new(format_args!("INSERT INTO {table} ({list}) "));
                let mut values = Vec::with_capacity(rows.len());
                for row in &rows {
                    values.push(row_values(row, &columns)?);
                }
                insert.push_values(values, |mut out, row| {
                    for value in row {
                        out.push_bind(value);
                    }
                });
                insert.build().execute(&mut tx).await?;
                copied += rows.len() as i64;
            }
            let expected: i64 = query_scalar(format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&self.pool)
                .await?;
            if copied != expected {
                return Err(CopyError::Mismatch {
                    table,
                    copied,
                    expected,
                });
            }
            if names.contains(&"id") && order == "id" {
                // New rows continue after the copied ones.
                query(format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                   COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                ))
                .execute(&mut tx)
                .await?;
            }
            report.push((table, copied as u64));
        }
        tx.commit().await.map_err(StoreError::from)?;
        // A bulk load leaves the planner without statistics and the visibility map
        // empty until autovacuum comes round: pages of the grid would visit the table
        // for every index entry (220 ms instead of 2 ms for a first page, measured).
        query("VACUUM ANALYZE").execute(&target.pool).await?;
        Ok(report)
    }
}

/// The table's columns on the target, with what each holds.
async fn target_columns(
    target: &Store,
    table: &'static str,
) -> Result<Vec<(String, Kind)>, CopyError> {
    let rows = query(
        "SELECT column_name::text AS name, data_type::text AS kind
           FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = $1
          ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&target.pool)
    .await?;
    rows.iter()
        .map(|row| {
            let column: String = row.try_get("name")?;
            let kind: String = row.try_get("kind")?;
            let kind = match kind.as_str() {
                "bigint" | "integer" | "smallint" => Kind::Int,
                "double precision" | "real" => Kind::Real,
                "text" | "character varying" => Kind::Text,
                "boolean" => Kind::Bool,
                "bytea" => Kind::Bytes,
                _ => {
                    return Err(CopyError::UnknownType {
                        table,
                        column,
                        kind,
                    })
                }
            };
            Ok((column, kind))
        })
        .collect()
}

fn row_values(row: &DbRow, columns: &[(String, Kind)]) -> Result<Vec<Arg>, sqlx::Error> {
    columns
        .iter()
        .map(|(name, kind)| {
            let name = name.as_str();
            Ok(match kind {
                Kind::Int => Arg::Int(row.try_get(name)?),
                Kind::Real => Arg::Real(row.try_get(name)?),
                Kind::Text => Arg::Text(row.try_get(name)?),
                Kind::Bool => Arg::Bool(row.try_get(name)?),
                Kind::Bytes => Arg::Bytes(row.try_get(name)?),
            })
        })
        .collect()
}
