//! The durable write-back worker.
//!
//! It claims due shipments in batches under a lease, writes each back through its
//! marketplace's adapter, records the attempt and moves the shipment's status. Several
//! workers (threads or processes) can run against one database: claims never overlap,
//! and a worker only starts a call while its lease has room for the whole call, so two
//! workers never confirm the same shipment at the same time.

pub mod heartbeat;
pub mod policy;
pub mod triage;

use crate::accounts::Account;
use crate::health::rules::CallOutcome;
use crate::marketplaces::{MarketplaceAdapter, Marketplaces, WritebackResult};
use crate::records::shipments::ClaimedShipment;
use crate::shutdown::Shutdown;
use crate::store::{now_millis, ApiPause, AttemptRecord, ImportedOrder, Store, StoreError};
use app::shipments::{AttemptOutcome, WritebackStatus};
use futures::StreamExt;
pub use heartbeat::Heartbeat;
pub use policy::RetryPolicy;
use policy::Trouble;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Names this worker in claims and in the attempt history.
    pub name: String,
    /// Shipments claimed at once.
    pub batch_size: u32,
    /// At most this many of one account in a batch, so that one account's backlog,
    /// paced by its rate limit, does not hold up the others.
    pub per_account: u32,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// How long a claim is held; a crashed worker's claims are taken over after it.
    pub lease: Duration,
    /// Upper bound of one attempt (token exchange, call and one token retry together).
    pub attempt_timeout: Duration,
    /// How long to wait when nothing is due (a new shipment wakes the worker sooner).
    pub idle_poll: Duration,
    pub retry: RetryPolicy,
    /// How often a paused API is probed with one of its waiting shipments.
    pub probe_every: Duration,
    /// At shutdown, how long calls already on the wire may take to end and be recorded.
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            name: default_worker_name(),
            batch_size: 200,
            per_account: 50,
            concurrency: 64,
            lease: Duration::from_secs(120),
            attempt_timeout: Duration::from_secs(45),
            idle_poll: Duration::from_millis(500),
            retry: RetryPolicy::default(),
            probe_every: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

impl WorkerConfig {
    /// Why these settings cannot work: an attempt must end well within its claim, or
    /// another worker could take the shipment over while the call is on the wire.
    pub fn check(&self) -> Result<(), String> {
        if self.attempt_timeout + Duration::from_secs(1) >= self.lease {
            return Err(format!(
                "the lease ({:?}) must be longer than the attempt timeout ({:?}) plus a second",
                self.lease, self.attempt_timeout
            ));
        }
        Ok(())
    }
}

pub fn default_worker_name() -> String {
    format!(
        "worker-{}-{:04x}",
        std::process::id(),
        rand::random::<u16>()
    )
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("worker storage error: {0}")]
    Store(#[from] StoreError),
}

/// What one pass over a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub attempted: usize,
    /// Claims given back because the lease had too little time left to start a call.
    pub released: usize,
    /// Results not applied because a newer claim or a correction superseded them.
    pub stale: usize,
    /// Shipments left waiting without a call (a disabled account, unreadable
    /// credentials, a paused API, a carrier nobody mapped yet).
    pub waiting: usize,
    /// Attempts whose marketplace trouble paused (or kept paused) their API.
    pub paused: usize,
    /// Lost answers found applied on read-back: confirmed without a second send.
    pub read_back: usize,
}

/// Whether a batch's results reach the database now: while they do not, its calls
/// wait (see `run_batch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Recording {
    GoesThrough,
    Stalled,
}

/// What a group of calls left to write down: their results, and the claims never
/// started (given back).
struct Finished {
    records: Vec<AttemptRecord>,
    released: Vec<(i64, i64)>,
}

pub struct Worker {
    store: Store,
    marketplaces: Marketplaces,
    config: WorkerConfig,
    wake: Arc<Notify>,
    /// When paused APIs were last probed and mended accounts' shipments sent on.
    last_housekeeping: std::sync::Mutex<Option<Instant>>,
    heartbeat: Heartbeat,
    /// Once it fires, no call starts: claims not yet started are given back.
    stop: Option<Shutdown>,
}

impl Worker {
    pub fn new(
        store: Store,
        marketplaces: Marketplaces,
        config: WorkerConfig,
        wake: Arc<Notify>,
    ) -> Worker {
        Worker {
            store,
            marketplaces,
            heartbeat: Heartbeat::new(config.lease + config.idle_poll + Duration::from_secs(10)),
            config,
            wake,
            last_housekeeping: std::sync::Mutex::new(None),
            stop: None,
        }
    }

    /// What its readiness probe reads.
    pub fn heartbeat(&self) -> Heartbeat {
        self.heartbeat.clone()
    }

    /// Works until `shutdown` fires. Storage errors are logged and retried: a busy or
    /// briefly unavailable database must not stop write-backs for good.
    ///
    /// At shutdown no new call starts; the claims of shipments not yet sent are given
    /// back at once (another worker takes them without waiting for the lease), and the
    /// calls on the wire have `shutdown_grace` to end and be recorded. A call still
    /// running after that is dropped unrecorded: its claim lapses with the lease and
    /// the next attempt reads the order back before sending again.
    pub async fn run(mut self, shutdown: Shutdown) {
        self.stop = Some(shutdown.clone());
        tracing::info!(worker = %self.config.name, "write-back worker started");
        let grace_over = async {
            shutdown.clone().wait().await;
            tokio::time::sleep(self.config.shutdown_grace).await;
        };
        tokio::pin!(grace_over);
        while !shutdown.fired() {
            let batch = tokio::select! {
                batch = self.run_batch() => batch,
                _ = &mut grace_over => {
                    tracing::warn!(
                        worker = %self.config.name,
                        grace = ?self.config.shutdown_grace,
                        "calls still on the wire at the end of the shutdown grace are left to the lease"
                    );
                    break;
                }
            };
            let idle = match batch {
                Ok(report) => report.claimed == 0,
                Err(e) => {
                    tracing::error!(error = %e, "write-back batch failed; retrying shortly");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = shutdown.clone().wait() => break,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(self.config.idle_poll) => {}
                }
            }
        }
        tracing::info!(worker = %self.config.name, "write-back worker stopped");
    }

    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(Shutdown::fired)
    }

    /// Resolves when the shutdown fires; never for a worker driven batch by batch.
    async fn stopped(&self) {
        match &self.stop {
            Some(stop) => stop.clone().wait().await,
            None => std::future::pending().await,
        }
    }

    /// Lets each paused API's probe through when its interval is up, and sends on the
    /// shipments of accounts that were mended elsewhere (enabled again, credentials
    /// readable again). At most every `probe_every` (and at least every 5 s).
    async fn housekeeping(&self) -> Result<(), WorkerError> {
        let every = self.config.probe_every.min(Duration::from_secs(5));
        {
            let mut last = self
                .last_housekeeping
                .lock()
                .expect("the housekeeping clock is never poisoned");
            if last.is_some_and(|at| at.elapsed() < every) {
                return Ok(());
            }
            *last = Some(Instant::now());
        }
        let probes = self
            .store
            .start_probes(chrono::Utc::now(), self.config.probe_every)
            .await?;
        if probes > 0 {
            tracing::info!(probes, "probing paused APIs");
        }
        let mended: Vec<String> = self
            .store
            .accounts()
            .await?
            .iter()
            .flat_map(|a| {
                let [disabled, unusable] = crate::store::account_keys(a.id);
                let mut keys = Vec::new();
                if a.enabled {
                    keys.push(disabled);
                }
                if a.unusable.is_none() {
                    keys.push(unusable);
                }
                keys
            })
            .collect();
        let resumed = self.store.resume_waiting_on(&mended).await?;
        if resumed > 0 {
            tracing::info!(resumed, "shipments of mended accounts sent on");
        }
        Ok(())
    }

    /// Claims one batch of due shipments and writes each back.
    pub async fn run_batch(&self) -> Result<BatchReport, WorkerError> {
        self.housekeeping().await?;
        let claimed_at = Instant::now();
        let now = now_millis();
        let lease_until = now + self.config.lease.as_millis() as i64;
        let claims = self
            .store
            .claim_due(
                &self.config.name,
                now,
                lease_until,
                self.config.batch_size,
                self.config.per_account,
            )
            .await?;
        self.heartbeat.beat();
        let mut report = BatchReport {
            claimed: claims.len(),
            ..BatchReport::default()
        };
        if claims.is_empty() {
            return Ok(report);
        }
        let accounts: HashMap<i64, Account> = self
            .store
            .accounts()
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        // What waits instead of a call: a disabled account, unreadable credentials, a
        // paused API (but its probe), a carrier nobody mapped. No attempt is spent.
        let mappings = self.store.carrier_mappings().await?;
        let pauses: HashMap<String, ApiPause> = self
            .store
            .api_pauses()
            .await?
            .into_iter()
            .map(|p| (p.key.clone(), p))
            .collect();
        let mut ready = Vec::with_capacity(claims.len());
        let mut waits = Vec::new();
        for mut claim in claims {
            let Some(account) = accounts.get(&claim.account_id) else {
                ready.push(claim);
                continue;
            };
            match triage::triage(&claim, account, &pauses, &mappings) {
                Err(wait) => waits.push((claim.row_id, claim.fence, wait.key, wait.reason)),
                Ok(carrier) => {
                    claim.marketplace_carrier = Some(carrier);
                    ready.push(claim);
                }
            }
        }
        if !waits.is_empty() {
            report.waiting += self.store.wait_many(&self.config.name, &waits).await?;
        }
        let claims = ready;
        // What the imported orders tell against each shipment, read in one go: the
        // attempts below run beside the batch's result writes, and a read each would
        // queue for the pool behind them.
        let wanted: Vec<(i64, String)> = claims
            .iter()
            .map(|c| (c.account_id, c.order_id.clone()))
            .collect();
        let orders = self.store.imported_orders(&wanted).await?;
        let orders = &orders;
        let pauses = &pauses;
        // No call may still be running when the lease runs out: past that point another
        // worker may take the shipment over.
        let last_safe_start = claimed_at
            + self
                .config
                .lease
                .saturating_sub(self.config.attempt_timeout + Duration::from_secs(1));

        let recorder_state = watch::Sender::new(Recording::GoesThrough);
        let recorder_state = &recorder_state;
        let mut results = futures::stream::iter(claims)
            .map(|claim| {
                let target = self.target(accounts.get(&claim.account_id));
                async move {
                    let turn = match &target {
                        Ok((account, api)) => {
                            let queued = Instant::now();
                            let turn = tokio::select! {
                                turn = api.writeback_ready(account, last_safe_start) => turn,
                                _ = self.stopped() => false,
                            };
                            crate::telemetry::rate_limit_wait(
                                account.marketplace.label(),
                                &account.key,
                                queued.elapsed(),
                            );
                            turn
                        }
                        Err(_) => true,
                    };
                    // No call starts while results cannot be recorded: its own might
                    // not be either before its lease runs out.
                    let mut recording = recorder_state.subscribe();
                    tokio::select! {
                        _ = recording.wait_for(|state| *state == Recording::GoesThrough) => {}
                        _ = self.stopped() => {}
                    }
                    if !turn || self.stopping() || Instant::now() > last_safe_start {
                        return Err((claim.row_id, claim.fence));
                    }
                    let order = orders.get(&(claim.account_id, claim.order_id.clone()));
                    Ok(self.attempt(target, claim, order, pauses).await)
                }
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .ready_chunks(256);

        // Results are recorded while the next calls go on: a write that waits for the
        // database (another worker's write, a busy disk) no longer holds up the calls,
        // and what arrived meanwhile is recorded together with the next write, in fewer
        // transactions when the database is slow.
        let (to_recorder, mut from_calls) = tokio::sync::mpsc::unbounded_channel::<Finished>();
        let calls = async {
            while let Some(chunk) = results.next().await {
                let mut records = Vec::with_capacity(chunk.len());
                let mut released = Vec::new();
                for result in chunk {
                    match result {
                        Ok((record, read_back)) => {
                            report.paused += usize::from(record.pause.is_some());
                            report.read_back += usize::from(read_back);
                            records.push(record);
                        }
                        Err(claim) => released.push(claim),
                    }
                }
                // The recorder reads until every sender is gone.
                let _ = to_recorder.send(Finished { records, released });
            }
            drop(to_recorder);
        };
        let recording = async {
            let mut written = BatchReport::default();
            while let Some(first) = from_calls.recv().await {
                let Finished {
                    mut records,
                    mut released,
                } = first;
                while let Ok(more) = from_calls.try_recv() {
                    records.extend(more.records);
                    released.extend(more.released);
                }
                if !records.is_empty() {
                    written.attempted += records.len();
                    written.stale += self.record(&records, recorder_state).await;
                }
                if !released.is_empty() {
                    written.released += released.len();
                    self.release(&released, recorder_state).await;
                }
                self.heartbeat.beat();
            }
            written
        };
        let ((), written) = tokio::join!(calls, recording);
        report.attempted += written.attempted;
        report.released += written.released;
        report.stale += written.stale;
        if report.stale > 0 {
            tracing::warn!(
                stale = report.stale,
                "results superseded by a newer claim or correction"
            );
        }
        Ok(report)
    }

    /// Records results whose calls went out, whatever it takes: a database that does
    /// not answer (busy past its timeout, restarting) is asked again until it does. A
    /// batch is never dropped, so nothing is sent twice for want of its record.
    /// `state` tells the batch's calls meanwhile whether records go through.
    async fn record(&self, records: &[AttemptRecord], state: &watch::Sender<Recording>) -> usize {
        let mut wait = Duration::from_millis(100);
        loop {
            match self.store.record_attempts(&self.config.name, records).await {
                Ok(stale) => {
                    state.send_replace(Recording::GoesThrough);
                    return stale;
                }
                Err(e) => {
                    state.send_replace(Recording::Stalled);
                    tracing::error!(error = %e, results = records.len(), "cannot record results yet; they are kept and recorded when the database answers");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Gives claims back, whatever it takes (as [`Worker::record`]).
    async fn release(&self, claims: &[(i64, i64)], state: &watch::Sender<Recording>) {
        let mut wait = Duration::from_millis(100);
        while let Err(e) = self.store.release_claims(&self.config.name, claims).await {
            state.send_replace(Recording::Stalled);
            tracing::error!(error = %e, "cannot give claims back yet; trying again");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
        state.send_replace(Recording::GoesThrough);
    }

    /// The account and its marketplace's write-back API, or why there is none.
    fn target<'a>(
        &'a self,
        account: Option<&'a Account>,
    ) -> Result<(&'a Account, &'a Arc<dyn MarketplaceAdapter>), WritebackResult> {
        let Some(account) = account else {
            return Err(WritebackResult::Permanent {
                http_status: None,
                code: "UnknownAccount".into(),
                message: "the shipment's account no longer exists".into(),
            });
        };
        match self.marketplaces.adapter(account.marketplace) {
            Some(api) => Ok((account, api)),
            None => Err(WritebackResult::Permanent {
                http_status: None,
                code: "UnsupportedMarketplace".into(),
                message: format!("no write-back client for {}", account.marketplace.label()),
            }),
        }
    }

    /// The order item ids of lines the station sent by SKU only: from the imported
    /// order, else asked of the marketplace (and kept).
    async fn resolve_items<'c>(
        &self,
        account: &Account,
        api: &dyn MarketplaceAdapter,
        claim: &'c ClaimedShipment,
    ) -> Result<Cow<'c, ClaimedShipment>, WritebackResult> {
        if claim.items.iter().all(|i| !i.order_item_id.is_empty()) {
            return Ok(Cow::Borrowed(claim));
        }
        let storage = |e: StoreError| WritebackResult::Retryable {
            http_status: None,
            code: policy::STORAGE_ERROR.into(),
            message: e.to_string(),
            retry_after: None,
        };
        let unresolved = |known: &HashMap<String, String>| {
            claim.items.iter().any(|i| {
                i.order_item_id.is_empty() && i.sku.as_ref().is_none_or(|s| !known.contains_key(s))
            })
        };
        let mut by_sku = self
            .store
            .order_item_ids_by_sku(account.id, &claim.order_id)
            .await
            .map_err(storage)?;
        if unresolved(&by_sku) {
            let items = api
                .orders_by_id(account, std::slice::from_ref(&claim.order_id))
                .await
                .map_err(WritebackResult::from)?
                .into_iter()
                .find(|o| o.order_id == claim.order_id)
                .and_then(|o| o.items)
                .unwrap_or_default();
            // Written from a task of its own: this attempt is polled beside the batch's
            // result writes, and a write transaction left open while it is not polled
            // would hold SQLite's lock against them.
            let store = self.store.clone();
            let (account_id, order_id, lines) = (account.id, claim.order_id.clone(), items.clone());
            tokio::spawn(
                async move { store.save_order_items(account_id, &order_id, &lines).await },
            )
            .await
            .map_err(|e| storage(StoreError::TaskEnded(e)))?
            .map_err(storage)?;
            by_sku = items
                .into_iter()
                .filter_map(|i| Some((i.sku?, i.order_item_id)))
                .collect();
        }
        let mut resolved = claim.clone();
        for item in resolved
            .items
            .iter_mut()
            .filter(|i| i.order_item_id.is_empty())
        {
            let sku = item.sku.clone().unwrap_or_default();
            match by_sku.get(&sku) {
                Some(id) => item.order_item_id = id.clone(),
                None => {
                    return Err(WritebackResult::Permanent {
                        http_status: None,
                        code: "UnknownSku".into(),
                        message: format!(
                            "SKU '{sku}' is not a line of order {} on {}",
                            claim.order_id,
                            account.marketplace.label()
                        ),
                    })
                }
            }
        }
        Ok(Cow::Owned(resolved))
    }

    /// One attempt: the checks that need no call, the read-back of a lost answer,
    /// then the write-back; and the record of what it leaves the shipment in. The flag
    /// says the shipment was found written back on read-back.
    async fn attempt(
        &self,
        target: Result<(&Account, &Arc<dyn MarketplaceAdapter>), WritebackResult>,
        claim: ClaimedShipment,
        order: Option<&ImportedOrder>,
        pauses: &HashMap<String, ApiPause>,
    ) -> (AttemptRecord, bool) {
        let started_at = now_millis();
        let clock = Instant::now();
        let mut read_back = false;
        // Whether the write-back call itself went out: only then can its outcome be
        // unknown (a read that failed before it changed nothing).
        let sent = std::sync::atomic::AtomicBool::new(false);
        let account = target_account(&target);
        let api_kind = target.as_ref().ok().and_then(|(account, api)| {
            api.api_for(account, crate::marketplaces::Operation::WriteBack)
        });
        let result = match target {
            Err(result) => result,
            Ok((account, api)) => {
                let call = async {
                    let resolved = match self.resolve_items(account, api.as_ref(), &claim).await {
                        Ok(resolved) => resolved,
                        Err(result) => return (result, false),
                    };
                    if let Err(refusal) = check_ship_date(&resolved) {
                        return (refusal, false);
                    }
                    if let Some(order) = order {
                        if let Err(refusal) = check_against_order(account, &resolved, order) {
                            return (refusal, false);
                        }
                    }
                    // An earlier call's answer was lost: it may have taken effect. Ask the
                    // marketplace before sending anything again (if it cannot say, the
                    // shipment waits), and send only what it does not hold yet.
                    let mut resolved = resolved;
                    if claim.outcome_unknown {
                        match api.lines_held(account, &resolved).await {
                            Ok(held)
                                if resolved
                                    .items
                                    .iter()
                                    .all(|i| held.contains(&i.order_item_id)) =>
                            {
                                return (confirmed_on_read_back(), true)
                            }
                            Ok(held) => {
                                if !held.is_empty() {
                                    resolved
                                        .to_mut()
                                        .items
                                        .retain(|i| !held.contains(&i.order_item_id));
                                }
                            }
                            Err(failure) => return (failure.into(), false),
                        }
                    }
                    sent.store(true, std::sync::atomic::Ordering::Relaxed);
                    (api.write_back(account, &resolved).await, false)
                };
                match tokio::time::timeout(self.config.attempt_timeout, call).await {
                    Ok((result, found)) => {
                        read_back = found;
                        result
                    }
                    Err(_) => WritebackResult::Retryable {
                        http_status: None,
                        code: "Timeout".into(),
                        message: format!(
                            "no answer within {} s",
                            self.config.attempt_timeout.as_secs_f64()
                        ),
                        retry_after: None,
                    },
                }
            }
        };
        let duration_ms = clock.elapsed().as_millis() as i64;
        let ended_at = started_at + duration_ms;
        let trouble = Trouble::of(&result);
        // Whether the call may have taken effect though its answer was lost; a
        // read-back that could not tell keeps what was unknown unknown.
        let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
        let outcome_unknown = match trouble {
            Some(Trouble::Marketplace(outcome)) => {
                (sent && outcome.may_have_applied()) || claim.outcome_unknown
            }
            Some(Trouble::Shipback) => claim.outcome_unknown,
            _ => false,
        };
        let mut record = match (trouble, account) {
            (Some(Trouble::Marketplace(outcome)), Some(account)) => {
                self.paused_record(&claim, account, outcome, &result, pauses, ended_at)
            }
            (Some(Trouble::Shipback), _) => self.shipback_record(&claim, &result, ended_at),
            _ => self.decided_record(&claim, &result, ended_at),
        };
        record.started_at = started_at;
        record.duration_ms = duration_ms;
        record.outcome_unknown = outcome_unknown;
        if !matches!(trouble, Some(Trouble::Marketplace(_) | Trouble::Shipback)) {
            // A probe the marketplace answered about the shipment itself (accepted, or
            // refused for its own content) shows the API works: its pause ends.
            record.resumes = claim
                .waiting_on
                .clone()
                .filter(|key| key.starts_with("api:"));
        }
        // One line per attempt, with what an operator follows a shipment by.
        tracing::info!(
            shipment = %claim.shipment_id,
            account = account.map_or("", |a| a.key.as_str()),
            marketplace = account.map_or("", |a| a.marketplace.label()),
            api = api_kind.map_or("", |k| k.as_str()),
            revision = claim.revision,
            attempt = record.number,
            outcome = record.outcome.as_str(),
            status = record.new_status.as_str(),
            http_status = record.http_status,
            error_code = record.error_code.as_deref(),
            duration_ms,
            read_back,
            "write-back attempt"
        );
        crate::telemetry::attempt(
            account.map_or("", |a| a.marketplace.label()),
            account.map_or("", |a| a.key.as_str()),
            api_kind.map_or("", |k| k.as_str()),
            record.outcome.as_str(),
            Duration::from_millis(duration_ms.max(0) as u64),
        );
        (record, read_back)
    }

    /// The record of a result for the shipment's own fate: the retry schedule decides.
    fn decided_record(
        &self,
        claim: &ClaimedShipment,
        result: &WritebackResult,
        ended_at: i64,
    ) -> AttemptRecord {
        let decision =
            self.config
                .retry
                .decide(claim.error_count as u32, result, &mut rand::thread_rng());
        // A success may carry a warning in its message; it is no error of the shipment.
        let failed = decision.outcome != AttemptOutcome::Success;
        if let Some(message) = &decision.error_message {
            if failed {
                tracing::debug!(shipment = %claim.shipment_id, status = ?decision.status, %message, "write-back failed");
            } else {
                tracing::info!(shipment = %claim.shipment_id, %message, "write-back accepted with a warning");
            }
        }
        let last_error = decision.error_message.as_ref().filter(|_| failed).map(|m| {
            app::shipments::error_line(decision.http_status, decision.error_code.as_deref(), m)
        });
        AttemptRecord {
            row_id: claim.row_id,
            fence: claim.fence,
            revision: claim.revision,
            number: claim.error_count + 1,
            started_at: ended_at,
            duration_ms: 0,
            outcome: decision.outcome,
            http_status: decision.http_status,
            error_code: decision.error_code,
            error_message: decision.error_message,
            new_status: decision.status,
            error_count: decision.error_count as i64,
            next_attempt_at: decision.retry_in.map(|d| ended_at + d.as_millis() as i64),
            last_error,
            outcome_unknown: false,
            waiting_on: None,
            pause: None,
            resumes: None,
        }
    }

    /// The record of a failure that is the marketplace's trouble: no attempt is spent;
    /// the shipment waits on its account's paused write-back queue, with the reason.
    fn paused_record(
        &self,
        claim: &ClaimedShipment,
        account: &Account,
        outcome: CallOutcome,
        result: &WritebackResult,
        pauses: &HashMap<String, ApiPause>,
        ended_at: i64,
    ) -> AttemptRecord {
        let (http_status, code, message, retry_after) = match result {
            WritebackResult::Retryable {
                http_status,
                code,
                message,
                retry_after,
            } => (*http_status, code.clone(), message.clone(), *retry_after),
            _ => (None, String::new(), String::new(), None),
        };
        let key = crate::store::writeback_key(account.id);
        let now = chrono::Utc::now();
        let since = pauses.get(&key).map_or(now, |p| p.since);
        let error = app::shipments::error_line(http_status, Some(&code), &message);
        let reason = triage::pause_reason(account, outcome, since, &error);
        tracing::info!(shipment = %claim.shipment_id, reason = %app::timed_text::draw_utc(&reason), "paused");
        // Throttling ends when the marketplace says (Retry-After, eBay's daily limit);
        // an outage is probed every interval, or later if the marketplace asks.
        let wait = match (outcome, retry_after) {
            (CallOutcome::Throttled, Some(wait)) => wait,
            (_, Some(wait)) => wait.max(self.config.probe_every),
            (_, None) => self.config.probe_every,
        };
        // The marketplace's own word on when to come back wins over the probe schedule.
        let insist = retry_after.is_some();
        let next_probe_at = now
            + chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::seconds(60));
        AttemptRecord {
            row_id: claim.row_id,
            fence: claim.fence,
            revision: claim.revision,
            // Not counted: the marketplace's trouble, not the shipment's.
            number: 0,
            started_at: ended_at,
            duration_ms: 0,
            outcome: AttemptOutcome::RetryableError,
            http_status,
            error_code: Some(code),
            error_message: Some(message),
            new_status: if claim.error_count > 0 {
                WritebackStatus::Retrying
            } else {
                WritebackStatus::Pending
            },
            error_count: claim.error_count,
            next_attempt_at: None,
            last_error: Some(reason.clone()),
            outcome_unknown: false,
            waiting_on: Some(key.clone()),
            pause: Some(ApiPause {
                key,
                account_id: account.id,
                api: "writeback".into(),
                since,
                reason,
                next_probe_at,
                insist,
            }),
            resumes: None,
        }
    }

    /// The record of a failure of Shipback's own (its database): tried again in a
    /// second, nothing spent.
    fn shipback_record(
        &self,
        claim: &ClaimedShipment,
        result: &WritebackResult,
        ended_at: i64,
    ) -> AttemptRecord {
        let mut record = self.decided_record(claim, result, ended_at);
        record.number = 0;
        record.error_count = claim.error_count;
        record.new_status = if claim.error_count > 0 {
            WritebackStatus::Retrying
        } else {
            WritebackStatus::Pending
        };
        record.next_attempt_at = Some(ended_at + 1000);
        record
    }
}

/// The account of a target, if it has one.
fn target_account<'a>(
    target: &Result<(&'a Account, &'a Arc<dyn MarketplaceAdapter>), WritebackResult>,
) -> Option<&'a Account> {
    target.as_ref().ok().map(|(account, _)| *account)
}

/// What a read-back that finds the shipment written back amounts to.
fn confirmed_on_read_back() -> WritebackResult {
    WritebackResult::Accepted {
        http_status: 200,
        warning: Some(
            "confirmed at the marketplace on read-back: the earlier call had taken effect".into(),
        ),
    }
}

/// The marketplaces refuse a ship date in the future (a few minutes aside, for the
/// clocks): such a shipment fails with the reason, without a call.
fn check_ship_date(claim: &ClaimedShipment) -> Result<(), WritebackResult> {
    let latest = chrono::Utc::now() + chrono::Duration::minutes(10);
    if claim.ship_date > latest {
        return Err(WritebackResult::Permanent {
            http_status: None,
            code: "ShipDateInFuture".into(),
            message: format!(
                "the ship date {} is in the future; the marketplaces refuse it",
                claim
                    .ship_date
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        });
    }
    Ok(())
}

/// What the imported order already tells against sending the shipment: a call the
/// marketplace would refuse for the shipment's own content is not made, and the
/// shipment fails with the reason at once.
fn check_against_order(
    account: &Account,
    claim: &ClaimedShipment,
    order: &ImportedOrder,
) -> Result<(), WritebackResult> {
    let refuse = |code: &str, message: String| {
        Err(WritebackResult::Permanent {
            http_status: None,
            code: code.into(),
            message,
        })
    };
    let marketplace = account.marketplace.label();
    if matches!(
        order.status.to_ascii_uppercase().as_str(),
        "CANCELLED" | "CANCELED"
    ) {
        return refuse(
            "OrderCancelled",
            format!(
                "{marketplace} shows order {} cancelled: it is not to be confirmed",
                claim.order_id
            ),
        );
    }
    if let Some(bought) = order.purchase_date {
        if claim.ship_date < bought {
            return refuse(
                "ShipDateBeforePurchase",
                format!(
                    "the ship date {} is before the order's purchase date {}",
                    claim
                        .ship_date
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    bought.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            );
        }
    }
    for item in &claim.items {
        if let Some(ordered) = order.quantities.get(&item.order_item_id) {
            if item.quantity > *ordered {
                return refuse(
                    "QuantityExceedsOrder",
                    format!(
                        "{} of line {} shipped, but the order holds {ordered}",
                        item.quantity, item.order_item_id
                    ),
                );
            }
        }
    }
    Ok(())
}
