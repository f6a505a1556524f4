//! `GET /api/v1/events/shipments`: a `shipments` event each time what the shipments
//! screen shows has changed (a commit by the worker, the sync, the station or a person
//! that moved the shipments change counter), at most every `min_gap`, so that open grids
//! refresh themselves within a second without polling. Other commits (the audit log,
//! sessions, tokens, API health) send nothing.

use crate::live::Feed;
use crate::store::{Store, StoreError, Topic};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::time::Duration;

#[derive(Clone)]
pub struct ShipmentsFeed {
    feed: Feed,
}

impl ShipmentsFeed {
    /// Waits for changes (SQLite: looks every `poll`; PostgreSQL: is told); tells
    /// pages at most every `min_gap`.
    pub async fn spawn(
        store: &Store,
        poll: Duration,
        min_gap: Duration,
    ) -> Result<ShipmentsFeed, StoreError> {
        let mut watcher = store.change_watcher(Topic::Shipments).await?;
        let (feed, bump) = Feed::new();
        tokio::spawn(async move {
            loop {
                match watcher.changed(poll).await {
                    Ok(()) => {
                        bump.bump();
                        tokio::time::sleep(min_gap.saturating_sub(poll)).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "shipments feed cannot read the database");
                        tokio::time::sleep(poll).await;
                    }
                }
            }
        });
        Ok(ShipmentsFeed { feed })
    }

    /// Where the feed stands (see [`Feed::stamp`]).
    pub fn stamp(&self) -> String {
        self.feed.stamp()
    }

    /// Ends every open event stream.
    pub fn close(&self) {
        self.feed.close();
    }

    pub fn routes(self) -> Router {
        Router::new()
            .route("/api/v1/events/shipments", get(events))
            .with_state(self)
    }
}

async fn events(State(feed): State<ShipmentsFeed>) -> Response {
    feed.feed.events("shipments").into_response()
}
