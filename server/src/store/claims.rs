//! The worker's side of the store: claiming due shipments and recording attempts.
//!
//! A claim is a lease (owner and expiry) plus a fencing token (`fence`, bumped by every
//! claim and by every correction). A result is written only if the fence it was claimed
//! with is still current, so a worker that wakes up after its lease expired cannot undo
//! the work of the worker that took over.

use super::db::{query, query_as, query_scalar, DbRow, SqlBuilder, Tx};
use super::{from_millis, now_millis, to_millis, Dialect, Store, StoreError};
use crate::records::shipments::ClaimedShipment;
use app::shipments::{AttemptOutcome, WritebackStatus};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// What is due for an attempt now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueQueue {
    pub due: u64,
    /// Milliseconds since the epoch; `None` when nothing is due.
    pub oldest_due_at: Option<i64>,
}

/// Gives `worker`'s lease on a shipment back, whatever its fence: a claim a correction
/// superseded is released too, so that the new revision goes at once.
pub(super) async fn release_lease(
    tx: &mut Tx,
    row_id: i64,
    worker: &str,
) -> Result<(), StoreError> {
    query(
        "UPDATE shipments SET lease_owner = NULL, lease_until = NULL
          WHERE id = $1 AND lease_owner = $2",
    )
    .bind(row_id)
    .bind(worker)
    .execute(tx)
    .await?;
    Ok(())
}

/// Results per statement: ten or eleven parameters each, well inside both databases'
/// limits on a statement's parameters.
const RESULTS_PER_STATEMENT: usize = 500;

/// Splits results into runs that can be written together (see
/// [`Store::record_attempts`]): a result that starts or ends a pause ends its run, and a
/// shipment met again starts a new one.
fn attempt_runs(records: &[AttemptRecord]) -> Vec<&[AttemptRecord]> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut shipments = HashSet::new();
    for (i, r) in records.iter().enumerate() {
        if !shipments.insert(r.row_id) {
            runs.push(&records[start..i]);
            start = i;
            shipments.clear();
            shipments.insert(r.row_id);
        }
        if r.pause.is_some() || r.resumes.is_some() {
            runs.push(&records[start..=i]);
            start = i + 1;
            shipments.clear();
        }
    }
    if start < records.len() {
        runs.push(&records[start..]);
    }
    runs
}

/// Writes one run's results: the shipments whose claim is still current take their new
/// state, every attempt is kept, and the superseded claims are given back. The
/// shipments that took their result.
async fn write_run(
    tx: &mut Tx,
    worker: &str,
    run: &[AttemptRecord],
) -> Result<HashSet<i64>, StoreError> {
    let mut updated = HashSet::with_capacity(run.len());
    for chunk in run.chunks(RESULTS_PER_STATEMENT) {
        // VALUES columns are column1, column2… on both databases.
        let mut sql = SqlBuilder::new(
            "UPDATE shipments
                SET status = v.column3, error_count = v.column4, last_attempt_at = v.column5,
                    next_attempt_at = v.column6, last_error = v.column7, lease_owner = NULL,
                    lease_until = NULL, updated_at = v.column8, outcome_unknown = v.column9,
                    waiting_on = v.column10,
                    confirmed_at = CASE WHEN v.column3 = 'success'
                                        THEN COALESCE(confirmed_at, v.column8)
                                        ELSE confirmed_at END
               FROM (",
        );
        sql.push_values(chunk, |mut b, r| {
            b.push_bind(r.row_id)
                .push_bind(r.fence)
                .push_bind(r.new_status.as_str())
                .push_bind(r.error_count)
                .push_bind(r.started_at)
                .push_bind(r.next_attempt_at)
                .push_bind(&r.last_error)
                .push_bind(r.started_at + r.duration_ms)
                .push_bind(r.outcome_unknown)
                .push_bind(&r.waiting_on);
        });
        sql.push(
            ") AS v WHERE shipments.id = v.column1 AND shipments.fence = v.column2 RETURNING id",
        );
        updated.extend(sql.build_query_scalar::<i64>().fetch_all(&mut *tx).await?);
    }
    for r in run.iter().filter(|r| !updated.contains(&r.row_id)) {
        release_lease(tx, r.row_id, worker).await?;
    }
    for chunk in run.chunks(RESULTS_PER_STATEMENT) {
        let mut sql = SqlBuilder::new(
            "INSERT INTO writeback_attempts (shipment_row, revision, number, started_at,
                 duration_ms, outcome, http_status, error_code, error_message, worker, superseded) ",
        );
        sql.push_values(chunk, |mut b, r| {
            let current = updated.contains(&r.row_id);
            b.push_bind(r.row_id)
                .push_bind(r.revision)
                .push_bind(if current { r.number } else { 0 })
                .push_bind(r.started_at)
                .push_bind(r.duration_ms)
                .push_bind(r.outcome.as_str())
                .push_bind(r.http_status.map(i64::from))
                .push_bind(&r.error_code)
                .push_bind(&r.error_message)
                .push_bind(worker)
                .push_bind(!current);
        });
        sql.build().execute(&mut *tx).await?;
    }
    Ok(updated)
}

/// An account's API the marketplace's trouble has paused.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiPause {
    /// `api:<account id>:<api>`.
    pub key: String,
    pub account_id: i64,
    pub api: String,
    pub since: DateTime<Utc>,
    pub reason: String,
    pub next_probe_at: DateTime<Utc>,
    /// The marketplace asked to be left alone until `next_probe_at` (Retry-After, a
    /// daily limit): a pause that exists already takes that time. Otherwise it keeps
    /// its own probe schedule.
    pub insist: bool,
}

/// One finished attempt and the state it leaves the shipment in.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub row_id: i64,
    pub fence: i64,
    pub revision: i64,
    pub number: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub outcome: AttemptOutcome,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub new_status: WritebackStatus,
    pub error_count: i64,
    pub next_attempt_at: Option<i64>,
    pub last_error: Option<String>,
    /// The call may have taken effect though its answer was lost.
    pub outcome_unknown: bool,
    /// The shipment waits on this (a paused API) instead of being due again.
    pub waiting_on: Option<String>,
    /// The pause this result starts or keeps (the marketplace's trouble).
    pub pause: Option<ApiPause>,
    /// The pause a probe's success ends: every shipment waiting on it goes on.
    pub resumes: Option<String>,
}

/// PostgreSQL, a claim's first step: how many of each account's due shipments the
/// claim takes (the longest-waiting `limit`, at most `per_account` of one account),
/// read without locking anything. Locking in the same scan locked `per_account` rows
/// of every account before the `limit` kept the longest-waiting: four times the rows
/// taken with four accounts, each a tuple written, and skipped by every other worker
/// claiming meanwhile.
async fn due_shares(
    tx: &mut Tx,
    now: i64,
    limit: u32,
    per_account: u32,
) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(query_as(
        "SELECT chosen.account_id, COUNT(*) FROM (
             SELECT due.account_id FROM accounts a
              CROSS JOIN LATERAL (
                  SELECT account_id, id, next_attempt_at FROM shipments
                   WHERE account_id = a.id AND next_attempt_at <= $1
                     AND (lease_until IS NULL OR lease_until < $1)
                   ORDER BY next_attempt_at, id
                   LIMIT $3) AS due
              ORDER BY due.next_attempt_at, due.id
              LIMIT $2) AS chosen
          GROUP BY chosen.account_id",
    )
    .bind(now)
    .bind(limit as i64)
    .bind(per_account as i64)
    .fetch_all(&mut *tx)
    .await?)
}

/// PostgreSQL, a claim's second step: leases each account's share of its due
/// shipments, the longest-waiting first. Workers on other hosts claim at the same
/// moment: rows another claim holds are passed by (SKIP LOCKED) for the account's next
/// ones, so two claims never wait for each other nor take the same shipment. The first
/// step counted rows such a claim holds: an account with fewer due rows than that may
/// fill less than its share, and the claim comes back short of its limit; the next
/// claim takes the rest.
async fn take_shares(
    tx: &mut Tx,
    worker: &str,
    now: i64,
    lease_until: i64,
    shares: &[(i64, i64)],
) -> Result<Vec<DbRow>, StoreError> {
    // Chosen once (MATERIALIZED): a row lock taken by a subquery the planner might run
    // again would take more than the share.
    let mut sql = SqlBuilder::new("WITH chosen AS MATERIALIZED (SELECT due.id FROM (");
    sql.push_values(shares, |mut b, (account_id, take)| {
        b.push_bind(*account_id).push_bind(*take);
    });
    sql.push(
        ") AS share (account_id, take)
             CROSS JOIN LATERAL (
                 SELECT id FROM shipments
                  WHERE account_id = share.account_id AND next_attempt_at <= ",
    )
    .push_bind(now)
    .push(" AND (lease_until IS NULL OR lease_until < ")
    .push_bind(now)
    .push(
        ")
                  ORDER BY next_attempt_at, id
                  LIMIT share.take
                  FOR UPDATE SKIP LOCKED) AS due)
         UPDATE shipments
            SET lease_owner = ",
    )
    .push_bind(worker)
    .push(", lease_until = ")
    .push_bind(lease_until)
    .push(
        ", fence = shipments.fence + 1,
               -- Taken over from a worker whose lease ran out: it may have sent.
               outcome_unknown = CASE WHEN shipments.lease_owner IS NOT NULL THEN TRUE
                                      ELSE shipments.outcome_unknown END
           FROM chosen
          WHERE shipments.id = chosen.id
         RETURNING shipments.id, fence, shipment_id, account_id, order_id, carrier, service,
                   tracking_number, ship_date, items, revision, error_count, outcome_unknown,
                   waiting_on",
    );
    Ok(sql.build().fetch_all(&mut *tx).await?)
}

impl Store {
    /// Leases up to `limit` shipments that are due at `now` and not leased by anyone
    /// else (or whose lease has run out), until `lease_until`; at most `per_account`
    /// of any one account, the longest-waiting first.
    pub async fn claim_due(
        &self,
        worker: &str,
        now: i64,
        lease_until: i64,
        limit: u32,
        per_account: u32,
    ) -> Result<Vec<ClaimedShipment>, StoreError> {
        let mut tx = self.claim_tx().await?;
        let rows = match self.dialect() {
            // SQLite has one writer at a time: the due rows are the due rows.
            Dialect::Sqlite => {
                query(
                    "UPDATE shipments
                        SET lease_owner = $1, lease_until = $2, fence = fence + 1,
                            -- Taken over from a worker whose lease ran out: it may have sent.
                            outcome_unknown = CASE WHEN lease_owner IS NOT NULL THEN TRUE
                                                   ELSE outcome_unknown END
                      WHERE id IN (SELECT id FROM (
                                       SELECT id, next_attempt_at,
                                              ROW_NUMBER() OVER (PARTITION BY account_id
                                                                 ORDER BY next_attempt_at, id) AS place
                                         FROM shipments
                                        WHERE next_attempt_at <= $3
                                          AND (lease_until IS NULL OR lease_until < $3))
                                    WHERE place <= $5
                                    ORDER BY next_attempt_at
                                    LIMIT $4)
                     RETURNING id, fence, shipment_id, account_id, order_id, carrier, service,
                               tracking_number, ship_date, items, revision, error_count,
                               outcome_unknown, waiting_on",
                )
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .bind(limit as i64)
                .bind(per_account as i64)
                .fetch_all(&mut tx)
                .await?
            }
            Dialect::Postgres => {
                let shares = due_shares(&mut tx, now, limit, per_account).await?;
                if shares.is_empty() {
                    return Ok(Vec::new());
                }
                take_shares(&mut tx, worker, now, lease_until, &shares).await?
            }
        };
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                let shipment_id: String = r.try_get("shipment_id")?;
                let items = serde_json::from_str(&r.try_get::<String, _>("items")?)
                    .map_err(|e| StoreError::Corrupt(format!("items of {shipment_id}: {e}")))?;
                Ok(ClaimedShipment {
                    marketplace_carrier: None,
                    outcome_unknown: r.try_get("outcome_unknown")?,
                    waiting_on: r.try_get("waiting_on")?,
                    row_id: r.try_get("id")?,
                    fence: r.try_get("fence")?,
                    shipment_id,
                    account_id: r.try_get("account_id")?,
                    order_id: r.try_get("order_id")?,
                    carrier: r.try_get("carrier")?,
                    service: r.try_get("service")?,
                    tracking_number: r.try_get("tracking_number")?,
                    ship_date: from_millis(r.try_get("ship_date")?)?,
                    items,
                    revision: r.try_get("revision")?,
                    error_count: r.try_get("error_count")?,
                })
            })
            .collect()
    }

    /// Records a group of attempts in one transaction. Every attempt is kept in the
    /// history; the shipment's state moves only where the claim's fence is still current.
    /// A result whose claim was superseded (a correction, a lease taken over) is kept as
    /// a superseded attempt, and its worker's lease, if it still holds it, is given back
    /// so that the newer revision goes at once. Returns how many were superseded.
    ///
    /// The results are written a run at a time: one statement for the run's shipments,
    /// one for its attempts (a statement per result cost PostgreSQL a round trip and its
    /// triggers each time). A result that starts or ends a pause closes its run, and a
    /// second result for the same shipment opens a new one, so that everything takes
    /// effect in the order the results came, as if written one by one.
    pub async fn record_attempts(
        &self,
        worker: &str,
        records: &[AttemptRecord],
    ) -> Result<usize, StoreError> {
        let mut tx = self.write_tx().await?;
        let now = now_millis();
        let mut stale = 0;
        let mut succeeded = Vec::new();
        for run in attempt_runs(records) {
            let updated = write_run(&mut tx, worker, run).await?;
            for r in run {
                if !updated.contains(&r.row_id) {
                    stale += 1;
                } else if r.new_status == WritebackStatus::Success {
                    succeeded.push((r.row_id, r.started_at + r.duration_ms));
                }
            }
            // Only a run's last result can start or end a pause.
            let Some(last) = run.last().filter(|r| updated.contains(&r.row_id)) else {
                continue;
            };
            if let Some(key) = &last.resumes {
                // The probe got an answer about the shipment itself: the API works again.
                super::waits::resume_in(&mut tx, key, now).await?;
                query("DELETE FROM api_pauses WHERE key = $1")
                    .bind(key)
                    .execute(&mut tx)
                    .await?;
            }
            if let Some(pause) = &last.pause {
                query(
                    "INSERT INTO api_pauses (key, account_id, api, since, reason, next_probe_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (key) DO UPDATE SET reason = excluded.reason,
                         next_probe_at = CASE WHEN $7 THEN excluded.next_probe_at
                                              ELSE api_pauses.next_probe_at END",
                )
                .bind(&pause.key)
                .bind(pause.account_id)
                .bind(&pause.api)
                .bind(to_millis(pause.since))
                .bind(&pause.reason)
                .bind(to_millis(pause.next_probe_at))
                .bind(pause.insist)
                .execute(&mut tx)
                .await?;
            }
        }
        if !succeeded.is_empty() {
            // Read the orders back from the marketplace, to show them marked shipped:
            // one statement for the whole group.
            let mut sql = SqlBuilder::new(
                "INSERT INTO order_checks (account_id, order_id, due_at)
                 SELECT s.account_id, s.order_id, v.column2 FROM (",
            );
            sql.push_values(&succeeded, |mut b, (row_id, due)| {
                b.push_bind(*row_id).push_bind(*due);
            });
            sql.push(
                // `WHERE true` keeps SQLite from reading ON CONFLICT as a join clause.
                ") AS v JOIN shipments s ON s.id = v.column1 WHERE true
                 ON CONFLICT (account_id, order_id) DO UPDATE SET due_at = excluded.due_at, attempts = 0",
            );
            sql.build().execute(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(stale)
    }

    /// The APIs paused now.
    pub async fn api_pauses(&self) -> Result<Vec<ApiPause>, StoreError> {
        query(
            "SELECT key, account_id, api, since, reason, next_probe_at FROM api_pauses ORDER BY key",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(ApiPause {
                key: r.try_get("key")?,
                account_id: r.try_get("account_id")?,
                api: r.try_get("api")?,
                since: from_millis(r.try_get("since")?)?,
                reason: r.try_get("reason")?,
                next_probe_at: from_millis(r.try_get("next_probe_at")?)?,
                insist: false,
            })
        })
        .collect()
    }

    /// For each pause whose probe is due, lets one of its waiting shipments through
    /// (the longest waiting), and sets the next probe `every` later. How many probes.
    pub async fn start_probes(
        &self,
        now: DateTime<Utc>,
        every: std::time::Duration,
    ) -> Result<usize, StoreError> {
        let now_ms = to_millis(now);
        let next = now_ms + every.as_millis() as i64;
        let mut tx = self.write_tx().await?;
        // One worker probes a pause; the others pass it by.
        let due: Vec<String> = query_scalar(match self.dialect() {
            Dialect::Sqlite => "SELECT key FROM api_pauses WHERE next_probe_at <= $1",
            Dialect::Postgres => {
                "SELECT key FROM api_pauses WHERE next_probe_at <= $1 FOR UPDATE SKIP LOCKED"
            }
        })
        .bind(now_ms)
        .fetch_all(&mut tx)
        .await?;
        let mut probes = 0;
        for key in &due {
            probes += query(
                // The one probed longest ago (never first), so that one shipment the
                // marketplace keeps refusing cannot stand for its whole queue.
                "UPDATE shipments SET next_attempt_at = $1
                  WHERE id = (SELECT id FROM shipments WHERE waiting_on = $2
                               ORDER BY last_attempt_at, id LIMIT 1)",
            )
            .bind(now_ms)
            .bind(key)
            .execute(&mut tx)
            .await?
            .rows_affected() as usize;
            query("UPDATE api_pauses SET next_probe_at = $1 WHERE key = $2")
                .bind(next)
                .bind(key)
                .execute(&mut tx)
                .await?;
        }
        // A pause with nobody waiting any more has nothing left to probe.
        query(
            "DELETE FROM api_pauses
              WHERE NOT EXISTS (SELECT 1 FROM shipments s WHERE s.waiting_on = api_pauses.key)",
        )
        .execute(&mut tx)
        .await?;
        // A shipment left waiting on a pause that ended meanwhile (another worker's
        // probe got through between its claim and its wait) goes on.
        query(
            "UPDATE shipments SET waiting_on = NULL, last_error = NULL, next_attempt_at = $1
              WHERE waiting_on LIKE 'api:%'
                AND waiting_on NOT IN (SELECT key FROM api_pauses)",
        )
        .bind(now_ms)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(probes)
    }

    /// Gives back claims that were not attempted (the lease was too short to start the
    /// call safely), so that they are due again at once: `worker`'s lease, even if a
    /// correction has bumped the fence since.
    pub async fn release_claims(
        &self,
        worker: &str,
        claims: &[(i64, i64)],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for (row_id, _fence) in claims {
            release_lease(&mut tx, *row_id, worker).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The shipments due for an attempt at `now` (neither waiting nor leased), and
    /// since when the oldest of them is due: the metrics' queue.
    pub async fn due_queue(&self, now: i64) -> Result<DueQueue, StoreError> {
        let row = query(
            "SELECT COUNT(*) AS due, MIN(next_attempt_at) AS oldest FROM shipments
              WHERE next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(DueQueue {
            due: row.try_get::<i64, _>("due")?.max(0) as u64,
            oldest_due_at: row.try_get("oldest")?,
        })
    }

    /// How many shipments are in each status (for the demo and tests).
    pub async fn status_counts(&self) -> Result<Vec<(WritebackStatus, u64)>, StoreError> {
        let rows =
            query("SELECT status, COUNT(*) AS n FROM shipments GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                let n: i64 = r.try_get("n")?;
                Ok((
                    WritebackStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown status '{status}'")))?,
                    n as u64,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(row_id: i64) -> AttemptRecord {
        AttemptRecord {
            row_id,
            fence: 1,
            revision: 1,
            number: 1,
            started_at: 0,
            duration_ms: 1,
            outcome: AttemptOutcome::Success,
            http_status: Some(204),
            error_code: None,
            error_message: None,
            new_status: WritebackStatus::Success,
            error_count: 0,
            next_attempt_at: None,
            last_error: None,
            outcome_unknown: false,
            waiting_on: None,
            pause: None,
            resumes: None,
        }
    }

    fn ids(runs: Vec<&[AttemptRecord]>) -> Vec<Vec<i64>> {
        runs.iter()
            .map(|run| run.iter().map(|r| r.row_id).collect())
            .collect()
    }

    #[test]
    fn results_are_written_in_runs_that_keep_their_order() {
        let plain: Vec<_> = (1..=4).map(result).collect();
        assert_eq!(ids(attempt_runs(&plain)), [vec![1, 2, 3, 4]]);

        let mut resuming = result(2);
        resuming.resumes = Some("api:1:writeback".into());
        let with_pause = [result(1), resuming, result(3)];
        assert_eq!(ids(attempt_runs(&with_pause)), [vec![1, 2], vec![3]]);

        let twice = [result(1), result(2), result(1), result(3)];
        assert_eq!(ids(attempt_runs(&twice)), [vec![1, 2], vec![1, 3]]);

        assert!(attempt_runs(&[]).is_empty());
    }
}
