//! The rows an export walks: every shipment a query's filters match, in its order.
//!
//! sqlx hands a SQLite row over value by value, and at seventeen values a row that cost
//! 13 s for a million shipments, where the `sqlite3` shell takes 3. So on SQLite each
//! step of 5,000 rows comes back as one value, a JSON array SQLite builds, and is parsed
//! on the export's side. PostgreSQL's rows arrive in its binary format, which sqlx
//! reads quickly, and building JSON there cost four times reading the rows (50 ms
//! against 13 ms a step, measured): they are read as rows. Reading runs in a task of
//! its own: the next step is read while the last one is written, and the channel's
//! bound keeps memory flat.

use super::cursor::{Cursor, SortValue};
use super::db::{query_as, Conn, Pool, SqlBuilder};
use super::shipments::{
    deadline_from, optional_instant, push_page_select, shipment_row, status_from, Access,
    Filtering, ShipmentColumns,
};
use super::{from_millis, Store, StoreError};
use app::query::ShipmentQuery;
use app::shipments::ShipmentRow;
use futures::{Stream, StreamExt};
use serde::Deserialize;
use sqlx::PgPool;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Rows per step (on PostgreSQL, rows sent on together: 20,000 a fetch from a cursor
/// saved 5 % of the time and took four times the memory, measured).
const STEP: i64 = 5_000;

/// One shipment as the step's JSON array lists it (see `STEP_COLUMNS`).
#[derive(Deserialize)]
struct JsonRow(
    SortValue,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    i64,
    bool,
    i64,
    Option<i64>,
);

/// The account's name and marketplace are not among them: the export looks them up in
/// the few accounts, which spares the database a fifth of the text it writes.
const STEP_COLUMNS: &str = "shipment_id, account_key, order_id, carrier, service, tracking_number, quantity, ship_date, status, error_count, \
    last_attempt_at, next_attempt_at, last_error, updated_at";

/// One step read on SQLite: its rows as JSON, and where the next step starts
/// (`None`: the last).
struct Step {
    rows: String,
    next: Option<Cursor>,
}

/// A step's rows as each database gives them best.
enum StepRows {
    /// SQLite: one JSON array, parsed on the export's side (see the module's comment),
    /// with the accounts' names it leaves out.
    Json(String, Arc<AccountNames>),
    /// PostgreSQL: the rows themselves.
    Rows(Vec<ShipmentRow>),
}

/// Where the reading task sends its steps.
type Steps = mpsc::Sender<Result<StepRows, StoreError>>;

/// Account key → (name, marketplace).
type AccountNames = HashMap<String, (String, String)>;

/// The rows of a step, checked to be in the query's order: SQLite's aggregate lists
/// them in the order the page's subquery yields them, which its documentation does not
/// promise, so a change there fails the export instead of scrambling it.
fn parse_step(
    json: &str,
    accounts: &AccountNames,
    descending: bool,
) -> Result<Vec<ShipmentRow>, StoreError> {
    let rows: Vec<JsonRow> = serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("an export step does not parse: {e}")))?;
    let in_order = rows.windows(2).all(|w| {
        let order = compare_keys((&w[0].0, w[0].1), (&w[1].0, w[1].1));
        order
            == if descending {
                Ordering::Greater
            } else {
                Ordering::Less
            }
    });
    if !in_order {
        return Err(StoreError::Corrupt(
            "an export step came back out of order".to_string(),
        ));
    }
    rows.into_iter()
        .map(|r| {
            let (account_name, marketplace) = accounts
                .get(&r.3)
                .cloned()
                .ok_or_else(|| StoreError::Corrupt(format!("unknown account '{}'", r.3)))?;
            Ok(ShipmentRow {
                shipment_id: r.2,
                account: r.3,
                account_name,
                marketplace,
                order_id: r.4,
                carrier: r.5,
                service: r.6,
                tracking_number: r.7,
                quantity: r.8 as u32,
                ship_date: from_millis(r.9)?,
                status: status_from(&r.10)?,
                error_count: r.11 as u32,
                last_attempt_at: optional_instant(Some(r.12))?,
                next_attempt_at: optional_instant(r.13)?,
                last_error: r.14,
                updated_at: from_millis(r.15)?,
                waiting: r.16,
                ship_by: deadline_from(r.17)?,
                confirmed_at: r.18.map(from_millis).transpose()?,
            })
        })
        .collect()
}

/// Keyset order: by sort value, then row id.
fn compare_keys(a: (&SortValue, i64), b: (&SortValue, i64)) -> Ordering {
    let by_value = match (a.0, b.0) {
        (SortValue::Int(x), SortValue::Int(y)) => x.cmp(y),
        (SortValue::Text(x), SortValue::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (SortValue::Int(_), SortValue::Text(_)) => Ordering::Less,
        (SortValue::Text(_), SortValue::Int(_)) => Ordering::Greater,
    };
    by_value.then(a.1.cmp(&b.1))
}

impl Store {
    /// Every shipment the query's filters match (its cursor aside), in its order, step
    /// after step.
    pub fn export_rows(
        &self,
        query: &ShipmentQuery,
    ) -> impl Stream<Item = Result<Vec<ShipmentRow>, StoreError>> + Send + 'static {
        let (steps, rx) = mpsc::channel::<Result<StepRows, StoreError>>(2);
        let store = self.clone();
        let descending = query.sort.descending;
        let query = ShipmentQuery {
            cursor: None,
            ..query.clone()
        };
        tokio::spawn(async move {
            let read = match &store.pool {
                Pool::Sqlite(_) => store.export_steps_as_json(&query, &steps).await,
                Pool::Postgres(pool) => store.export_streamed(pool, &query, &steps).await,
            };
            if let Err(e) = read {
                let _ = steps.send(Err(e)).await;
            }
        });
        futures::stream::unfold(rx, move |mut rx| async move {
            let step = rx.recv().await?;
            Some((
                step.and_then(|rows| match rows {
                    StepRows::Json(json, names) => parse_step(&json, &names, descending),
                    StepRows::Rows(rows) => Ok(rows),
                }),
                rx,
            ))
        })
        // Ended for good: a reader that polls once more after the end (the response's
        // compression does) gets the end again.
        .fuse()
    }

    /// SQLite: step after step by keyset, each step one JSON value. Returns when the
    /// last step is sent, or when the export's reader went away.
    async fn export_steps_as_json(
        &self,
        query: &ShipmentQuery,
        steps: &Steps,
    ) -> Result<(), StoreError> {
        let names = Arc::new(self.account_names().await?);
        let mut conn = self.export_connection().await?;
        // One instant for the whole export, so that a shipment turning late meanwhile
        // is neither listed twice nor missed.
        let how = self.filtering(Access::SortIndex);
        let mut cursor = None;
        loop {
            let step = export_step_as_json(&mut conn, query, how, cursor.as_ref()).await?;
            let rows = StepRows::Json(step.rows, names.clone());
            if steps.send(Ok(rows)).await.is_err() {
                return Ok(());
            }
            match step.next {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// PostgreSQL: one query whose rows are read as they arrive: one snapshot, planned
    /// and sorted once. Not a cursor, so that PostgreSQL may sort in parallel workers,
    /// which it plans no cursor with: for a million rows a cursor took 2.24 times
    /// `psql \copy`, this 1.79 times, run one after the other (paging by keyset as on
    /// SQLite, 2.7 times). The figures since: docs/benchmarks.md.
    async fn export_streamed(
        &self,
        pool: &PgPool,
        query: &ShipmentQuery,
        steps: &Steps,
    ) -> Result<(), StoreError> {
        let mut conn = super::postgres::export_connection(pool).await?;
        let mut select = SqlBuilder::new("");
        push_page_select(
            &mut select,
            query,
            self.filtering(Access::SortIndex),
            None,
            i64::MAX,
            false,
        );
        let select = select.build();
        let mut rows = select.fetch_pg(&mut conn);
        let mut step = Vec::with_capacity(STEP as usize);
        let mut columns = None;
        while let Some(row) = rows.next().await {
            let row = row?;
            let at = match &columns {
                Some(at) => at,
                None => columns.insert(ShipmentColumns::of(&row)?),
            };
            step.push(shipment_row(&row, at)?);
            if step.len() == STEP as usize {
                let full = std::mem::replace(&mut step, Vec::with_capacity(STEP as usize));
                if steps.send(Ok(StepRows::Rows(full))).await.is_err() {
                    // The reader left: the connection ends here, mid-answer.
                    return Ok(());
                }
            }
        }
        let _ = steps.send(Ok(StepRows::Rows(step))).await;
        Ok(())
    }

    async fn account_names(&self) -> Result<AccountNames, StoreError> {
        let rows: Vec<(String, String, String)> =
            query_as("SELECT key, display_name, marketplace FROM accounts")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(k, n, m)| (k, (n, m))).collect())
    }

    /// The export's connection (see `sqlite::export_connection`).
    async fn export_connection(&self) -> Result<Conn, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => Conn::Sqlite(super::sqlite::export_connection(pool).await?),
            Pool::Postgres(pool) => Conn::Postgres(pool.acquire().await?),
        })
    }
}

/// One step on SQLite: its rows as JSON, and the keyset of its last row when it is
/// full. The keys come first, from the sort index alone: the step's last key is the
/// next step's cursor, and asking for it separately spares SQLite copying the rows to
/// read them twice (a materialised page cost 40 % more).
async fn export_step_as_json(
    conn: &mut Conn,
    query: &ShipmentQuery,
    how: Filtering,
    cursor: Option<&Cursor>,
) -> Result<Step, StoreError> {
    // The step's last row, when it has all STEP rows.
    let dir = if query.sort.descending { "DESC" } else { "ASC" };
    let mut keys = SqlBuilder::new(format_args!(
        "SELECT CAST(json_array(sort_value, id) AS TEXT) FROM ("
    ));
    push_page_select(&mut keys, query, how, cursor, STEP, true);
    keys.push(format_args!(
        ") AS step ORDER BY sort_value {dir}, id {dir} LIMIT 1 OFFSET {}",
        STEP - 1
    ));
    let last: Option<String> = keys.build_query_scalar().fetch_optional(&mut *conn).await?;
    let next = match last {
        Some(last) => {
            let (value, id): (SortValue, i64) = serde_json::from_str(&last).map_err(|e| {
                StoreError::Corrupt(format!("an export step's keyset does not parse: {e}"))
            })?;
            Some(Cursor {
                sort: query.sort.key.as_str().to_string(),
                descending: query.sort.descending,
                value,
                id,
            })
        }
        None => None,
    };

    let mut rows = SqlBuilder::new(format_args!(
        "SELECT CAST(COALESCE(json_group_array(json_array(sort_value, id, {STEP_COLUMNS}, \
         json(CASE WHEN waiting THEN 'true' ELSE 'false' END), ship_by, confirmed_at)), '[]') AS TEXT) FROM ("
    ));
    push_page_select(&mut rows, query, how, cursor, STEP, false);
    rows.push(") AS step");
    Ok(Step {
        rows: rows.build_query_scalar().fetch_one(&mut *conn).await?,
        next,
    })
}
