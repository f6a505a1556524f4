//! The status webhook: a JSON message when an API turns Red and when it recovers,
//! retried with growing waits while the receiver fails.

use super::Assessment;
use crate::store::Store;
use app::health::{Health, HealthFigures};
use app::marketplace::ApiKind;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Clone, Debug)]
pub struct WebhookConfig {
    pub url: String,
    /// Tries per message, the first one included.
    pub attempts: u32,
    /// Wait before the first retry, doubled before each further one.
    pub first_retry: Duration,
    pub timeout: Duration,
}

impl WebhookConfig {
    /// The webhook at `url`, which must be an http or https URL.
    pub fn parse(url: &str) -> Result<WebhookConfig, String> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| format!("--status-webhook '{url}' is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "--status-webhook '{url}' must be an http or https URL"
            ));
        }
        Ok(WebhookConfig::new(url.to_string()))
    }

    pub fn new(url: String) -> WebhookConfig {
        WebhookConfig {
            url,
            attempts: 6,
            first_retry: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ChangeKind {
    #[serde(rename = "api_down")]
    Down,
    #[serde(rename = "api_recovered")]
    Recovered,
}

/// An API that turned Red or recovered from Red.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusChange {
    pub kind: ChangeKind,
    pub account_id: i64,
    pub api: ApiKind,
    pub previous: Option<Health>,
    pub health: Health,
    pub sentence: String,
    pub figures: HealthFigures,
    pub at: DateTime<Utc>,
}

impl StatusChange {
    /// The change from `previous` to `verdict`, if it is one the webhook reports:
    /// turning Red, or leaving Red for Green or Yellow. Leaving Red for None (the API
    /// stopped calling) is not a recovery: nobody knows.
    pub fn detect(
        previous: Option<Health>,
        verdict: &Assessment,
        account_id: i64,
        api: ApiKind,
        at: DateTime<Utc>,
    ) -> Option<StatusChange> {
        let kind = match (previous, verdict.health) {
            (Some(Health::Red), Health::Red) => return None,
            (_, Health::Red) => ChangeKind::Down,
            (Some(Health::Red), Health::Green | Health::Yellow) => ChangeKind::Recovered,
            _ => return None,
        };
        Some(StatusChange {
            kind,
            account_id,
            api,
            previous,
            health: verdict.health,
            sentence: verdict.sentence.clone(),
            figures: verdict.figures.clone(),
            at,
        })
    }
}

/// What the webhook receives.
#[derive(Clone, Debug, Serialize)]
pub struct WebhookMessage {
    pub event: ChangeKind,
    pub account: String,
    pub account_name: String,
    pub company: String,
    pub marketplace: String,
    pub api: ApiKind,
    pub health: Health,
    pub previous_health: Option<Health>,
    pub sentence: String,
    pub figures: HealthFigures,
    pub at: DateTime<Utc>,
}

/// Starts the delivery task; messages are delivered one after another, in order, so
/// that a recovery never arrives before its outage.
pub fn spawn(config: WebhookConfig, store: Store) -> mpsc::UnboundedSender<StatusChange> {
    let (sender, mut changes) = mpsc::unbounded_channel::<StatusChange>();
    let http = client(&config);
    tokio::spawn(async move {
        while let Some(change) = changes.recv().await {
            let account = match store.account(change.account_id).await {
                Ok(Some(account)) => account,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "status webhook: cannot read the account");
                    continue;
                }
            };
            let message = WebhookMessage {
                event: change.kind,
                account: account.key,
                account_name: account.display_name,
                company: account.company,
                marketplace: account.marketplace.as_str().to_string(),
                api: change.api,
                health: change.health,
                previous_health: change.previous,
                sentence: app::timed_text::draw_utc(&change.sentence).into_owned(),
                figures: change.figures,
                at: change.at,
            };
            deliver(&http, &config, "status webhook", &message).await;
        }
    });
    sender
}

/// A client for the webhook's receiver, with its timeout.
pub fn client(config: &WebhookConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(config.timeout)
        .build()
        .expect("the webhook client's fixed settings are valid")
}

/// Posts one message until the receiver answers 2xx or the tries run out. `what` names
/// the message in the log.
pub async fn deliver(
    http: &reqwest::Client,
    config: &WebhookConfig,
    what: &str,
    message: &impl Serialize,
) -> bool {
    let mut wait = config.first_retry;
    for attempt in 1..=config.attempts.max(1) {
        let outcome = http.post(&config.url).json(message).send().await;
        let why = match outcome {
            Ok(response) if response.status().is_success() => return true,
            Ok(response) => format!("answered {}", response.status()),
            Err(e) => crate::marketplaces::describe(&e),
        };
        if attempt == config.attempts.max(1) {
            tracing::error!(url = %config.url, attempts = attempt, %why, "{what}: gave up");
            break;
        }
        tracing::warn!(url = %config.url, attempt, %why, "{what} failed; retrying in {wait:?}");
        tokio::time::sleep(wait).await;
        wait = wait.saturating_mul(2);
    }
    false
}
