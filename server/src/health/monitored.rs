//! A marketplace adapter that tells the health monitor how each of its calls ended. It
//! wraps the real client, so every operation of every marketplace is seen in one place.

use super::{ApiCall, CallOutcome, HealthMonitor};
use crate::accounts::Account;
use crate::marketplaces::rate_limit::time_spent_pacing;
use crate::marketplaces::{
    ApiFailure, ApiKind, CatalogItem, MarketplaceAdapter, MarketplaceOrder, Operation,
    OrderUpdates, WritebackResult,
};
use crate::records::shipments::ClaimedShipment;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

pub struct Monitored {
    inner: Arc<dyn MarketplaceAdapter>,
    monitor: HealthMonitor,
}

impl Monitored {
    pub fn wrap(
        inner: Arc<dyn MarketplaceAdapter>,
        monitor: HealthMonitor,
    ) -> Arc<dyn MarketplaceAdapter> {
        Arc::new(Monitored { inner, monitor })
    }

    /// Runs `call` and records its outcome against the operation's API.
    async fn observe<T>(
        &self,
        account: &Account,
        operation: Operation,
        call: impl Future<Output = T>,
        judge: impl Fn(&T) -> Judged,
    ) -> T {
        let Some(api) = self.inner.api_for(account, operation) else {
            return call.await;
        };
        let mut pending = PendingCall {
            monitor: &self.monitor,
            account_id: account.id,
            api,
            at: Utc::now(),
            started: Instant::now(),
            done: false,
        };
        let (result, paced) = time_spent_pacing(call).await;
        let latency = pending.started.elapsed().saturating_sub(paced);
        pending.finish(judge(&result), latency.as_millis() as u64);
        result
    }
}

/// A call's outcome with the status and words that explain it.
pub struct Judged {
    outcome: CallOutcome,
    http_status: Option<u16>,
    code: String,
    message: String,
}

impl Judged {
    fn ok() -> Judged {
        Judged {
            outcome: CallOutcome::Ok,
            http_status: None,
            code: String::new(),
            message: String::new(),
        }
    }

    fn failure(http_status: Option<u16>, code: &str, message: &str, retryable: bool) -> Judged {
        Judged {
            outcome: CallOutcome::of_failure(http_status, code, retryable),
            http_status,
            code: code.to_string(),
            // Kept with the calls: a line is enough to explain.
            message: message.chars().take(300).collect(),
        }
    }

    fn of_result<T>(result: &Result<T, ApiFailure>) -> Judged {
        match result {
            Ok(_) => Judged::ok(),
            Err(f) => Judged::failure(f.http_status, &f.code, &f.message, f.retryable),
        }
    }

    fn of_writeback(result: &WritebackResult) -> Judged {
        match result {
            WritebackResult::Accepted { http_status, .. } => Judged {
                http_status: Some(*http_status),
                ..Judged::ok()
            },
            WritebackResult::Retryable {
                http_status,
                code,
                message,
                ..
            } => Judged::failure(*http_status, code, message, true),
            WritebackResult::Permanent {
                http_status,
                code,
                message,
            } => Judged::failure(*http_status, code, message, false),
        }
    }
}

/// A call on its way. Dropped before it finished (the worker gave up waiting), it
/// counts as a call that got no answer in time.
struct PendingCall<'a> {
    monitor: &'a HealthMonitor,
    account_id: i64,
    api: ApiKind,
    at: DateTime<Utc>,
    started: Instant,
    done: bool,
}

impl PendingCall<'_> {
    fn finish(&mut self, judged: Judged, latency_ms: u64) {
        self.done = true;
        self.monitor.record(
            self.account_id,
            self.api,
            ApiCall {
                at: self.at,
                outcome: judged.outcome,
                latency_ms,
                http_status: judged.http_status,
                code: judged.code,
                message: judged.message,
            },
        );
    }
}

impl Drop for PendingCall<'_> {
    fn drop(&mut self) {
        if !self.done {
            let waited = self.started.elapsed();
            let judged = Judged::failure(
                None,
                "Timeout",
                &format!(
                    "abandoned after {:.1} s without an answer",
                    waited.as_secs_f64()
                ),
                true,
            );
            self.finish(judged, waited.as_millis() as u64);
        }
    }
}

#[async_trait::async_trait]
impl MarketplaceAdapter for Monitored {
    fn api_for(&self, account: &Account, operation: Operation) -> Option<ApiKind> {
        self.inner.api_for(account, operation)
    }

    async fn writeback_ready(&self, account: &Account, deadline: std::time::Instant) -> bool {
        self.inner.writeback_ready(account, deadline).await
    }

    async fn write_back(&self, account: &Account, shipment: &ClaimedShipment) -> WritebackResult {
        self.observe(
            account,
            Operation::WriteBack,
            self.inner.write_back(account, shipment),
            Judged::of_writeback,
        )
        .await
    }

    async fn take_import_turn(&self, account: &Account) -> bool {
        self.inner.take_import_turn(account).await
    }

    async fn orders_updated_since(
        &self,
        account: &Account,
        since: DateTime<Utc>,
    ) -> Result<OrderUpdates, ApiFailure> {
        self.observe(
            account,
            Operation::OrdersUpdatedSince,
            self.inner.orders_updated_since(account, since),
            Judged::of_result,
        )
        .await
    }

    async fn orders_by_id(
        &self,
        account: &Account,
        order_ids: &[String],
    ) -> Result<Vec<MarketplaceOrder>, ApiFailure> {
        self.observe(
            account,
            Operation::OrdersById,
            self.inner.orders_by_id(account, order_ids),
            Judged::of_result,
        )
        .await
    }

    async fn lines_held(
        &self,
        account: &Account,
        shipment: &ClaimedShipment,
    ) -> Result<Vec<String>, ApiFailure> {
        self.observe(
            account,
            Operation::ReadBack,
            self.inner.lines_held(account, shipment),
            Judged::of_result,
        )
        .await
    }

    async fn catalog_item(
        &self,
        account: &Account,
        item_number: &str,
    ) -> Result<Option<CatalogItem>, ApiFailure> {
        self.observe(
            account,
            Operation::CatalogItem,
            self.inner.catalog_item(account, item_number),
            Judged::of_result,
        )
        .await
    }
}
