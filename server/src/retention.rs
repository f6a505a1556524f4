//! Retention: what Shipback deletes, when, and how gently (docs/operations.md#retention).
//!
//! Finished shipments older than `keep_shipments` (400 days by default, so that a
//! year-over-year question can still be answered) go with their attempts; the audit
//! log is kept unless an admin sets `keep_audit`. What else grows is bounded where it
//! is written: the connection status keeps a window of calls and 24 hours of history,
//! expired sessions are swept every hour.
//!
//! Deletion runs in batches sized to take about [`BATCH_TARGET`] each, with a pause
//! between them, so that a worker's claim or result waits at most one short batch.

use crate::shutdown::Shutdown;
use crate::store::{now_millis, Prunable, Store, StoreError};
use std::time::{Duration, Instant};

/// About how long one batch may hold the write lock.
pub const BATCH_TARGET: Duration = Duration::from_millis(5);
/// The rest between two batches, in which everyone else writes.
const PAUSE: Duration = Duration::from_millis(20);
const FIRST_BATCH: u32 = 100;
const MAX_BATCH: u32 = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub keep_shipments: Duration,
    /// `None`: the audit log is kept for good.
    pub keep_audit: Option<Duration>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            keep_shipments: Duration::from_secs(400 * 86_400),
            keep_audit: None,
        }
    }
}

/// What one pass deleted, and how long its batches held the database.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PruneReport {
    pub shipments: u64,
    pub audit_entries: u64,
    /// Each batch's time, in the order they ran.
    pub batches: Vec<Duration>,
}

impl PruneReport {
    pub fn longest_batch(&self) -> Duration {
        self.batches.iter().copied().max().unwrap_or_default()
    }

    /// The batch time that `share` (0 to 1) of the batches stayed within.
    pub fn batch_percentile(&self, share: f64) -> Duration {
        let mut sorted = self.batches.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((sorted.len() as f64 * share).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }
}

/// Deletes everything `policy` no longer keeps, as of `now_ms`, batch by batch.
pub async fn prune(
    store: &Store,
    policy: RetentionPolicy,
    now_ms: i64,
) -> Result<PruneReport, StoreError> {
    let mut report = PruneReport::default();
    let shipments_cutoff = now_ms - policy.keep_shipments.as_millis() as i64;
    report.shipments = prune_all(
        store,
        Prunable::FinishedShipments,
        shipments_cutoff,
        &mut report.batches,
    )
    .await?;
    if let Some(keep) = policy.keep_audit {
        let cutoff = now_ms - keep.as_millis() as i64;
        report.audit_entries =
            prune_all(store, Prunable::AuditEntries, cutoff, &mut report.batches).await?;
    }
    Ok(report)
}

/// Batches until one comes back short, each sized from the last one's time: doubled
/// while well under the target, halved when over it.
async fn prune_all(
    store: &Store,
    what: Prunable,
    cutoff: i64,
    times: &mut Vec<Duration>,
) -> Result<u64, StoreError> {
    let mut size = FIRST_BATCH;
    let mut deleted = 0;
    loop {
        let started = Instant::now();
        let gone = store.prune_batch(what, cutoff, size).await?;
        let took = started.elapsed();
        times.push(took);
        deleted += gone;
        if gone < u64::from(size) {
            return Ok(deleted);
        }
        size = if took > BATCH_TARGET {
            (size / 2).max(1)
        } else if took < BATCH_TARGET / 2 {
            (size * 2).min(MAX_BATCH)
        } else {
            size
        };
        tokio::time::sleep(PAUSE).await;
    }
}

/// Prunes every `every` until the shutdown (beside a worker). A pass that fails is
/// logged and tried again at the next one.
pub async fn run(store: Store, policy: RetentionPolicy, every: Duration, shutdown: Shutdown) {
    let passes = async {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match prune(&store, policy, now_millis()).await {
                Ok(report) if report.shipments + report.audit_entries > 0 => {
                    tracing::info!(
                        shipments = report.shipments,
                        audit_entries = report.audit_entries,
                        batches = report.batches.len(),
                        longest_batch_ms = report.longest_batch().as_secs_f64() * 1000.0,
                        "retention: deleted what is no longer kept"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention pass failed; trying again later"),
            }
        }
    };
    tokio::select! {
        _ = passes => {}
        _ = shutdown.wait() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_batch_times() {
        let report = PruneReport {
            batches: (1..=100).map(Duration::from_millis).collect(),
            ..PruneReport::default()
        };
        assert_eq!(report.longest_batch(), Duration::from_millis(100));
        assert_eq!(report.batch_percentile(0.99), Duration::from_millis(99));
        assert_eq!(report.batch_percentile(0.5), Duration::from_millis(50));
        assert_eq!(
            PruneReport::default().batch_percentile(0.99),
            Duration::ZERO
        );
    }
}
