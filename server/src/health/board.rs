//! The status board: every enabled account with each of its APIs, as kept by the
//! monitor, with None for APIs that have been idle too long, and their last 24 hours.

use super::{HISTORY_BUCKET, HISTORY_SPAN};
use crate::store;
use crate::store::{HistoryRow, Store, StoreError};
use app::health::{
    idle_sentence, AccountStatus, ApiStatus, Health, HealthFigures, HistoryBucket, StatusBoard,
};
use app::marketplace::ApiKind;
use chrono::{DateTime, DurationRound, Utc};
use std::collections::HashMap;
use std::time::Duration;

pub async fn status_board(
    store: &Store,
    idle_after: Duration,
    now: DateTime<Utc>,
) -> Result<StatusBoard, StoreError> {
    status_board_of(store, idle_after, now, None).await
}

/// The board with only the accounts named in `only` (all with `None`), and the board's
/// own figures: what an open page reads when the status feed names what changed.
pub async fn status_board_of(
    store: &Store,
    idle_after: Duration,
    now: DateTime<Utc>,
    only: Option<&[String]>,
) -> Result<StatusBoard, StoreError> {
    let bucket = chrono::Duration::from_std(HISTORY_BUCKET).expect("a short duration");
    let span = chrono::Duration::from_std(HISTORY_SPAN).expect("a day");
    let current = now.duration_trunc(bucket).unwrap_or(now);
    let first = current - span + bucket;
    let accounts = store.accounts().await?;
    let kept: HashMap<(i64, ApiKind), _> = store
        .api_health(false)
        .await?
        .into_iter()
        .map(|k| ((k.account_id, k.api), k))
        .collect();
    let mut history: HashMap<(i64, ApiKind), Vec<HistoryRow>> = HashMap::new();
    for row in store.api_health_history(first).await? {
        history
            .entry((row.account_id, row.api))
            .or_default()
            .push(row);
    }
    // Shipments waiting, by what they wait on (see `crate::worker::triage`).
    let waiting_on: HashMap<String, u64> = store.waiting_counts().await?.into_iter().collect();
    let waiting_total = waiting_on.values().sum();
    let mut at_risk = store.deadline_counts().await?;
    let idle_secs = idle_after.as_secs();
    let accounts = accounts
        .into_iter()
        .filter(|a| a.enabled && only.is_none_or(|keys| keys.contains(&a.key)))
        .map(|account| {
            let apis = account
                .marketplace
                .apis()
                .iter()
                .map(|&api| {
                    let slices = history.remove(&(account.id, api)).unwrap_or_default();
                    let history = fill_history(&slices, first, bucket);
                    let mut status = match kept.get(&(account.id, api)) {
                        Some(k) => ApiStatus {
                            api,
                            health: k.health,
                            sentence: k.sentence.clone(),
                            figures: k.figures.clone(),
                            since: Some(k.since),
                            last_call_at: k.last_call_at,
                            history,
                            waiting: 0,
                            held: false,
                        },
                        None => ApiStatus {
                            api,
                            health: Health::None,
                            sentence: idle_sentence(None, idle_secs),
                            figures: HealthFigures::default(),
                            since: None,
                            last_call_at: None,
                            history,
                            waiting: 0,
                            held: false,
                        },
                    };
                    if api == ApiKind::Writeback {
                        let [_, unusable] = store::account_keys(account.id);
                        status.waiting = [store::writeback_key(account.id), unusable]
                            .iter()
                            .filter_map(|key| waiting_on.get(key))
                            .sum();
                    }
                    if let Some(problem) = &account.unusable {
                        status.health = Health::Red;
                        status.sentence = problem.to_string();
                        status.held = true;
                    }
                    status.as_of(now, idle_secs)
                })
                .collect();
            AccountStatus {
                account: account.key,
                name: account.display_name,
                company: account.company,
                marketplace: account.marketplace.as_str().to_string(),
                apis,
                problem: account.unusable.map(|problem| problem.to_string()),
                deadlines: at_risk.remove(&account.id).unwrap_or_default(),
            }
        })
        .collect();
    Ok(StatusBoard {
        generated_at: now,
        idle_after_secs: idle_secs,
        bucket_minutes: (HISTORY_BUCKET.as_secs() / 60) as u32,
        accounts,
        waiting: waiting_total,
        deadline_warning_minutes: store.deadline_warning_minutes(),
    })
}

/// Every slice from `first` to now, with the empty ones filled in.
fn fill_history(
    slices: &[HistoryRow],
    first: DateTime<Utc>,
    bucket: chrono::Duration,
) -> Vec<HistoryBucket> {
    let count = (HISTORY_SPAN.as_secs() / HISTORY_BUCKET.as_secs()) as i32;
    let by_start: HashMap<DateTime<Utc>, &HistoryRow> =
        slices.iter().map(|s| (s.bucket_start, s)).collect();
    (0..count)
        .map(|i| {
            let start = first + bucket * i;
            match by_start.get(&start) {
                Some(s) => HistoryBucket {
                    start,
                    calls: s.calls,
                    failed: s.failed,
                    worst: s.worst,
                },
                None => HistoryBucket {
                    start,
                    calls: 0,
                    failed: 0,
                    worst: Health::None,
                },
            }
        })
        .collect()
}
