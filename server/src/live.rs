//! Server-sent events for open pages: a [`Feed`] is a version number that a watcher task
//! bumps when what a page shows has changed; each open event stream sends one event at
//! once and one per bump. An event's data is the version, or, when the bump said what
//! changed, the version and that (`{"version":7,"accounts":["acme-us"]}`): the first
//! event of a stream never says, so a page reads everything once, unless the page's
//! data is as new as that event: every event carries the feed's [stamp](Feed::stamp) as
//! its SSE `id`, and the server writes the stamp it drew a page at into the page. At
//! shutdown every stream ends, so that a graceful shutdown does not wait for open pages.

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::watch;

/// A version, and what changed with it (`None`: not said, read everything).
type Versioned = (u64, Option<Arc<str>>);

#[derive(Clone)]
pub struct Feed {
    /// Random, made with the feed: versions of another process's feed (another
    /// instance behind the same address, or this one before a restart) never match.
    tag: Arc<str>,
    version: watch::Receiver<Versioned>,
    closing: watch::Receiver<bool>,
    close: Arc<watch::Sender<bool>>,
}

/// The watcher's end of a [`Feed`].
pub struct Bump(watch::Sender<Versioned>);

impl Bump {
    pub fn bump(&self) {
        self.0.send_modify(|(v, what)| {
            *v += 1;
            *what = None;
        });
    }

    /// A bump that says what changed: `what` is a JSON value a page can act on.
    pub fn bump_with(&self, what: &serde_json::Value) {
        self.0.send_modify(|(v, detail)| {
            *v += 1;
            let mut data = serde_json::json!({ "version": *v });
            if let (Some(data), Some(what)) = (data.as_object_mut(), what.as_object()) {
                data.extend(what.clone());
            }
            *detail = Some(data.to_string().into());
        });
    }
}

impl Feed {
    pub fn new() -> (Feed, Bump) {
        let (bump, version) = watch::channel((0u64, None));
        let (close, closing) = watch::channel(false);
        (
            Feed {
                tag: format!("{:016x}", rand::random::<u64>()).into(),
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

    /// Where the feed stands: `{tag}.{version}`, the id of the event that announced
    /// this version. Data read after taking the stamp is at least as new as it.
    pub fn stamp(&self) -> String {
        stamp(&self.tag, self.version.borrow().0)
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
            (self.version.clone(), true, client, self.tag.clone()),
            move |(mut version, first, client, tag)| async move {
                if !first {
                    version.changed().await.ok()?;
                }
                let (current, detail) = version.borrow_and_update().clone();
                // A stream's first event cannot say what changed since the page read:
                // the page reads everything (as it does when it sees a version skipped).
                let data = match detail {
                    Some(detail) if !first => detail.to_string(),
                    _ => current.to_string(),
                };
                let event = Event::default()
                    .event(name)
                    .id(stamp(&tag, current))
                    .data(data);
                Some((Ok(event), (version, false, client, tag)))
            },
        )
        .take_until(closed);
        Sse::new(stream).keep_alive(KeepAlive::default())
    }
}

fn stamp(tag: &str, version: u64) -> String {
    format!("{tag}.{version}")
}
