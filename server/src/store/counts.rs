//! The grid's total count, read from the counters that triggers keep (migration 6)
//! instead of from the shipments themselves.
//!
//! A ship-date range is cut into what each grain counts exactly: whole 32-day blocks in
//! the middle, whole days at the ends, and the part of a day at either end, which only
//! the shipments can answer (through the ship-date index). A search looks up at most a
//! few shipments, so it is counted directly.

use super::db::{query, SqlBuilder};
use super::shipments::{push_any_of, push_filters, Access};
use super::{Store, StoreError};
use app::query::ShipmentQuery;
use app::shipments::WritebackStatus;

const DAY_MS: i64 = 86_400_000;
const BLOCK_DAYS: i64 = 32;

/// A half-open range `[start, end)`; `None` leaves that side open.
type Span = (Option<i64>, Option<i64>);

/// How to count a ship-date range exactly.
#[derive(Debug, Default, PartialEq)]
struct CountPlan {
    /// Ship-date spans (milliseconds) counted from the shipments: parts of a day.
    exact: Vec<(i64, i64)>,
    /// Whole days, from `shipment_counts_by_day`.
    days: Vec<Span>,
    /// Whole blocks of 32 days, from `shipment_counts_by_block`.
    blocks: Option<Span>,
}

/// Cuts `[from, to)` (milliseconds; `None` is open) into blocks, days and part-days.
/// Stored ship dates are after the year 2000, so an earlier bound is the same as none.
fn plan(from: Option<i64>, to: Option<i64>) -> CountPlan {
    let from = from.map(|f| f.max(0));
    let to = to.map(|t| t.max(0));
    let mut plan = CountPlan::default();
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            return plan;
        }
        if f.div_euclid(DAY_MS) == t.div_euclid(DAY_MS) || ceil_div(f, DAY_MS) > t / DAY_MS {
            plan.exact.push((f, t));
            return plan;
        }
    }
    let first_day = from.map(|f| ceil_div(f, DAY_MS));
    let end_day = to.map(|t| t / DAY_MS);
    if let (Some(f), Some(d)) = (from, first_day) {
        if f % DAY_MS != 0 {
            plan.exact.push((f, d * DAY_MS));
        }
    }
    if let (Some(t), Some(d)) = (to, end_day) {
        if t % DAY_MS != 0 {
            plan.exact.push((d * DAY_MS, t));
        }
    }
    let first_block = first_day.map(|d| ceil_div(d, BLOCK_DAYS));
    let end_block = end_day.map(|d| d / BLOCK_DAYS);
    if let (Some(b0), Some(b1)) = (first_block, end_block) {
        if b0 >= b1 {
            if first_day < end_day {
                plan.days.push((first_day, end_day));
            }
            return plan;
        }
    }
    if let (Some(d0), Some(b0)) = (first_day, first_block) {
        if d0 < b0 * BLOCK_DAYS {
            plan.days.push((Some(d0), Some(b0 * BLOCK_DAYS)));
        }
    }
    plan.blocks = Some((first_block, end_block));
    if let (Some(d1), Some(b1)) = (end_day, end_block) {
        if b1 * BLOCK_DAYS < d1 {
            plan.days.push((Some(b1 * BLOCK_DAYS), Some(d1)));
        }
    }
    plan
}

fn ceil_div(n: i64, d: i64) -> i64 {
    (n + d - 1).div_euclid(d)
}

/// The filters a counter row can answer: status, account, marketplace and carrier.
fn push_counter_filters(sql: &mut SqlBuilder, query: &ShipmentQuery) {
    let statuses: Vec<String> = query.statuses.iter().map(|s| s.as_str().into()).collect();
    push_any_of(sql, "status", &statuses);
    push_any_of(sql, "account_key", &query.accounts);
    if !query.marketplaces.is_empty() {
        push_any_of(
            sql,
            "account_key IN (SELECT key FROM accounts WHERE marketplace",
            &query.marketplaces,
        );
        sql.push(")");
    }
    push_any_of(sql, "carrier", &query.carriers);
}

fn push_span(sql: &mut SqlBuilder, column: &str, (start, end): Span) {
    if let Some(start) = start {
        sql.push(format_args!(" AND {column} >= ")).push_bind(start);
    }
    if let Some(end) = end {
        sql.push(format_args!(" AND {column} < ")).push_bind(end);
    }
}

impl Store {
    /// How many shipments are in each status, from the counters (every status, zero
    /// included): what the metrics report at each scrape.
    pub async fn status_totals(&self) -> Result<Vec<(WritebackStatus, u64)>, StoreError> {
        let rows = query(
            "SELECT status, CAST(SUM(n) AS BIGINT) AS n FROM shipment_counts_by_block
              GROUP BY status",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut totals: Vec<(WritebackStatus, u64)> =
            WritebackStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for row in rows {
            let status: String = row.try_get("status")?;
            let n: i64 = row.try_get("n")?;
            let status = WritebackStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown status '{status}'")))?;
            if let Some(total) = totals.iter_mut().find(|(s, _)| *s == status) {
                total.1 = n.max(0) as u64;
            }
        }
        Ok(totals)
    }

    /// How many shipments match the query's filters (its sort and cursor aside).
    pub(super) async fn count_matching(&self, query: &ShipmentQuery) -> Result<u64, StoreError> {
        // The sum is cast back to an integer: PostgreSQL sums integers as numerics.
        let how = self.filtering(Access::Filters);
        let mut sql = SqlBuilder::new("SELECT CAST(0");
        // The counters know neither search terms nor deadlines.
        if query.search.is_some() || !query.deadlines.is_empty() {
            sql.push(" + (SELECT COUNT(*) FROM shipments s");
            push_filters(&mut sql, query, how);
            sql.push(")");
        } else {
            let plan = plan(
                query.from.map(|t| t.timestamp_millis()),
                query.to.map(|t| t.timestamp_millis()),
            );
            if let Some(blocks) = plan.blocks {
                sql.push(
                    " + (SELECT COALESCE(SUM(n), 0) FROM shipment_counts_by_block WHERE 1 = 1",
                );
                push_span(&mut sql, "block", blocks);
                push_counter_filters(&mut sql, query);
                sql.push(")");
            }
            for days in plan.days {
                sql.push(" + (SELECT COALESCE(SUM(n), 0) FROM shipment_counts_by_day WHERE 1 = 1");
                push_span(&mut sql, "day", days);
                push_counter_filters(&mut sql, query);
                sql.push(")");
            }
            for (start, end) in plan.exact {
                let part = ShipmentQuery {
                    from: chrono::DateTime::from_timestamp_millis(start),
                    to: chrono::DateTime::from_timestamp_millis(end),
                    ..query.clone()
                };
                sql.push(" + (SELECT COUNT(*) FROM shipments s");
                push_filters(&mut sql, &part, how);
                sql.push(")");
            }
        }
        sql.push(" AS BIGINT)");
        let total: i64 = sql.build_query_scalar().fetch_one(&self.pool).await?;
        Ok(total.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::{query, query_scalar};
    use app::shipments::WritebackStatus;
    use chrono::{DateTime, Duration, DurationRound, Utc};

    const D: i64 = DAY_MS;

    /// The counters against `COUNT(*)`, on generated shipments that were then moved
    /// between statuses, carriers, accounts and days, and deleted.
    #[tokio::test]
    async fn the_counters_agree_with_count_star_for_every_filter_combination() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("counts.db").display());
        let key = crate::secrets::SecretKey::generate();
        let store = Store::open(&url)
            .await
            .unwrap()
            .with_keyring(crate::secrets::Keyring::new(key));
        crate::generate::generate(&store, 3_000, 200, "http://127.0.0.1:9", 7)
            .await
            .unwrap();
        for change in [
            "UPDATE shipments SET status = 'failed' WHERE id % 7 = 0",
            "UPDATE shipments SET carrier = 'DHL', ship_date = ship_date + 3 * 86400000 WHERE id % 11 = 0",
            "UPDATE shipments SET
                 account_id = (SELECT id FROM accounts WHERE marketplace = 'ebay' LIMIT 1),
                 account_key = (SELECT key FROM accounts WHERE marketplace = 'ebay' LIMIT 1)
             WHERE id % 17 = 0",
            "DELETE FROM shipments WHERE id % 13 = 0",
        ] {
            query(change).execute(&store.pool).await.unwrap();
        }
        let accounts: Vec<String> =
            query_scalar("SELECT DISTINCT account_key FROM shipments ORDER BY 1 LIMIT 1")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        let today = Utc::now().duration_trunc(Duration::days(1)).unwrap();
        type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let ranges: [Range; 6] = [
            (None, None),
            (
                Some(today - Duration::hours(170)),
                Some(today - Duration::hours(3)),
            ),
            (
                Some(today - Duration::days(150)),
                Some(today - Duration::days(20)),
            ),
            (
                Some(today - Duration::days(90) + Duration::minutes(7)),
                None,
            ),
            (
                None,
                Some(today - Duration::days(45) - Duration::minutes(7)),
            ),
            (
                Some(today - Duration::hours(20)),
                Some(today - Duration::hours(19)),
            ),
        ];
        let status_sets = [
            vec![],
            vec![WritebackStatus::Failed],
            vec![WritebackStatus::Success, WritebackStatus::Pending],
        ];
        let mut checked = 0;
        for statuses in &status_sets {
            for accounts in [vec![], accounts.clone()] {
                for marketplaces in [vec![], vec!["ebay".to_string()]] {
                    for carriers in [vec![], vec!["UPS".to_string(), "DHL".to_string()]] {
                        for (from, to) in ranges {
                            let query = ShipmentQuery {
                                statuses: statuses.clone(),
                                accounts: accounts.clone(),
                                marketplaces: marketplaces.clone(),
                                carriers: carriers.clone(),
                                from,
                                to,
                                ..ShipmentQuery::default()
                            };
                            let mut exact = SqlBuilder::new("SELECT COUNT(*) FROM shipments s");
                            push_filters(&mut exact, &query, store.filtering(Access::Filters));
                            let expected: i64 = exact
                                .build_query_scalar()
                                .fetch_one(&store.pool)
                                .await
                                .unwrap();
                            let counted = store.count_matching(&query).await.unwrap();
                            assert_eq!(counted, expected as u64, "{query:?}");
                            checked += usize::from(expected > 0);
                        }
                    }
                }
            }
        }
        assert!(
            checked > 100,
            "most combinations match something: {checked}"
        );
    }

    #[test]
    fn no_range_sums_every_block() {
        assert_eq!(
            plan(None, None),
            CountPlan {
                blocks: Some((None, None)),
                ..Default::default()
            }
        );
    }

    #[test]
    fn a_range_inside_one_day_is_counted_exactly() {
        let p = plan(Some(100 * D + 5), Some(100 * D + 9));
        assert_eq!(p.exact, [(100 * D + 5, 100 * D + 9)]);
        assert!(p.days.is_empty() && p.blocks.is_none());
    }

    #[test]
    fn a_range_across_one_midnight_is_two_exact_parts() {
        let p = plan(Some(100 * D + 5), Some(101 * D + 9));
        assert_eq!(p.exact, [(100 * D + 5, 101 * D), (101 * D, 101 * D + 9)]);
        assert!(p.days.is_empty() && p.blocks.is_none());
    }

    #[test]
    fn whole_days_inside_one_block_come_from_the_day_counters() {
        let p = plan(Some(65 * D), Some(72 * D));
        assert_eq!(p.days, [(Some(65), Some(72))]);
        assert!(p.exact.is_empty() && p.blocks.is_none());
    }

    #[test]
    fn a_long_range_is_blocks_with_days_and_part_days_at_its_ends() {
        // Day 40 (block 1 starts at day 32) to day 200 (block 6 starts at 192).
        let p = plan(Some(40 * D - 7), Some(200 * D + 3));
        assert_eq!(p.exact, [(40 * D - 7, 40 * D), (200 * D, 200 * D + 3)]);
        assert_eq!(p.days, [(Some(40), Some(64)), (Some(192), Some(200))]);
        assert_eq!(p.blocks, Some((Some(2), Some(6))));
    }

    #[test]
    fn open_ends_stay_open() {
        let p = plan(Some(40 * D), None);
        assert_eq!(p.days, [(Some(40), Some(64))]);
        assert_eq!(p.blocks, Some((Some(2), None)));
        let p = plan(None, Some(40 * D));
        assert_eq!(p.days, [(Some(32), Some(40))]);
        assert_eq!(p.blocks, Some((None, Some(1))));
    }

    #[test]
    fn an_empty_or_reversed_range_counts_nothing() {
        assert_eq!(plan(Some(5 * D), Some(5 * D)), CountPlan::default());
        assert_eq!(plan(Some(9 * D), Some(5 * D)), CountPlan::default());
        assert_eq!(plan(Some(-9 * D), Some(-5 * D)), CountPlan::default());
    }
}
