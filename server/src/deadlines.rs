//! Deadlines: each shipment carries its order's latest ship date (copied by the store
//! when the order is imported), the grid and the CSV show and filter by it
//! (`app::deadlines`), the status panel counts what is at risk per account
//! (`Store::deadline_counts`), and this module announces each shipment that becomes due
//! soon or late to the status webhook as `deadline_at_risk`, once per shipment and
//! threshold across every worker.

use crate::health::webhook::{self, WebhookConfig};
use crate::records::deadlines::{DeadlineAlert, DeadlineThreshold};
use crate::runtime::Shutdown;
use crate::store::Store;
use app::shipments::WritebackStatus;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::hash_map::{Entry, HashMap};
use std::time::Duration;
use tokio::sync::mpsc;

/// Shipments claimed for the webhook per statement; the next statement follows at once
/// while there were as many.
const CLAIM_BATCH: i64 = 500;

#[derive(Clone, Debug)]
pub struct DeadlineWatch {
    /// How often to look for shipments that crossed a threshold.
    pub check_every: Duration,
    pub webhook: WebhookConfig,
}

/// What the webhook receives for one shipment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeadlineMessage {
    /// Always `deadline_at_risk`.
    pub event: &'static str,
    pub threshold: DeadlineThreshold,
    pub shipment_id: String,
    pub order_id: String,
    pub account: String,
    pub account_name: String,
    pub company: String,
    pub marketplace: String,
    pub status: WritebackStatus,
    pub ship_by: DateTime<Utc>,
    /// Whole minutes until the deadline; negative once it has passed.
    pub minutes_left: i64,
    pub warning_minutes: u32,
    pub at: DateTime<Utc>,
}

/// Looks for shipments that crossed a threshold every `check_every` until the shutdown,
/// and hands them to a delivery task that posts them in order, with the status
/// webhook's retries. A claim is marked in the database before it is sent: a process
/// that dies with messages still queued loses them (the status webhook's rule too).
pub async fn watch(store: Store, settings: DeadlineWatch, shutdown: Shutdown) {
    let (queue, mut queued) = mpsc::unbounded_channel::<DeadlineMessage>();
    let delivery = {
        let config = settings.webhook.clone();
        tokio::spawn(async move {
            let http = webhook::client(&config);
            while let Some(message) = queued.recv().await {
                webhook::deliver(&http, &config, "deadline webhook", &message).await;
            }
        })
    };
    let mut every = tokio::time::interval(settings.check_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let checks = async {
        loop {
            every.tick().await;
            if let Err(e) = announce_due(&store, &queue).await {
                tracing::warn!(error = %e, "deadline webhook: cannot read the deadlines");
            }
        }
    };
    tokio::select! {
        _ = checks => {}
        _ = shutdown.wait() => {}
    }
    drop(queue);
    delivery.abort();
}

/// Claims every shipment that crossed a threshold and queues its message.
async fn announce_due(
    store: &Store,
    queue: &mpsc::UnboundedSender<DeadlineMessage>,
) -> Result<(), crate::store::StoreError> {
    // Read once per pass: a batch holds many shipments of few accounts.
    let mut accounts = HashMap::new();
    loop {
        let alerts = store.take_deadline_alerts(CLAIM_BATCH).await?;
        let claimed = alerts.len() as i64;
        for alert in alerts {
            let account = match accounts.entry(alert.account_id) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(new) => new.insert(store.account(alert.account_id).await?),
            };
            let Some(account) = account else {
                continue;
            };
            let _ = queue.send(message(
                alert,
                account,
                store.deadline_warning_minutes(),
                Utc::now(),
            ));
        }
        if claimed < CLAIM_BATCH {
            return Ok(());
        }
    }
}

fn message(
    alert: DeadlineAlert,
    account: &crate::accounts::Account,
    warning_minutes: u32,
    now: DateTime<Utc>,
) -> DeadlineMessage {
    DeadlineMessage {
        event: "deadline_at_risk",
        threshold: alert.threshold,
        shipment_id: alert.shipment_id,
        order_id: alert.order_id,
        account: account.key.clone(),
        account_name: account.display_name.clone(),
        company: account.company.clone(),
        marketplace: account.marketplace.as_str().to_string(),
        status: alert.status,
        ship_by: alert.ship_by,
        minutes_left: (alert.ship_by - now).num_minutes(),
        warning_minutes,
        at: now,
    }
}
