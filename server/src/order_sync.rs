//! The order sync: besides write-backs, each account's other APIs are used on a
//! schedule. It imports orders with their lines and ship-by windows (Amazon Orders API
//! 2026-01-01 `searchOrders`, eBay `GetOrders`), reads written-back orders back to see
//! them shipped and which package the marketplace holds (Amazon `getOrder`, eBay
//! `GetOrders`), and keeps the catalog data of the items shipped (Amazon
//! `getCatalogItem`) fresh.

use crate::accounts::Account;
use crate::marketplaces::{ApiFailure, ApiKind, MarketplaceAdapter, Marketplaces};
use crate::store::{now_millis, Store, StoreError};
use chrono::Utc;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct OrderSyncConfig {
    /// How often each account's orders are imported.
    pub import_every: Duration,
    /// How far back the first import of an account reaches.
    pub first_import_lookback: Duration,
    /// How long to wait before reading an order again that was not yet shown shipped.
    pub recheck_after: Duration,
    /// Reads of a written-back order before Shipback stops asking.
    pub max_checks: i64,
    /// Catalog data older than this is fetched again.
    pub catalog_refresh: Duration,
    /// How often the sync looks for work.
    pub tick: Duration,
}

impl Default for OrderSyncConfig {
    fn default() -> Self {
        OrderSyncConfig {
            import_every: Duration::from_secs(120),
            first_import_lookback: Duration::from_secs(3 * 24 * 3600),
            recheck_after: Duration::from_secs(300),
            max_checks: 5,
            catalog_refresh: Duration::from_secs(24 * 3600),
            tick: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OrderSyncError {
    #[error("sync storage error: {0}")]
    Store(#[from] StoreError),
    #[error("account '{account}': {failure}")]
    Api {
        account: String,
        #[source]
        failure: ApiFailure,
    },
}

/// What one pass did, for tests and logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub orders_imported: usize,
    pub orders_checked: usize,
    pub catalog_items_fetched: usize,
}

impl std::ops::AddAssign for SyncReport {
    fn add_assign(&mut self, other: SyncReport) {
        self.orders_imported += other.orders_imported;
        self.orders_checked += other.orders_checked;
        self.catalog_items_fetched += other.catalog_items_fetched;
    }
}

pub struct OrderSync {
    store: Store,
    marketplaces: Marketplaces,
    config: OrderSyncConfig,
}

/// Orders read back per account and pass: within Amazon's `getOrder` burst (30), one
/// eBay `GetOrders` call.
const CHECKS_PER_PASS: u32 = 30;
const CATALOG_PER_PASS: u32 = 20;

impl OrderSync {
    pub fn new(store: Store, marketplaces: Marketplaces, config: OrderSyncConfig) -> OrderSync {
        OrderSync {
            store,
            marketplaces,
            config,
        }
    }

    /// Syncs every enabled account until `shutdown` resolves; one account's trouble
    /// does not hold up the others.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let this = Arc::new(self);
        tokio::pin!(shutdown);
        let mut last_import: std::collections::HashMap<i64, std::time::Instant> =
            Default::default();
        loop {
            match this.store.accounts().await {
                Err(e) => tracing::error!(error = %e, "sync cannot read the accounts"),
                Ok(accounts) => {
                    let passes = accounts.into_iter().filter(|a| a.enabled).map(|account| {
                        let import = last_import
                            .get(&account.id)
                            .is_none_or(|t| t.elapsed() >= this.config.import_every);
                        if import {
                            last_import.insert(account.id, std::time::Instant::now());
                        }
                        let this = this.clone();
                        async move {
                            if let Err(e) = this.sync_account(&account, import).await {
                                tracing::warn!(error = %e, "marketplace sync pass failed");
                            }
                        }
                    });
                    let all = futures::future::join_all(passes);
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = all => {}
                    }
                }
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(this.config.tick) => {}
            }
        }
    }

    /// One pass over one account: import (when `import`), lines, checks, catalog.
    pub async fn sync_account(
        &self,
        account: &Account,
        import: bool,
    ) -> Result<SyncReport, OrderSyncError> {
        let Some(adapter) = self.marketplaces.adapter(account.marketplace) else {
            return Ok(SyncReport::default());
        };
        let mut report = SyncReport::default();
        if import {
            report.orders_imported = self
                .import_orders(account, adapter.as_ref())
                .await
                .map_err(|e| e.into_sync(account))?;
        }
        report.orders_checked = self
            .check_written_back(account, adapter.as_ref())
            .await
            .map_err(|e| e.into_sync(account))?;
        if account.marketplace.apis().contains(&ApiKind::Products) {
            report.catalog_items_fetched = self
                .refresh_catalog(account, adapter.as_ref())
                .await
                .map_err(|e| e.into_sync(account))?;
        }
        Ok(report)
    }

    async fn import_orders(
        &self,
        account: &Account,
        adapter: &dyn MarketplaceAdapter,
    ) -> Result<usize, PassError> {
        let since = match self.store.import_cursor(account.id).await? {
            Some(cursor) => cursor,
            None => {
                Utc::now()
                    - chrono::Duration::from_std(self.config.first_import_lookback)
                        .unwrap_or_else(|_| chrono::Duration::days(3))
            }
        };
        if !adapter.take_import_turn(account).await {
            tracing::debug!(account = %account.key, "order import waits for the usage plan");
            return Ok(0);
        }
        let updates = adapter.orders_updated_since(account, since).await?;
        self.store.save_orders(account.id, &updates.orders).await?;
        // Never move the cursor back: a marketplace clock behind ours re-reads a little.
        self.store
            .set_import_cursor(account.id, updates.complete_until.max(since))
            .await?;
        Ok(updates.orders.len())
    }

    /// Reads written-back orders back from the marketplace: the manual's "marked as
    /// shipped" check. An order not yet shown shipped is read again later.
    async fn check_written_back(
        &self,
        account: &Account,
        adapter: &dyn MarketplaceAdapter,
    ) -> Result<usize, PassError> {
        let due = self
            .store
            .due_order_checks(account.id, now_millis(), CHECKS_PER_PASS)
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let ids: Vec<String> = due.iter().map(|c| c.order_id.clone()).collect();
        let orders = adapter.orders_by_id(account, &ids).await?;
        self.store.save_orders(account.id, &orders).await?;
        let sent = self.store.sent_packages(account.id, &ids).await?;
        let confirmed: std::collections::HashSet<&str> = orders
            .iter()
            .filter(|o| holds_what_was_sent(account, o, &sent))
            .map(|o| o.order_id.as_str())
            .collect();
        let (done, again): (Vec<_>, Vec<_>) = due.iter().partition(|c| {
            confirmed.contains(c.order_id.as_str()) || c.attempts + 1 >= self.config.max_checks
        });
        let done: Vec<String> = done.into_iter().map(|c| c.order_id.clone()).collect();
        let again: Vec<String> = again.into_iter().map(|c| c.order_id.clone()).collect();
        self.store.finish_order_checks(account.id, &done).await?;
        let later = now_millis() + self.config.recheck_after.as_millis() as i64;
        self.store
            .postpone_order_checks(account.id, &again, later)
            .await?;
        Ok(due.len())
    }

    async fn refresh_catalog(
        &self,
        account: &Account,
        adapter: &dyn MarketplaceAdapter,
    ) -> Result<usize, PassError> {
        let stale_before = now_millis() - self.config.catalog_refresh.as_millis() as i64;
        let items = self
            .store
            .catalog_items_to_refresh(account.id, stale_before, CATALOG_PER_PASS)
            .await?;
        let mut fetched = 0;
        for item_number in items {
            let item = adapter.catalog_item(account, &item_number).await?;
            self.store
                .save_catalog_item(account.id, &item_number, item.as_ref())
                .await?;
            fetched += 1;
        }
        Ok(fetched)
    }
}

/// Whether the marketplace holds what Shipback wrote back for `order`: every Success
/// shipment's tracking number on a package of the order (for Amazon, on the package of
/// the shipment's own reference). A marketplace that reports no packages is taken at
/// its word that the order is shipped.
fn holds_what_was_sent(
    account: &Account,
    order: &crate::marketplaces::MarketplaceOrder,
    sent: &[(String, String, String)],
) -> bool {
    if order.packages.is_empty() {
        return order.shipped;
    }
    let by_reference = account.marketplace == crate::accounts::MarketplaceKind::Amazon;
    sent.iter()
        .filter(|(order_id, _, _)| *order_id == order.order_id)
        .all(|(_, reference, tracking)| {
            order.packages.iter().any(|p| {
                p.tracking_number == *tracking && (!by_reference || p.reference_id == *reference)
            })
        })
}

/// A pass fails on the marketplace or on storage.
enum PassError {
    Api(ApiFailure),
    Store(StoreError),
}

impl From<ApiFailure> for PassError {
    fn from(f: ApiFailure) -> PassError {
        PassError::Api(f)
    }
}

impl From<StoreError> for PassError {
    fn from(e: StoreError) -> PassError {
        PassError::Store(e)
    }
}

impl PassError {
    fn into_sync(self, account: &Account) -> OrderSyncError {
        match self {
            PassError::Api(failure) => OrderSyncError::Api {
                account: account.key.clone(),
                failure,
            },
            PassError::Store(e) => OrderSyncError::Store(e),
        }
    }
}
