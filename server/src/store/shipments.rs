use super::cursor::{Cursor, SortValue};
use super::db::{query, query_as, query_scalar, Arg, DbRow, SqlBuilder};
use super::{from_millis, now_millis, to_millis, Dialect, Store, StoreError};
use crate::records::shipments::{IngestOutcome, NewShipment};
use app::deadlines::DeadlineFilter;
use app::query::{ShipmentQuery, SortKey};
use app::shipments::{
    AttemptOutcome, FilterOptions, MarketplaceOrderState, Page, ShipmentDetail, ShipmentItem,
    ShipmentLine, ShipmentRow, WritebackAttempt, WritebackStatus,
};
use std::collections::HashMap;

/// The columns the grid shows, with the account's name and marketplace.
const ROW_COLUMNS: &str = "s.id, s.shipment_id, s.account_key, a.display_name, a.marketplace, \
     s.order_id, s.carrier, s.service, s.tracking_number, s.quantity, s.ship_date, s.status, \
     s.error_count, s.last_attempt_at, s.next_attempt_at, s.last_error, s.updated_at, \
     s.waiting_on IS NOT NULL AS waiting, s.ship_by, s.confirmed_at";

/// `ship_by` of a shipment whose deadline is not known (see migration `deadlines`): the
/// largest integer, so that it sorts after every real date in both databases.
pub(super) const NO_DEADLINE: i64 = i64::MAX;

/// A `ship_by` as the shipment's deadline.
pub(super) fn deadline_from(ms: i64) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
    (ms != NO_DEADLINE).then(|| from_millis(ms)).transpose()
}

/// The instant the deadline filters are judged at, and the site's warning time.
#[derive(Clone, Copy, Debug)]
pub(super) struct DeadlineClock {
    pub now: i64,
    pub warning_ms: i64,
}

/// Where a sort key lives, and whether its cursor value is a number or text.
pub(super) fn sort_column(key: SortKey) -> (&'static str, bool) {
    match key {
        SortKey::ShipDate => ("s.ship_date", true),
        SortKey::LastAttemptAt => ("s.last_attempt_at", true),
        SortKey::OrderId => ("s.order_id", false),
        SortKey::Account => ("s.account_key", false),
        SortKey::Carrier => ("s.carrier", false),
        SortKey::TrackingNumber => ("s.tracking_number", false),
        SortKey::Quantity => ("s.quantity", true),
        SortKey::Status => ("s.status", false),
        SortKey::ErrorCount => ("s.error_count", true),
        SortKey::ShipmentId => ("s.shipment_id", false),
        SortKey::ShipBy => ("s.ship_by", true),
    }
}

pub(super) fn status_from(text: &str) -> Result<WritebackStatus, StoreError> {
    WritebackStatus::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown status '{text}'")))
}

/// 0 and NULL both mean "never" in the instant columns.
pub(super) fn optional_instant(
    ms: Option<i64>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
    ms.filter(|ms| *ms > 0).map(from_millis).transpose()
}

/// Declares [`ShipmentColumns`]: a field per column a shipment row is read from, named
/// after it.
macro_rules! shipment_columns {
    ($($column:ident),* $(,)?) => {
        /// Where each column of a shipment row is, found by name once per answer, so
        /// that a million-row export does not look up 19 names in every row.
        pub(super) struct ShipmentColumns {
            $($column: usize,)*
        }

        impl ShipmentColumns {
            pub(super) fn of(row: &DbRow) -> Result<ShipmentColumns, StoreError> {
                Ok(ShipmentColumns {
                    $($column: row.position_of(stringify!($column))?,)*
                })
            }
        }
    };
}

shipment_columns!(
    status,
    shipment_id,
    account_key,
    display_name,
    marketplace,
    order_id,
    carrier,
    service,
    tracking_number,
    quantity,
    ship_date,
    error_count,
    last_attempt_at,
    next_attempt_at,
    last_error,
    updated_at,
    waiting,
    ship_by,
    confirmed_at,
);

/// A row of one answer: `at` says where its columns are (the same for every row).
pub(super) fn shipment_row(row: &DbRow, at: &ShipmentColumns) -> Result<ShipmentRow, StoreError> {
    let status: String = row.column_at(at.status)?;
    Ok(ShipmentRow {
        shipment_id: row.column_at(at.shipment_id)?,
        account: row.column_at(at.account_key)?,
        account_name: row.column_at(at.display_name)?,
        marketplace: row.column_at(at.marketplace)?,
        order_id: row.column_at(at.order_id)?,
        carrier: row.column_at(at.carrier)?,
        service: row.column_at(at.service)?,
        tracking_number: row.column_at(at.tracking_number)?,
        quantity: row.column_at::<i64>(at.quantity)? as u32,
        ship_date: from_millis(row.column_at(at.ship_date)?)?,
        status: status_from(&status)?,
        error_count: row.column_at::<i64>(at.error_count)? as u32,
        last_attempt_at: optional_instant(row.column_at(at.last_attempt_at)?)?,
        next_attempt_at: optional_instant(row.column_at(at.next_attempt_at)?)?,
        last_error: row.column_at(at.last_error)?,
        updated_at: from_millis(row.column_at(at.updated_at)?)?,
        waiting: row.column_at(at.waiting)?,
        ship_by: deadline_from(row.column_at(at.ship_by)?)?,
        confirmed_at: row
            .column_at::<Option<i64>>(at.confirmed_at)?
            .map(from_millis)
            .transpose()?,
    })
}

/// At most this many matches, a page is read by its filters and sorted, not read along
/// the sort index.
const FEW_MATCHES: u64 = 1_000;

/// How a query's filters may reach the shipments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Access {
    /// A page, read along the sort column's index: every filter but the one that leads
    /// a (filter, sort column) index is written with a unary `+`, which keeps SQLite
    /// from seeking by it (and then sorting every match). The sort indexes carry the
    /// filter columns, so each entry is tested inside the index (migration 7).
    SortIndex,
    /// Counts, and pages of a few matches: SQLite seeks by the most selective filter.
    Filters,
}

/// Appends ` AND {column} IN (?, …)`, or nothing when `values` is empty (no filter).
pub(super) fn push_any_of(sql: &mut SqlBuilder, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    sql.push(format_args!(" AND {column} IN ("));
    let mut list = sql.separated(", ");
    for value in values {
        list.push_bind(value.clone());
    }
    sql.push(")");
}

/// Appends the WHERE conditions of the query's filters (not the cursor).
/// How a query's filters are written: for which database, reaching the rows how, and
/// judging deadlines at which instant.
#[derive(Clone, Copy, Debug)]
pub(super) struct Filtering {
    pub dialect: Dialect,
    pub access: Access,
    pub clock: DeadlineClock,
}

pub(super) fn push_filters(sql: &mut SqlBuilder, query: &ShipmentQuery, how: Filtering) {
    let Filtering {
        dialect,
        access,
        clock,
    } = how;
    // PostgreSQL's planner weighs the sort index against the filters itself.
    let walk = access == Access::SortIndex && dialect == Dialect::Sqlite;
    // Ship date and last attempt have (status, column) indexes, which serve one status
    // and the order at once.
    let status_leads = matches!(query.sort.key, SortKey::ShipDate | SortKey::LastAttemptAt)
        && query.statuses.len() == 1;
    let plus = |leads: bool| if walk && !leads { "+" } else { "" };
    sql.push(" WHERE 1 = 1");
    let statuses: Vec<String> = query
        .statuses
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    push_any_of(sql, &format!("{}s.status", plus(status_leads)), &statuses);
    push_any_of(
        sql,
        &format!("{}s.account_key", plus(false)),
        &query.accounts,
    );
    if !query.marketplaces.is_empty() {
        // By key, not id: the key is in the sort indexes.
        push_any_of(
            sql,
            &format!(
                "{}s.account_key IN (SELECT key FROM accounts WHERE marketplace",
                plus(false)
            ),
            &query.marketplaces,
        );
        sql.push(")");
    }
    push_any_of(sql, &format!("{}s.carrier", plus(false)), &query.carriers);
    if let Some(search) = &query.search {
        // Each of the three has its own index: three lookups, not a scan.
        sql.push(" AND (s.shipment_id = ")
            .push_bind(search.clone())
            .push(" OR s.order_id = ")
            .push_bind(search.clone())
            .push(" OR s.tracking_number = ")
            .push_bind(search.clone())
            .push(")");
    }
    push_deadline_filters(
        sql,
        &query.deadlines,
        plus(query.sort.key == SortKey::ShipBy),
        clock,
    );
    let date = format!("{}s.ship_date", plus(query.sort.key == SortKey::ShipDate));
    if let Some(from) = query.from {
        sql.push(format_args!(" AND {date} >= "))
            .push_bind(to_millis(from));
    }
    if let Some(to) = query.to {
        sql.push(format_args!(" AND {date} < "))
            .push_bind(to_millis(to));
    }
}

/// Appends ` AND (…)`: the shipments in any of the deadline states, as
/// [`app::deadlines::DeadlineFilter::matches`] defines them at `clock.now`.
fn push_deadline_filters(
    sql: &mut SqlBuilder,
    filters: &[DeadlineFilter],
    plus: &str,
    clock: DeadlineClock,
) {
    if filters.is_empty() {
        return;
    }
    sql.push(" AND (1 = 0");
    for filter in filters {
        match filter {
            DeadlineFilter::DueSoon => {
                sql.push(format_args!(
                    " OR (s.confirmed_at IS NULL AND {plus}s.ship_by > "
                ))
                .push_bind(clock.now)
                .push(format_args!(" AND {plus}s.ship_by <= "))
                .push_bind(clock.now.saturating_add(clock.warning_ms))
                .push(")");
            }
            DeadlineFilter::Late => {
                sql.push(format_args!(
                    " OR (s.confirmed_at IS NULL AND {plus}s.ship_by <= "
                ))
                .push_bind(clock.now)
                .push(")");
            }
            DeadlineFilter::Unknown => {
                sql.push(format_args!(" OR {plus}s.ship_by = "))
                    .push_bind(NO_DEADLINE);
            }
            DeadlineFilter::ConfirmedLate => {
                sql.push(" OR s.confirmed_at > s.ship_by");
            }
        }
    }
    sql.push(")");
}

/// Appends the SELECT of the page after `cursor` (the first page without one): at most
/// `limit` rows in the query's order, each with its `sort_value` and `id`, the keyset of
/// the next page.
/// `keys_only` selects `sort_value` and `id` alone, which the sort indexes cover.
pub(super) fn push_page_select(
    sql: &mut SqlBuilder,
    query: &ShipmentQuery,
    how: Filtering,
    cursor: Option<&Cursor>,
    limit: i64,
    keys_only: bool,
) {
    let dialect = how.dialect;
    let (column, _) = sort_column(query.sort.key);
    let descending = query.sort.descending;
    let select = if keys_only {
        format!("SELECT {column} AS sort_value, s.id AS id FROM shipments s")
    } else {
        format!(
            "SELECT {ROW_COLUMNS}, {column} AS sort_value FROM shipments s JOIN accounts a ON a.id = s.account_id"
        )
    };
    let (op, dir) = if descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let push_value = |sql: &mut SqlBuilder, value: &SortValue| match value {
        SortValue::Int(v) => {
            sql.push_bind(*v);
        }
        SortValue::Text(v) => {
            sql.push_bind(v.clone());
        }
    };
    match cursor {
        None => {
            sql.push(&select);
            push_filters(sql, query, how);
            sql.push(format_args!(" ORDER BY {column} {dir}, s.id {dir} LIMIT "))
                .push_bind(limit);
        }
        // The rows tied with the cursor's sort value, then the rows beyond it: two
        // seeks in the sort index. SQLite seeks `(column, id) > (?, ?)` by its first
        // column only, so a deep page of a column with few values (carrier,
        // quantity) used to scan every entry tied with the cursor first.
        Some(cursor) => {
            // The cursor bounds the ship date on the side the page moves to; the
            // filter's bound on that side must then stay out of the index seek, or
            // SQLite may seek by it and scan every entry down to the cursor.
            let mut filters = query.clone();
            let moved_bound = match (query.sort.key, descending) {
                (SortKey::ShipDate, true) => filters.to.take().map(|t| ("<", t)),
                (SortKey::ShipDate, false) => filters.from.take().map(|t| (">=", t)),
                _ => None,
            };
            let push_page_filters = |sql: &mut SqlBuilder| {
                push_filters(sql, &filters, how);
                if let Some((op, bound)) = moved_bound {
                    let plus = if dialect == Dialect::Sqlite { "+" } else { "" };
                    sql.push(format_args!(" AND {plus}s.ship_date {op} "))
                        .push_bind(to_millis(bound));
                }
            };
            sql.push("SELECT * FROM (").push(&select);
            push_page_filters(sql);
            sql.push(format_args!(" AND {column} = "));
            push_value(sql, &cursor.value);
            sql.push(format_args!(" AND s.id {op} "))
                .push_bind(cursor.id)
                .push(format_args!(" ORDER BY s.id {dir} LIMIT "))
                .push_bind(limit);
            sql.push(") AS tied UNION ALL SELECT * FROM (")
                .push(&select);
            push_page_filters(sql);
            sql.push(format_args!(" AND {column} {op} "));
            push_value(sql, &cursor.value);
            sql.push(format_args!(" ORDER BY {column} {dir}, s.id {dir} LIMIT "))
                .push_bind(limit);
            sql.push(format_args!(
                ") AS beyond ORDER BY sort_value {dir}, id {dir} LIMIT "
            ))
            .push_bind(limit);
        }
    }
}

/// The deadlines of the batch's orders that Shipback has already imported, by (account
/// row id, order id): a shipment that arrives after its order carries its deadline at
/// once. One lookup per account in the batch, along the orders' primary key.
async fn known_deadlines<'a>(
    tx: &mut super::db::Tx,
    rows: &[(&'a NewShipment, i64, String)],
) -> Result<HashMap<(i64, &'a str), i64>, StoreError> {
    let mut by_account: HashMap<i64, Vec<&'a str>> = HashMap::new();
    for (shipment, account_id, _) in rows {
        by_account
            .entry(*account_id)
            .or_default()
            .push(shipment.order_id.as_str());
    }
    let mut known = HashMap::new();
    for (account_id, orders) in by_account {
        let mut sql = SqlBuilder::new(
            "SELECT order_id, ship_by FROM marketplace_orders WHERE ship_by IS NOT NULL AND account_id = ",
        );
        sql.push_bind(account_id).push(" AND order_id IN (");
        let mut list = sql.separated(", ");
        for order in &orders {
            list.push_bind(order.to_string());
        }
        sql.push(")");
        for row in sql.build().fetch_all(&mut *tx).await? {
            let order: String = row.try_get("order_id")?;
            if let Some(order) = orders.iter().find(|o| **o == order) {
                known.insert((account_id, *order), row.try_get::<i64, _>("ship_by")?);
            }
        }
    }
    Ok(known)
}

/// A batch row to store: the shipment, its account's row id, its items as JSON.
type BatchRow<'a> = (&'a NewShipment, i64, String);

/// PostgreSQL: the batch's rows as eleven arrays, one per column, unnested into rows
/// (what is the same for every new shipment is bound once). The columns come in the
/// order of the `INSERT`'s list, as `push_values` gives them on SQLite. A `VALUES` list of a
/// batch of 1,000 is 15,000 parameters, each bound and parsed on its own.
fn push_unnested(
    sql: &mut SqlBuilder,
    rows: &[BatchRow<'_>],
    ship_by: impl Fn(&BatchRow<'_>) -> i64,
    now: i64,
) {
    let text = |column: for<'r> fn(&'r BatchRow<'_>) -> &'r str| {
        Arg::Texts(rows.iter().map(|r| column(r).to_string()).collect())
    };
    let int = |column: &dyn Fn(&BatchRow<'_>) -> i64| Arg::Ints(rows.iter().map(column).collect());
    let columns = [
        (text(|(s, _, _)| &s.shipment_id), "text"),
        (int(&|(_, account_id, _)| *account_id), "bigint"),
        (text(|(s, _, _)| &s.account), "text"),
        (text(|(s, _, _)| &s.order_id), "text"),
        (text(|(s, _, _)| &s.carrier), "text"),
        (text(|(s, _, _)| &s.service), "text"),
        (text(|(s, _, _)| &s.tracking_number), "text"),
        (int(&|(s, _, _)| to_millis(s.ship_date)), "bigint"),
        (text(|(_, _, items)| items), "text"),
        (int(&|(s, _, _)| s.quantity() as i64), "bigint"),
        (int(&ship_by), "bigint"),
    ];
    sql.push("SELECT *, ")
        .push_bind(WritebackStatus::Pending.as_str())
        .push(", ")
        .push_bind(now)
        .push(", ")
        .push_bind(now)
        .push(", ")
        .push_bind(now)
        .push(" FROM UNNEST(");
    for (i, (column, of)) in columns.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push_bind(column).push(format_args!("::{of}[]"));
    }
    sql.push(")");
}

impl Store {
    /// Stores a batch of shipments in one transaction. New ones are queued; known ones
    /// with changed content are queued again as a correction (new revision, new round of
    /// attempts, earlier attempts kept); identical ones are left alone.
    pub async fn ingest(
        &self,
        batch: &[NewShipment],
    ) -> Result<Vec<(String, IngestOutcome)>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let accounts: HashMap<String, i64> = query("SELECT key, id FROM accounts")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("key")?, r.try_get("id")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        let mut unknown: Vec<String> = batch
            .iter()
            .filter(|s| !accounts.contains_key(&s.account))
            .map(|s| s.account.clone())
            .collect();
        if !unknown.is_empty() {
            unknown.sort();
            unknown.dedup();
            return Err(StoreError::UnknownAccounts(unknown));
        }
        let mut rows = Vec::with_capacity(batch.len());
        for shipment in batch {
            let items = serde_json::to_string(&shipment.items)
                .map_err(|e| StoreError::Corrupt(format!("items do not serialise: {e}")))?;
            rows.push((shipment, accounts[&shipment.account], items));
        }

        let now = now_millis();
        let mut tx = self.write_tx().await?;
        let deadlines = known_deadlines(&mut tx, &rows).await?;
        let ship_by = |(s, account_id, _): &BatchRow<'_>| {
            deadlines
                .get(&(*account_id, s.order_id.as_str()))
                .copied()
                .unwrap_or(NO_DEADLINE)
        };
        let mut sql = SqlBuilder::new(
            "INSERT INTO shipments (shipment_id, account_id, account_key, order_id, carrier, service,
                 tracking_number, ship_date, items, quantity, ship_by, status, next_attempt_at,
                 created_at, updated_at) ",
        );
        match self.dialect() {
            Dialect::Sqlite => sql.push_values(&rows, |mut b, row| {
                let (s, account_id, items) = row;
                b.push_bind(&s.shipment_id)
                    .push_bind(*account_id)
                    .push_bind(&s.account)
                    .push_bind(&s.order_id)
                    .push_bind(&s.carrier)
                    .push_bind(&s.service)
                    .push_bind(&s.tracking_number)
                    .push_bind(to_millis(s.ship_date))
                    .push_bind(items.as_str())
                    .push_bind(s.quantity() as i64)
                    .push_bind(ship_by(row))
                    .push_bind(WritebackStatus::Pending.as_str())
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(now);
            }),
            Dialect::Postgres => push_unnested(&mut sql, &rows, ship_by, now),
        }
        // A changed shipment starts a new round; the fence bump makes any answer still
        // in flight for the old content unable to overwrite the new state. A claim still
        // running keeps its lease: the new revision is sent only once that call has
        // ended (its worker then gives the lease back) or its lease has run out, so two
        // revisions are never on the wire at once and the marketplace ends with the
        // newest.
        sql.push(
            " ON CONFLICT (shipment_id) DO UPDATE SET
                account_id = excluded.account_id, account_key = excluded.account_key,
                order_id = excluded.order_id, carrier = excluded.carrier, service = excluded.service,
                tracking_number = excluded.tracking_number, ship_date = excluded.ship_date,
                items = excluded.items, quantity = excluded.quantity, ship_by = excluded.ship_by,
                status = 'pending', error_count = 0, revision = shipments.revision + 1,
                next_attempt_at = excluded.next_attempt_at, last_error = NULL, waiting_on = NULL,
                outcome_unknown = FALSE,
                lease_owner = CASE WHEN shipments.lease_until > excluded.updated_at
                                   THEN shipments.lease_owner END,
                lease_until = CASE WHEN shipments.lease_until > excluded.updated_at
                                   THEN shipments.lease_until END,
                fence = shipments.fence + 1,
                updated_at = excluded.updated_at
              WHERE shipments.account_id IS DISTINCT FROM excluded.account_id
                 OR shipments.order_id IS DISTINCT FROM excluded.order_id
                 OR shipments.carrier IS DISTINCT FROM excluded.carrier
                 OR shipments.service IS DISTINCT FROM excluded.service
                 OR shipments.tracking_number IS DISTINCT FROM excluded.tracking_number
                 OR shipments.ship_date IS DISTINCT FROM excluded.ship_date
                 OR shipments.items IS DISTINCT FROM excluded.items
              RETURNING shipment_id, revision",
        );
        let changed: HashMap<String, i64> = sql
            .build()
            .fetch_all(&mut tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("shipment_id")?, r.try_get("revision")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        tx.commit().await?;

        Ok(batch
            .iter()
            .map(|s| {
                let outcome = match changed.get(&s.shipment_id) {
                    Some(0) => IngestOutcome::Created,
                    Some(_) => IngestOutcome::Updated,
                    None => IngestOutcome::Unchanged,
                };
                (s.shipment_id.clone(), outcome)
            })
            .collect())
    }

    /// One page of shipments: filtered, sorted by the database with the row id as
    /// tie-breaker, and paged by keyset so that a deep page costs what the first does.
    pub async fn list_shipments(
        &self,
        query: &ShipmentQuery,
    ) -> Result<Page<ShipmentRow>, StoreError> {
        let total = self.count_matching(query).await?;
        // Walking the sort index reads about 51 × shipments / matches entries to fill a
        // page: cheap while the filters match many, too many entries for a handful.
        let access = if total <= FEW_MATCHES {
            Access::Filters
        } else {
            Access::SortIndex
        };
        let (items, next_cursor) = self.page_rows(query, access).await?;
        Ok(Page {
            items,
            next_cursor,
            total,
        })
    }

    /// The rows of one page and the cursor of the next, without the total: what an
    /// export walks through page after page.
    pub async fn shipment_rows(
        &self,
        query: &ShipmentQuery,
    ) -> Result<(Vec<ShipmentRow>, Option<String>), StoreError> {
        self.page_rows(query, Access::SortIndex).await
    }

    async fn page_rows(
        &self,
        query: &ShipmentQuery,
        access: Access,
    ) -> Result<(Vec<ShipmentRow>, Option<String>), StoreError> {
        let (_, numeric) = sort_column(query.sort.key);
        let descending = query.sort.descending;
        let cursor = query
            .cursor
            .as_deref()
            .map(|c| Cursor::decode(c, query.sort.key, descending))
            .transpose()?;

        let mut sql = SqlBuilder::new("");
        push_page_select(
            &mut sql,
            query,
            self.filtering(access),
            cursor.as_ref(),
            query.limit as i64 + 1,
            false,
        );
        let rows = sql.build().fetch_all(&self.pool).await?;

        let has_more = rows.len() > query.limit as usize;
        let mut items = Vec::with_capacity(rows.len().min(query.limit as usize));
        let mut last = None;
        if let Some(first) = rows.first() {
            let at = ShipmentColumns::of(first)?;
            for row in rows.iter().take(query.limit as usize) {
                items.push(shipment_row(row, &at)?);
                last = Some(row);
            }
        }
        let next_cursor = match (has_more, last) {
            (true, Some(row)) => Some(
                Cursor {
                    sort: query.sort.key.as_str().to_string(),
                    descending,
                    value: if numeric {
                        SortValue::Int(row.try_get("sort_value")?)
                    } else {
                        SortValue::Text(row.try_get("sort_value")?)
                    },
                    id: row.try_get("id")?,
                }
                .encode(),
            ),
            _ => None,
        };
        Ok((items, next_cursor))
    }

    /// The accounts, and the carriers the shipments name (from the carrier index).
    pub async fn filter_options(&self) -> Result<FilterOptions, StoreError> {
        let accounts = query_as("SELECT key, display_name FROM accounts ORDER BY key")
            .fetch_all(&self.pool)
            .await?;
        let carriers = query_scalar(
            match self.dialect() {
                Dialect::Sqlite => "SELECT DISTINCT carrier FROM shipments INDEXED BY shipments_carrier ORDER BY carrier LIMIT 200",
                Dialect::Postgres => "SELECT DISTINCT carrier FROM shipments ORDER BY carrier LIMIT 200",
            },
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(FilterOptions { accounts, carriers })
    }

    /// Everything about one shipment, with every attempt ever made for it.
    pub async fn shipment_detail(
        &self,
        shipment_id: &str,
    ) -> Result<Option<ShipmentDetail>, StoreError> {
        let Some(row) = query(format!(
            "SELECT {ROW_COLUMNS}, s.account_id, s.items, s.revision, s.created_at
             FROM shipments s JOIN accounts a ON a.id = s.account_id WHERE s.shipment_id = $1"
        ))
        .bind(shipment_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        let items: Vec<ShipmentItem> = serde_json::from_str(&row.try_get::<String, _>("items")?)
            .map_err(|e| StoreError::Corrupt(format!("items of {shipment_id}: {e}")))?;
        let attempts = query(
            "SELECT revision, number, started_at, duration_ms, outcome, http_status, error_code,
                    error_message, superseded
             FROM writeback_attempts WHERE shipment_row = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|a| {
            let outcome: String = a.try_get("outcome")?;
            Ok(WritebackAttempt {
                number: a.try_get::<i64, _>("number")? as u32,
                revision: a.try_get::<i64, _>("revision")? as u32,
                started_at: from_millis(a.try_get("started_at")?)?,
                duration_ms: a.try_get::<i64, _>("duration_ms")? as u64,
                outcome: AttemptOutcome::parse(&outcome)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown outcome '{outcome}'")))?,
                http_status: a
                    .try_get::<Option<i64>, _>("http_status")?
                    .map(|s| s as u16),
                error_code: a.try_get("error_code")?,
                error_message: a.try_get("error_message")?,
                superseded: a.try_get("superseded")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let account_id: i64 = row.try_get("account_id")?;
        let order_id: String = row.try_get("order_id")?;
        let marketplace_order = query(
            "SELECT status, shipped, checked_at, ship_by, packages FROM marketplace_orders
              WHERE account_id = $1 AND order_id = $2",
        )
        .bind(account_id)
        .bind(&order_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|o| -> Result<MarketplaceOrderState, StoreError> {
            let packages: String = o.try_get("packages")?;
            Ok(MarketplaceOrderState {
                status: o.try_get("status")?,
                shipped: o.try_get("shipped")?,
                checked_at: from_millis(o.try_get("checked_at")?)?,
                ship_by: o
                    .try_get::<Option<i64>, _>("ship_by")?
                    .map(from_millis)
                    .transpose()?,
                packages: serde_json::from_str(&packages)
                    .map_err(|e| StoreError::Corrupt(format!("packages of {order_id}: {e}")))?,
            })
        })
        .transpose()?;
        let lines: Vec<ShipmentLine> = query(
            "SELECT i.order_item_id, i.sku, i.item_number, COALESCE(c.title, i.title) AS title,
                    c.image_url, c.weight_value, c.weight_unit
               FROM marketplace_order_items i
               LEFT JOIN catalog_items c ON c.account_id = i.account_id AND c.item_number = i.item_number
              WHERE i.account_id = $1 AND i.order_id = $2",
        )
        .bind(account_id)
        .bind(&order_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|l| -> Result<ShipmentLine, StoreError> {
            let weight: Option<f64> = l.try_get("weight_value")?;
            let unit: Option<String> = l.try_get("weight_unit")?;
            Ok(ShipmentLine {
                order_item_id: l.try_get("order_item_id")?,
                sku: l.try_get("sku")?,
                quantity: 0,
                item_number: l.try_get("item_number")?,
                title: l.try_get("title")?,
                image_url: l.try_get("image_url")?,
                weight: weight.map(|w| format!("{w:.2} {}", unit.unwrap_or_default()).trim_end().to_string()),
            })
        })
        .collect::<Result<_, _>>()?;
        // Each shipped line with what the order says of it: matched by order item id,
        // or by SKU for a line the station sent without one.
        let items = items
            .into_iter()
            .map(|item| {
                let known = lines.iter().find(|l| {
                    if item.order_item_id.is_empty() {
                        item.sku.is_some() && l.sku == item.sku
                    } else {
                        l.order_item_id == item.order_item_id
                    }
                });
                match known {
                    Some(line) => ShipmentLine {
                        quantity: item.quantity,
                        sku: item.sku.or_else(|| line.sku.clone()),
                        ..line.clone()
                    },
                    None => ShipmentLine {
                        order_item_id: item.order_item_id,
                        sku: item.sku,
                        quantity: item.quantity,
                        item_number: None,
                        title: None,
                        image_url: None,
                        weight: None,
                    },
                }
            })
            .collect();
        Ok(Some(ShipmentDetail {
            row: shipment_row(&row, &ShipmentColumns::of(&row)?)?,
            items,
            marketplace_order,
            package_reference_id: id.to_string(),
            revision: row.try_get::<i64, _>("revision")? as u32,
            created_at: from_millis(row.try_get("created_at")?)?,
            attempts,
            manual_confirmation: self.manual_confirmation(id).await?,
        }))
    }
}

impl Store {
    pub async fn count_shipments(&self) -> Result<u64, StoreError> {
        let n: i64 = query_scalar("SELECT COUNT(*) FROM shipments")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }
}

/// One earlier write-back attempt, as another system recorded it.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedAttempt {
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub duration_ms: u32,
    pub outcome: AttemptOutcome,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// Who made the call (a worker's name, or the tool that made the data).
    pub worker: String,
}

/// Where a stored shipment's write-back stands, and the attempts that got it there,
/// when they happened elsewhere: `shipback generate`'s synthetic histories, or data
/// moved from another installation. Bulk, and honest about it: nothing here is sent to
/// a marketplace.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedHistory {
    pub shipment_id: String,
    pub status: WritebackStatus,
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    pub attempts: Vec<ImportedAttempt>,
    /// For a Confirmed manually shipment: who confirmed it, when, with what note.
    pub manual_confirmation: Option<app::shipments::ManualConfirmation>,
}

impl Store {
    /// Gives stored shipments that have no write-back history yet (never attempted,
    /// never corrected, not claimed by a worker) the histories given; the shipment's counters follow from them
    /// (error count, last attempt, last error). A shipment that has a history already,
    /// or does not exist, is left alone and counted out: the number imported is
    /// returned.
    pub async fn import_histories(&self, histories: &[ImportedHistory]) -> Result<u64, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut imported = 0;
        for history in histories {
            let failures = history
                .attempts
                .iter()
                .filter(|a| a.outcome != AttemptOutcome::Success)
                .count() as i64;
            let last = history.attempts.last();
            // As the worker leaves it: the last attempt's error, none after a success.
            let last_error = last
                .filter(|a| a.outcome != AttemptOutcome::Success)
                .and_then(|a| {
                    let message = a.error_message.as_deref()?;
                    Some(app::shipments::error_line(
                        a.http_status,
                        a.error_code.as_deref(),
                        message,
                    ))
                });
            // The success that confirmed it, as the worker would have recorded it.
            let confirmed_at = history
                .attempts
                .iter()
                .find(|a| a.outcome == AttemptOutcome::Success)
                .map(|a| to_millis(a.started_at) + a.duration_ms as i64);
            let row: Option<i64> = query_scalar(
                "UPDATE shipments SET status = $1, error_count = $2, last_attempt_at = $3,
                     next_attempt_at = $4, last_error = $5, confirmed_at = $7
                 WHERE shipment_id = $6 AND revision = 0 AND last_attempt_at = 0
                   AND lease_owner IS NULL
                   AND NOT EXISTS (SELECT 1 FROM writeback_attempts a
                                   WHERE a.shipment_row = shipments.id)
                 RETURNING id",
            )
            .bind(history.status.as_str())
            .bind(failures)
            .bind(last.map(|a| to_millis(a.started_at)).unwrap_or(0))
            .bind(history.next_attempt_at.map(to_millis))
            .bind(last_error)
            .bind(&history.shipment_id)
            .bind(confirmed_at)
            .fetch_optional(&mut tx)
            .await?;
            let Some(row) = row else { continue };
            for (number, attempt) in history.attempts.iter().enumerate() {
                query(
                    "INSERT INTO writeback_attempts (shipment_row, revision, number, started_at,
                         duration_ms, outcome, http_status, error_code, error_message, worker)
                     VALUES ($1, 0, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(row)
                .bind(number as i64 + 1)
                .bind(to_millis(attempt.started_at))
                .bind(i64::from(attempt.duration_ms))
                .bind(attempt.outcome.as_str())
                .bind(attempt.http_status.map(i64::from))
                .bind(&attempt.error_code)
                .bind(&attempt.error_message)
                .bind(&attempt.worker)
                .execute(&mut tx)
                .await?;
            }
            if let Some(confirmation) = &history.manual_confirmation {
                query(
                    "INSERT INTO manual_confirmations (shipment_row, revision, confirmed_by, note,
                         confirmed_at)
                     VALUES ($1, 0, $2, $3, $4)",
                )
                .bind(row)
                .bind(&confirmation.confirmed_by)
                .bind(&confirmation.note)
                .bind(to_millis(confirmation.confirmed_at))
                .execute(&mut tx)
                .await?;
            }
            imported += 1;
        }
        tx.commit().await?;
        Ok(imported)
    }
}
