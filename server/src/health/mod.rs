//! Connection status: the outcome of every marketplace call, judged per account and per
//! API into Green, Yellow, Red or None.
//!
//! - [`monitored`]: wraps each marketplace adapter, so that every call is seen;
//! - [`rules`]: the health rules and their named thresholds;
//! - this module: [`HealthMonitor`], which keeps each API's recent calls, judges them,
//!   keeps the judgement in the store and calls the webhook when an API turns Red or
//!   recovers;
//! - [`board`]: the status board as the panel and `GET /api/v1/status` show it;
//! - [`feed`]: tells open pages when the board changed (server-sent events);
//! - [`webhook`]: delivers Red and recovery messages, with retries.
//!
//! The monitor runs where the calls are made (beside the worker); the board is read from
//! the store, so that a dashboard without a worker of its own shows the same status.

pub mod board;
pub mod feed;
pub mod monitored;
pub mod rules;
pub mod webhook;

pub use rules::{assess, ApiCall, Assessment, CallOutcome, HealthThresholds};

use crate::store::{HistoryIncrement, Store, StoredApiHealth};
use app::health::Health;
use app::marketplace::ApiKind;
use chrono::{DateTime, DurationRound, Utc};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use webhook::{StatusChange, WebhookConfig};

/// The length of one slice of an API's 24-hour history.
pub const HISTORY_BUCKET: Duration = Duration::from_secs(15 * 60);
/// How far back the history goes.
pub const HISTORY_SPAN: Duration = Duration::from_secs(24 * 3600);

#[derive(Clone, Debug)]
pub struct HealthConfig {
    pub thresholds: HealthThresholds,
    /// How often calls are judged and the judgements kept.
    pub judge_every: Duration,
    pub webhook: Option<WebhookConfig>,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            thresholds: HealthThresholds::default(),
            judge_every: Duration::from_millis(250),
            webhook: None,
        }
    }
}

/// Records calls and judges them; cheap to clone, shared by every adapter.
#[derive(Clone)]
pub struct HealthMonitor {
    inner: Arc<Inner>,
}

struct Inner {
    config: HealthConfig,
    apis: Mutex<HashMap<(i64, ApiKind), ApiCalls>>,
}

/// One API's calls, and what was last kept of them.
struct ApiCalls {
    calls: VecDeque<ApiCall>,
    kept: Option<(Health, String)>,
    since: DateTime<Utc>,
    /// Calls recorded since the judgement was last kept.
    fresh: bool,
    /// Calls of this process not yet added to the calls every worker keeps.
    unsaved: Vec<ApiCall>,
    /// History not yet kept: (calls, failed) by slice.
    history: BTreeMap<DateTime<Utc>, (u32, u32)>,
}

impl ApiCalls {
    fn new() -> ApiCalls {
        ApiCalls {
            calls: VecDeque::new(),
            kept: None,
            since: Utc::now(),
            fresh: false,
            unsaved: Vec::new(),
            history: BTreeMap::new(),
        }
    }
}

fn bucket_of(at: DateTime<Utc>) -> DateTime<Utc> {
    let bucket = chrono::Duration::from_std(HISTORY_BUCKET).expect("a short duration");
    at.duration_trunc(bucket).unwrap_or(at)
}

impl HealthMonitor {
    /// A monitor that goes on from the judgements and calls kept in `store`.
    pub async fn load(
        store: &Store,
        config: HealthConfig,
    ) -> Result<HealthMonitor, crate::store::StoreError> {
        let mut apis = HashMap::new();
        for kept in store.api_health(true).await? {
            apis.insert(
                (kept.account_id, kept.api),
                ApiCalls {
                    calls: kept.recent_calls.into(),
                    kept: Some((kept.health, kept.sentence)),
                    since: kept.since,
                    fresh: false,
                    unsaved: Vec::new(),
                    history: BTreeMap::new(),
                },
            );
        }
        Ok(HealthMonitor {
            inner: Arc::new(Inner {
                config,
                apis: Mutex::new(apis),
            }),
        })
    }

    pub fn thresholds(&self) -> &HealthThresholds {
        &self.inner.config.thresholds
    }

    /// Notes one call's outcome.
    pub fn record(&self, account_id: i64, api: ApiKind, call: ApiCall) {
        let t = &self.inner.config.thresholds;
        // Enough calls for the window and for an outage's run, whichever is longer.
        let keep = t.window_calls.max(t.red_consecutive_failures as usize) * 2;
        let oldest =
            call.at - chrono::Duration::from_std(t.window).unwrap_or(chrono::Duration::MAX);
        let mut apis = self.inner.apis.lock().unwrap_or_else(|p| p.into_inner());
        let calls = apis.entry((account_id, api)).or_insert_with(ApiCalls::new);
        let slice = calls.history.entry(bucket_of(call.at)).or_default();
        slice.0 += 1;
        slice.1 += u32::from(call.outcome.is_failure());
        calls.unsaved.push(call.clone());
        calls.calls.push_back(call);
        while calls.calls.len() > keep
            || (calls.calls.len() > 1 && calls.calls.front().is_some_and(|c| c.at < oldest))
        {
            calls.calls.pop_front();
        }
        calls.fresh = true;
    }

    /// Judges every API, keeps what changed and calls the webhook for each API that
    /// turned Red or recovered, every [`HealthConfig::judge_every`] until `shutdown`.
    pub async fn run(self, store: Store, shutdown: impl std::future::Future<Output = ()>) {
        let webhook = self
            .inner
            .config
            .webhook
            .clone()
            .map(|config| webhook::spawn(config, store.clone()));
        let mut tick = tokio::time::interval(self.inner.config.judge_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            let stopping = tokio::select! {
                _ = &mut shutdown => true,
                _ = tick.tick() => false,
            };
            let changes = self.judge_and_keep(&store, Utc::now()).await;
            if let Some(webhook) = &webhook {
                for change in changes {
                    let _ = webhook.send(change);
                }
            }
            if stopping {
                break;
            }
        }
    }

    /// Adds this process's new calls to the calls every worker keeps in the database,
    /// and takes theirs in: each API is judged on the calls of all workers, not of the
    /// one that judged last. Calls that could not be added are tried again next round.
    async fn share_calls(&self, store: &Store, now: DateTime<Utc>) {
        let t = &self.inner.config.thresholds;
        let keep = t.window_calls.max(t.red_consecutive_failures as usize) * 2;
        let oldest = now - chrono::Duration::from_std(t.window).unwrap_or(chrono::Duration::MAX);
        let unsaved: Vec<((i64, ApiKind), Vec<ApiCall>)> = {
            let mut apis = self.inner.apis.lock().unwrap_or_else(|p| p.into_inner());
            apis.iter_mut()
                .filter(|(_, calls)| !calls.unsaved.is_empty())
                .map(|(&key, calls)| (key, std::mem::take(&mut calls.unsaved)))
                .collect()
        };
        let mut merged = HashMap::new();
        for ((account_id, api), fresh) in unsaved {
            match store
                .add_api_calls(account_id, api, &fresh, keep, oldest)
                .await
            {
                Ok(all) => {
                    merged.insert((account_id, api), all);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not share the calls judged");
                    let mut apis = self.inner.apis.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(calls) = apis.get_mut(&(account_id, api)) {
                        let mut back = fresh;
                        back.append(&mut calls.unsaved);
                        calls.unsaved = back;
                    }
                }
            }
        }
        // The other workers' calls of the APIs this one did not call this round, and
        // their judgements of APIs this one has not judged yet (so that an API another
        // worker reported Red is not reported again).
        let kept = match store.api_health(true).await {
            Ok(kept) => kept,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the calls other workers made");
                Vec::new()
            }
        };
        let mut apis = self.inner.apis.lock().unwrap_or_else(|p| p.into_inner());
        for row in kept {
            let key = (row.account_id, row.api);
            apis.entry(key).or_insert_with(|| ApiCalls {
                kept: Some((row.health, row.sentence.clone())),
                since: row.since,
                ..ApiCalls::new()
            });
            merged.entry(key).or_insert(row.recent_calls);
        }
        for (key, all) in merged {
            let calls = apis.entry(key).or_insert_with(ApiCalls::new);
            let mut all: VecDeque<ApiCall> = all.into();
            // Calls recorded meanwhile are not in the database yet.
            all.extend(calls.unsaved.iter().cloned());
            if all != calls.calls {
                calls.fresh = true;
                calls.calls = all;
            }
        }
    }

    /// One round of [`HealthMonitor::run`]: returns the APIs that turned Red or
    /// recovered from Red.
    pub async fn judge_and_keep(&self, store: &Store, now: DateTime<Utc>) -> Vec<StatusChange> {
        let t = &self.inner.config.thresholds;
        self.share_calls(store, now).await;
        let mut judged = Vec::new();
        let mut history = Vec::new();
        let mut changes = Vec::new();
        {
            let mut apis = self.inner.apis.lock().unwrap_or_else(|p| p.into_inner());
            for (&(account_id, api), calls) in apis.iter_mut() {
                let verdict = assess(calls.calls.make_contiguous(), now, t);
                let previous = calls.kept.as_ref().map(|(h, _)| *h);
                let same = calls
                    .kept
                    .as_ref()
                    .is_some_and(|(h, s)| *h == verdict.health && *s == verdict.sentence);
                if same && !calls.fresh && calls.history.is_empty() {
                    continue;
                }
                if previous != Some(verdict.health) {
                    calls.since = now;
                    changes.extend(StatusChange::detect(
                        previous, &verdict, account_id, api, now,
                    ));
                }
                for (&bucket_start, &(n, failed)) in &calls.history {
                    history.push(HistoryIncrement {
                        account_id,
                        api,
                        bucket_start,
                        calls: n,
                        failed,
                        worst: verdict.health,
                    });
                }
                if calls.history.is_empty() {
                    // A change without calls (an API gone idle) still marks its slice.
                    history.push(HistoryIncrement {
                        account_id,
                        api,
                        bucket_start: bucket_of(now),
                        calls: 0,
                        failed: 0,
                        worst: verdict.health,
                    });
                }
                calls.history.clear();
                calls.fresh = false;
                calls.kept = Some((verdict.health, verdict.sentence.clone()));
                judged.push(StoredApiHealth {
                    account_id,
                    api,
                    health: verdict.health,
                    sentence: verdict.sentence,
                    figures: verdict.figures,
                    since: calls.since,
                    last_call_at: calls.calls.back().map(|c| c.at),
                    recent_calls: calls.calls.iter().cloned().collect(),
                });
            }
        }
        let keep_since = now - chrono::Duration::from_std(HISTORY_SPAN).expect("a day");
        match store.save_api_health(&judged, &history, keep_since).await {
            // Another worker judging the same calls may have kept the change first: it
            // announced it, and the webhook hears it once.
            Ok(kept) => changes.retain(|c| kept.contains(&(c.account_id, c.api))),
            Err(e) => {
                // The next round judges again from the calls in memory; only this
                // round's history slices are lost.
                tracing::warn!(error = %e, "could not keep the connection status");
                let mut apis = self.inner.apis.lock().unwrap_or_else(|p| p.into_inner());
                for row in &judged {
                    if let Some(calls) = apis.get_mut(&(row.account_id, row.api)) {
                        calls.fresh = true;
                    }
                }
            }
        }
        changes
    }
}
