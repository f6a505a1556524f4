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
use crate::store::Store;
use crate::web::error::HttpError;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use std::time::Duration;

#[derive(Clone)]
pub struct StatusFeed {
    store: Store,
    idle_after: Duration,
    feed: Feed,
}

impl StatusFeed {
    /// Starts watching the store every `poll`.
    pub fn spawn(store: Store, idle_after: Duration, poll: Duration) -> StatusFeed {
        let (feed, bump) = Feed::new();
        let watched = store.clone();
        tokio::spawn(async move {
            let mut last = None;
            let mut tick = tokio::time::interval(poll);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let (rows, mut waiting, at_risk) = match tokio::try_join!(
                    watched.api_health_signature(),
                    watched.waiting_counts(),
                    watched.deadline_counts()
                ) {
                    Ok(read) => read,
                    Err(e) => {
                        tracing::warn!(error = %e, "status feed cannot read the status");
                        continue;
                    }
                };
                waiting.sort();
                let now = Utc::now().timestamp_millis();
                let idle = idle_after.as_millis() as i64;
                // What a page shows: an API idle for too long is None, whatever was kept.
                let seen: Vec<_> = rows
                    .into_iter()
                    .map(
                        |(account, api, health, sentence, last_call)| match last_call {
                            // A Green sentence only counts calls; the panel does
                            // not show it, so its figures need no push.
                            Some(at) if now - at < idle && health == "green" => {
                                (account, api, health, String::new())
                            }
                            Some(at) if now - at < idle => (account, api, health, sentence),
                            _ => (account, api, "none".to_string(), String::new()),
                        },
                    )
                    .collect();
                let mut at_risk: Vec<_> = at_risk
                    .into_iter()
                    .map(|(account, counts)| (account, counts.due_soon, counts.late))
                    .collect();
                at_risk.sort_unstable();
                let seen = (seen, waiting, at_risk);
                if last.as_ref() != Some(&seen) {
                    last = Some(seen);
                    bump.bump();
                }
            }
        });
        StatusFeed {
            store,
            idle_after,
            feed,
        }
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
        Ok(board) => Ok(Json(board).into_response()),
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
