//! Server-sent events for open pages: a [`Feed`] is a version number that a watcher task
//! bumps when what a page shows has changed; each open event stream sends one event at
//! once and one per bump. At shutdown every stream ends, so that a graceful shutdown
//! does not wait for open pages.

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Clone)]
pub struct Feed {
    version: watch::Receiver<u64>,
    closing: watch::Receiver<bool>,
    close: Arc<watch::Sender<bool>>,
}

/// The watcher's end of a [`Feed`].
pub struct Bump(watch::Sender<u64>);

impl Bump {
    pub fn bump(&self) {
        self.0.send_modify(|v| *v += 1);
    }
}

impl Feed {
    pub fn new() -> (Feed, Bump) {
        let (bump, version) = watch::channel(0u64);
        let (close, closing) = watch::channel(false);
        (
            Feed {
                version,
                closing,
                close: Arc::new(close),
            },
            Bump(bump),
        )
    }

    /// Ends every open event stream, now and from now on.
    pub fn close(&self) {
        self.close.send_replace(true);
    }

    /// An event stream of `name` events whose data is the version.
    pub fn events(&self, name: &'static str) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
        let mut closing = self.closing.clone();
        let closed = async move {
            let _ = closing.wait_for(|closed| *closed).await;
        };
        // Counted open while the stream lives (it is dropped when the page goes).
        let client = crate::telemetry::SseClient::open(name);
        let stream = futures::stream::unfold(
            (self.version.clone(), true, client),
            move |(mut version, first, client)| async move {
                if !first {
                    version.changed().await.ok()?;
                }
                let current = *version.borrow_and_update();
                let event = Event::default().event(name).data(current.to_string());
                Some((Ok(event), (version, false, client)))
            },
        )
        .take_until(closed);
        Sse::new(stream).keep_alive(KeepAlive::default())
    }
}
