//! The connection status over HTTP: `GET /api/v1/status` (the board as JSON, for
//! monitoring tools) and `GET /api/v1/status/events` (server-sent events telling open
//! pages that the board changed).
//!
//! A task watches the kept judgements, whoever made them (a worker in this process or
//! elsewhere), together with the idle rule and the shipments waiting behind each API,
//! and the shipments at risk of missing their deadline, and bumps a version each time
//! an API's health, sentence or queue, or an account's at-risk counts, change; each
//! event stream follows that version.

use super::board::status_board;
use crate::live::Feed;
use crate::store::{Store, StoreError};
use crate::web::error::HttpError;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use std::collections::BTreeMap;
use std::time::Duration;

/// What a page shows of the board, per account, and the board's own figures: compared
/// poll to poll to find what changed.
#[derive(Debug, PartialEq)]
struct BoardSignature {
    /// The accounts shown, in order (enabled ones).
    shown: Vec<i64>,
    /// Each account's part: its APIs' health and sentence (as the idle rule shows
    /// them), what waits on it, its at-risk counts, whether its credentials are usable.
    accounts: BTreeMap<i64, AccountPart>,
    /// Shipments waiting across all accounts (carriers nobody mapped too).
    waiting: u64,
    keys: BTreeMap<i64, String>,
}

type AccountPart = (
    Vec<(String, String, String)>,
    Vec<(String, u64)>,
    (u64, u64),
    bool,
);

impl BoardSignature {
    async fn read(store: &Store, idle_after: Duration) -> Result<BoardSignature, StoreError> {
        let (accounts, rows, waiting, at_risk) = tokio::try_join!(
            store.accounts(),
            store.api_health_signature(),
            store.waiting_counts(),
            store.deadline_counts()
        )?;
        let now = Utc::now().timestamp_millis();
        let idle = idle_after.as_millis() as i64;
        let mut parts: BTreeMap<i64, AccountPart> = BTreeMap::new();
        let mut shown = Vec::new();
        let mut keys = BTreeMap::new();
        for account in accounts.iter().filter(|a| a.enabled) {
            shown.push(account.id);
            keys.insert(account.id, account.key.clone());
            let counts = at_risk.get(&account.id).copied().unwrap_or_default();
            parts.insert(
                account.id,
                (
                    Vec::new(),
                    Vec::new(),
                    (counts.due_soon, counts.late),
                    account.unusable.is_some(),
                ),
            );
        }
        for (account, api, health, sentence, last_call) in rows {
            // What a page shows: an API idle for too long is None, whatever was kept;
            // a Green sentence only counts calls, which the panel does not show.
            let shown = match last_call {
                Some(at) if now - at < idle && health == "green" => (api, health, String::new()),
                Some(at) if now - at < idle => (api, health, sentence),
                _ => (api, "none".to_string(), String::new()),
            };
            if let Some(part) = parts.get_mut(&account) {
                part.0.push(shown);
            }
        }
        let mut total = 0;
        for (key, n) in waiting {
            total += n;
            // "api:<id>:writeback", "account:<id>:disabled": an account's own queue.
            let account = key.split(':').nth(1).and_then(|id| id.parse::<i64>().ok());
            if let Some(part) = account.and_then(|id| parts.get_mut(&id)) {
                part.1.push((key, n));
            }
        }
        for part in parts.values_mut() {
            part.1.sort();
        }
        Ok(BoardSignature {
            shown,
            accounts: parts,
            waiting: total,
            keys,
        })
    }
}

#[derive(Clone)]
pub struct StatusFeed {
    store: Store,
    idle_after: Duration,
    feed: Feed,
}

impl StatusFeed {
    /// Starts watching the store every `poll`. Each push names the accounts whose part
    /// of the board changed, so that a page reads those alone
    /// ([`status_board_of`](super::board::status_board_of)); a change to the set of
    /// accounts shown pushes without names, and pages read the whole board.
    ///
    /// The board as it is now is read before this returns: it is what pages served from
    /// here on read themselves, so it is no change to push. (Were it pushed by the
    /// watch's first look, a page that opened its stream first would read the whole
    /// board twice, and a client could not tell that push from a real change.)
    pub async fn spawn(store: Store, idle_after: Duration, poll: Duration) -> StatusFeed {
        let (feed, bump) = Feed::new();
        let watched = store.clone();
        let mut last = match BoardSignature::read(&watched, idle_after).await {
            Ok(now) => Some(now),
            Err(e) => {
                // Its first successful read will push, unnamed: pages read it all.
                tracing::warn!(error = %e, "status feed cannot read the status");
                None
            }
        };
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(poll);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // An interval's first tick is at once: that look was just taken.
            tick.tick().await;
            loop {
                tick.tick().await;
                let seen = match BoardSignature::read(&watched, idle_after).await {
                    Ok(seen) => seen,
                    Err(e) => {
                        tracing::warn!(error = %e, "status feed cannot read the status");
                        continue;
                    }
                };
                match &last {
                    Some(before) if *before == seen => {}
                    Some(before) if before.shown == seen.shown => {
                        let changed: Vec<&str> = seen
                            .accounts
                            .iter()
                            .filter(|(id, part)| before.accounts.get(id) != Some(part))
                            .filter_map(|(id, _)| seen.keys.get(id).map(String::as_str))
                            .collect();
                        bump.bump_with(&serde_json::json!({ "accounts": changed }));
                    }
                    _ => bump.bump(),
                }
                last = Some(seen);
            }
        });
        StatusFeed {
            store,
            idle_after,
            feed,
        }
    }

    /// Where the feed stands (see [`Feed::stamp`](crate::live::Feed::stamp)).
    pub fn stamp(&self) -> String {
        self.feed.stamp()
    }

    /// Ends every open event stream.
    pub fn close(&self) {
        self.feed.close();
    }

    pub fn routes(self) -> Router {
        Router::new()
            .route("/api/v1/status", get(board))
            .route("/api/v1/status/events", get(events))
            .with_state(self)
    }

    pub fn idle_after(&self) -> Duration {
        self.idle_after
    }
}

/// `GET /api/v1/status`, for monitoring tools (a `read` token).
async fn board(State(feed): State<StatusFeed>) -> Result<Response, HttpError> {
    match status_board(&feed.store, feed.idle_after, Utc::now()).await {
        Ok(board) => Ok(Json(board.times_in_utc()).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the connection status");
            // The manual's own words for this state.
            Err(HttpError::Unavailable(
                "Error reading API status: the database could not answer".to_string(),
            ))
        }
    }
}

/// One `status` event at once, then one each time the board changes.
async fn events(State(feed): State<StatusFeed>) -> Response {
    feed.feed.events("status").into_response()
}
