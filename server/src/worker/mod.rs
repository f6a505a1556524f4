//! The durable write-back worker.
//!
//! It claims due shipments in batches under a lease, writes each back through its
//! marketplace's adapter, records the attempt and moves the shipment's status. Several
//! workers (threads or processes) can run against one database: claims never overlap,
//! and a worker only starts a call while its lease has room for the whole call, so two
//! workers never confirm the same shipment at the same time.

pub mod policy;

use crate::accounts::Account;
use crate::carriers;
use crate::marketplaces::{MarketplaceAdapter, Marketplaces, WritebackResult};
use crate::store::{now_millis, AttemptRecord, ClaimedShipment, ImportedOrder, Store, StoreError};
use futures::StreamExt;
pub use policy::RetryPolicy;
use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

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
    /// Shipments left waiting without a call (a carrier nobody mapped yet).
    pub waiting: usize,
}

pub struct Worker {
    store: Store,
    marketplaces: Marketplaces,
    config: WorkerConfig,
    wake: Arc<Notify>,
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
            config,
            wake,
        }
    }

    /// Works until `shutdown` resolves. Storage errors are logged and retried: a busy
    /// or briefly unavailable database must not stop write-backs for good.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        tracing::info!(worker = %self.config.name, "write-back worker started");
        loop {
            let idle = match self.run_batch().await {
                Ok(report) => report.claimed == 0,
                Err(e) => {
                    tracing::error!(error = %e, "write-back batch failed; retrying shortly");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(self.config.idle_poll) => {}
                }
            } else if futures::poll!(&mut shutdown).is_ready() {
                break;
            }
        }
        tracing::info!(worker = %self.config.name, "write-back worker stopped");
    }

    /// Claims one batch of due shipments and writes each back.
    pub async fn run_batch(&self) -> Result<BatchReport, WorkerError> {
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
        // A carrier the account's marketplace would not know is never sent: the
        // shipment waits, with the reason, until an admin maps the name.
        let mappings = self.store.carrier_mappings().await?;
        let mut ready = Vec::with_capacity(claims.len());
        for mut claim in claims {
            let Some(account) = accounts.get(&claim.account_id) else {
                ready.push(claim);
                continue;
            };
            match carriers::resolve(account.marketplace, &claim.carrier, &mappings) {
                Some(carrier) => {
                    claim.marketplace_carrier = Some(carrier);
                    ready.push(claim);
                }
                None => {
                    let (reason, key) = carriers::unmapped(account.marketplace, &claim.carrier);
                    tracing::info!(shipment = %claim.shipment_id, %reason, "waiting");
                    if self
                        .store
                        .wait_for(claim.row_id, claim.fence, &key, &reason)
                        .await?
                    {
                        report.waiting += 1;
                    }
                }
            }
        }
        let claims = ready;
        // What the imported orders tell against each shipment, read in one go: the
        // attempts below run between the batch's writes and must not wait on the pool.
        let wanted: Vec<(i64, String)> = claims
            .iter()
            .map(|c| (c.account_id, c.order_id.clone()))
            .collect();
        let orders = self.store.imported_orders(&wanted).await?;
        let orders = &orders;
        // No call may still be running when the lease runs out: past that point another
        // worker may take the shipment over.
        let last_safe_start = claimed_at
            + self
                .config
                .lease
                .saturating_sub(self.config.attempt_timeout + Duration::from_secs(1));

        let mut results = futures::stream::iter(claims)
            .map(|claim| {
                let target = self.target(accounts.get(&claim.account_id));
                async move {
                    if let Ok((account, api)) = &target {
                        api.writeback_ready(account).await;
                    }
                    if Instant::now() > last_safe_start {
                        return Err((claim.row_id, claim.fence));
                    }
                    let order = orders.get(&(claim.account_id, claim.order_id.clone()));
                    Ok(self.attempt(target, claim, order).await)
                }
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .ready_chunks(256);

        while let Some(chunk) = results.next().await {
            let mut records = Vec::with_capacity(chunk.len());
            let mut released = Vec::new();
            for result in chunk {
                match result {
                    Ok(record) => records.push(record),
                    Err(claim) => released.push(claim),
                }
            }
            if !records.is_empty() {
                report.attempted += records.len();
                report.stale += self
                    .store
                    .record_attempts(&self.config.name, &records)
                    .await?;
            }
            if !released.is_empty() {
                report.released += released.len();
                self.store.release_claims(&released).await?;
            }
        }
        if report.stale > 0 {
            tracing::warn!(
                stale = report.stale,
                "results superseded by a newer claim or correction"
            );
        }
        Ok(report)
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
        if !account.enabled {
            return Err(WritebackResult::Retryable {
                http_status: None,
                code: "AccountDisabled".into(),
                message: format!(
                    "account '{}' is disabled; enable it to write back",
                    account.key
                ),
                retry_after: None,
            });
        }
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
            code: "StorageError".into(),
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
            // Written from a task of its own: this attempt is polled only between the
            // batch's result writes, and a write transaction left open while paused
            // would hold SQLite's lock against them.
            let store = self.store.clone();
            let (account_id, order_id, lines) = (account.id, claim.order_id.clone(), items.clone());
            tokio::spawn(
                async move { store.save_order_items(account_id, &order_id, &lines).await },
            )
            .await
            .map_err(|e| storage(StoreError::Corrupt(format!("saving order lines: {e}"))))?
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

    async fn attempt(
        &self,
        target: Result<(&Account, &Arc<dyn MarketplaceAdapter>), WritebackResult>,
        claim: ClaimedShipment,
        order: Option<&ImportedOrder>,
    ) -> AttemptRecord {
        let started_at = now_millis();
        let clock = Instant::now();
        let result = match target {
            Err(result) => result,
            Ok((account, api)) => {
                let call = async {
                    let resolved = match self.resolve_items(account, api.as_ref(), &claim).await {
                        Ok(resolved) => resolved,
                        Err(result) => return result,
                    };
                    if let Err(refusal) = check_ship_date(&resolved) {
                        return refusal;
                    }
                    if let Some(order) = order {
                        if let Err(refusal) = check_against_order(account, &resolved, order) {
                            return refusal;
                        }
                    }
                    api.write_back(account, &resolved).await
                };
                match tokio::time::timeout(self.config.attempt_timeout, call).await {
                    Ok(result) => result,
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
        let decision =
            self.config
                .retry
                .decide(claim.error_count as u32, &result, &mut rand::thread_rng());
        // A success may carry a warning in its message; it is no error of the shipment.
        let failed = decision.outcome != app::shipments::AttemptOutcome::Success;
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
            started_at,
            duration_ms,
            outcome: decision.outcome,
            http_status: decision.http_status,
            error_code: decision.error_code,
            error_message: decision.error_message,
            new_status: decision.status,
            error_count: decision.error_count as i64,
            next_attempt_at: decision
                .retry_in
                .map(|d| started_at + duration_ms + d.as_millis() as i64),
            last_error,
        }
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
